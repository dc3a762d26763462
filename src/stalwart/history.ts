/**
 * The history handler's bodies as Stalwart 0.15 answers them at the same paths
 * (`v0.15.5:crates/http/src/management/enterprise/telemetry.rs`, `"traces"`, `"trace"` and
 * `"metrics"` arms; `v0.15.5:crates/http/src/management/log.rs`), read by the 0.15 web admin
 * (`webadmin:src/pages/enterprise/tracing/list.rs`, `display.rs`, `dashboard.rs`,
 * `src/pages/manage/logs.rs`). Stalwart 0.16 serves history over JMAP only, so these REST bodies
 * are the Stalwart shape under either version; event names follow the version.
 */
import { scalarJson, stringJson } from '../base/json.js';
import type { SeriesPoint } from '../history/series.js';
import type { HistoryEvent, Trace } from '../history/types.js';
import { type EventLike, item015Json, summary015Json } from './events.js';
import { currentName, wireName } from './names.js';
import { rfc3339, stalwartData } from './values.js';
import type { StalwartVersion } from './version.js';

/** The events Stalwart's `values` list summarises each span by: the first of them in the span. */
const SUMMARY_TYPES = new Set(['delivery.attempt-start', 'queue.message-queued', 'queue.authenticated-message-queued']);

/** A history event as the Stalwart writers read it, its span id in its data (as `with_spans` writes it). */
function eventLike(event: HistoryEvent, spanId: unknown): EventLike {
  const data = event.data ?? {};
  const id = event.spanId ?? spanId;
  return {
    id: event.id,
    type: event.type,
    timestamp: event.timestamp,
    data: id === undefined || Object.hasOwn(data, 'spanId') ? data : { ...data, spanId: id },
  };
}

/** `{"items":[span ids],"total":N}` */
export function traceIdsJson(ids: readonly unknown[], total: number): string {
  return `{"items":[${ids.map((id) => scalarJson(typeof id === 'string' && /^\d{1,15}$/.test(id) ? Number(id) : id)).join(',')}],"total":${total}}`;
}

/**
 * `{"items":[{createdAt,type,data}],"total":N}`: per trace its first `delivery.attempt-start` or
 * `queue.queue-message[-authenticated]`, with span keys and `spanId`; a trace without one is left out.
 */
export function traceSummariesJson(traces: readonly Trace[], total: number, version: StalwartVersion): string {
  const items: string[] = [];
  for (const trace of traces) {
    const event = trace.events.find((e) => SUMMARY_TYPES.has(e.type));
    if (event === undefined) continue;
    try {
      items.push(summary015Json(eventLike(event, trace.id), version));
    } catch {
      // One unreadable event costs its item.
    }
  }
  return `{"items":[${items.join(',')}],"total":${total}}`;
}

/** `trace/{id}`: the span's events as `[{text, details, createdAt, type, data}]`; `[]` for an unknown span. */
export function traceEventsJson(trace: Trace | undefined, describe: (type: string) => string, version: StalwartVersion): string {
  if (trace === undefined) return '[]';
  const items: string[] = [];
  for (const event of trace.events) {
    try {
      items.push(item015Json(eventLike(event, trace.id), describe, version));
    } catch {
      // left out
    }
  }
  return `[${items.join(',')}]`;
}

function u64(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

/** `metrics`: `[{type, id, timestamp, value}]` and `[{type:"histogram", id, timestamp, count, sum}]`, u64 values. */
export function metricPointsJson(points: readonly SeriesPoint[], version: StalwartVersion): string {
  const items: string[] = [];
  for (const p of points) {
    const head = `{"type":"${p.kind}","id":${stringJson(wireName(p.metric, version))},"timestamp":"${rfc3339(p.timestamp)}"`;
    items.push(
      p.kind === 'histogram' ? `${head},"count":${u64(p.count)},"sum":${u64(p.value)}}` : `${head},"value":${u64(p.value)}}`,
    );
  }
  return `[${items.join(',')}]`;
}

/** The catalogue's names of the event types a Stalwart client asks for (0.15 names included). */
export function queryTypes(types: string): string[] {
  return types
    .split(',')
    .map((t) => currentName(t.trim()))
    .filter((t) => t !== '');
}

/** One `/api/logs` item: `{timestamp, level, event, event_id, details}`, as Stalwart reads it from a log line. */
export function logItemJson(event: HistoryEvent, describe: (type: string) => string, version: StalwartVersion): string {
  const data = stalwartData(event.data ?? {}, { errorType: event.type, vocabulary: false, spanId: false });
  const details = Object.entries(data)
    .map(([key, value]) => `${key} = ${logValue(value)}`)
    .join(', ');
  return `{"timestamp":"${rfc3339(event.timestamp)}","level":"${String(event.level).toUpperCase()}","event":${stringJson(describe(event.type))},"event_id":${stringJson(wireName(event.type, version))},"details":${scalarJson(details)}}`;
}

/** A value as Stalwart's text log writes it: strings quoted, lists in brackets, nested events by name. */
function logValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(logValue).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const nested = value as { type?: unknown; data?: unknown };
    const inner = Object.entries((nested.data ?? {}) as Record<string, unknown>)
      .map(([k, v]) => `${k} = ${logValue(v)}`)
      .join(', ');
    return inner === '' ? `(${String(nested.type)})` : `(${String(nested.type)}) { ${inner} }`;
  }
  return String(value);
}
