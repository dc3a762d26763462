import { dataJson, eventId, isoTime, scalarJson, stringJson } from '../base/json.js';
import { LEVELS } from '../base/levels.js';
import type { TelemetryEvent } from '../catalog/types.js';
import { EventRecord, eventDataJson } from '../core/event.js';
import type { MetricSnapshot, MetricsSnapshot } from '../metrics/registry.js';
import { item015Json, item016Json } from '../stalwart/events.js';
import { selects, wireName } from '../stalwart/names.js';
import type { StalwartVersion } from '../stalwart/version.js';

/** `event: ping` with the heartbeat interval in ms, as Stalwart sends first and when idle. */
export function pingFrame(interval: number): string {
  return `event: ping\ndata: {"interval":${interval}}\n\n`;
}

/** Sent before a trace frame when a slow reader lost events: Stalwart clients ignore it. */
export function droppedFrame(dropped: number, total: number): string {
  return `event: dropped\ndata: {"dropped":${dropped},"total":${total}}\n\n`;
}

/**
 * `event: trace` with a JSON array of events, each `{id, createdAt, type, level, text, spanId?, data}`:
 * Stalwart's webhook item shape plus the description as `text`, as its 0.15 live items carry.
 * An event that cannot be written at all is left out: it costs itself, never its frame or stream.
 */
export function traceFrame(events: readonly TelemetryEvent[], describe: (type: string) => string): string {
  return traceFrameOf(joinItems(events, (event) => eventJSON(event, describe)));
}

/** How a trace frame starts, before its first item. */
export const TRACE_HEAD = 'event: trace\ndata: [';
/** How a trace frame ends, after its last item. */
export const TRACE_TAIL = ']\n\n';

/** A trace frame around items joined by {@link joinItems}. */
export function traceFrameOf(items: string): string {
  return `${TRACE_HEAD}${items}${TRACE_TAIL}`;
}

/** The items `write` makes of `events`, comma-separated; an item it cannot write (undefined) is left out. */
export function joinItems(events: readonly TelemetryEvent[], write: TraceItemWriter): string {
  const items: string[] = [];
  for (let i = 0; i < events.length; i++) {
    const json = write(events[i] as TelemetryEvent);
    if (json !== undefined) items.push(json);
  }
  return items.join(',');
}

const LEVEL_JSON: ReadonlyMap<string, string> = new Map(LEVELS.map((level) => [level, `"${level}"`]));

function eventJSON(event: TelemetryEvent, describe: (type: string) => string): string | undefined {
  try {
    const spanId = event.spanId;
    // A host may hand anything as a span id: scalarJson writes a valid token whatever it is.
    const span = spanId === undefined ? '' : `,"spanId":${scalarJson(spanId)}`;
    return `{"id":${event instanceof EventRecord ? event.idJson : eventId(event.id)},"createdAt":"${isoTime(event.timestamp)}","type":${stringJson(event.type)},"level":${LEVEL_JSON.get(event.level) ?? scalarJson(event.level)},"text":${stringJson(describe(event.type))}${span},"data":${eventDataJson(event)}}`;
  } catch {
    return undefined;
  }
}

/** One item of a Stalwart 0.16 `event: metrics` frame, plus `labels` for labelled host metrics. */
export interface StalwartMetric {
  readonly metric: string;
  readonly '@type': 'Counter' | 'Gauge' | 'Histogram';
  readonly count: number;
  readonly sum?: number;
  readonly labels?: Readonly<Record<string, string>>;
}

const TYPES = { counter: 'Counter', gauge: 'Gauge', histogram: 'Histogram' } as const;

/** The frame's metrics as Stalwart's live metric items, one per series. */
export function stalwartMetrics(metrics: readonly MetricSnapshot[]): StalwartMetric[] {
  const out: StalwartMetric[] = [];
  for (const m of metrics) {
    for (const series of m.series) {
      const labels = Object.keys(series.labels).length > 0 ? { labels: series.labels } : {};
      if ('counts' in series) out.push({ metric: m.name, '@type': 'Histogram', count: series.count, sum: series.sum, ...labels });
      else out.push({ metric: m.name, '@type': TYPES[m.kind], count: series.value, ...labels });
    }
  }
  return out;
}

/** `event: metrics` with a JSON array of Stalwart metric items. */
export function metricsFrame(snapshot: MetricsSnapshot): string {
  return `event: metrics\ndata: ${dataJson(stalwartMetrics(snapshot.metrics))}\n\n`;
}

/** The snapshot narrowed to metrics whose name matches one of `patterns` (all when empty). */
export function selectMetrics(snapshot: MetricsSnapshot, patterns: readonly string[]): MetricsSnapshot {
  if (patterns.length === 0 || patterns.includes('*')) return snapshot;
  return {
    timestamp: snapshot.timestamp,
    metrics: snapshot.metrics.filter((m) => patterns.some((p) => selects(p, m.name))),
  };
}

/** One trace frame item as JSON, or undefined for an event that cannot be written at all. */
export type TraceItemWriter = (event: TelemetryEvent) => string | undefined;

/**
 * The trace item writer of `version`, chosen once per handler: the library's items by default;
 * Stalwart 0.15's `{text, details, createdAt, type, data}` (`v0.15.5:crates/http/src/management/
 * enterprise/telemetry.rs`); Stalwart 0.16's `{event, timestamp, keyValues}` (`crates/http/src/api/
 * telemetry.rs`, `Trace::build_trace_events`).
 */
export function traceItemWriter(version: StalwartVersion | undefined, describe: (type: string) => string): TraceItemWriter {
  if (version === undefined) return (event) => eventJSON(event, describe);
  const item = version === '0.15' ? (event: TelemetryEvent) => item015Json(event, describe) : item016Json;
  return (event) => {
    try {
      return item(event);
    } catch {
      return undefined;
    }
  };
}

/** One item of a Stalwart 0.15 `event: metrics` frame (the 0.15 admin's `LiveMetric`). */
export type StalwartMetric015 =
  | { readonly id: string; readonly type: 'counter' | 'gauge'; readonly value: number }
  | { readonly id: string; readonly type: 'histogram'; readonly count: number; readonly sum: number };

/** A u64 as the 0.15 admin reads it: a non-negative integer. */
function u64(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

/**
 * The frame's metrics as Stalwart 0.15's live items, one per metric (a labelled host metric's
 * series summed, as Stalwart has no labels), under 0.15's names of renamed events.
 */
export function stalwartMetrics015(metrics: readonly MetricSnapshot[]): StalwartMetric015[] {
  const out: StalwartMetric015[] = [];
  for (const m of metrics) {
    const id = wireName(m.name, '0.15');
    if (m.kind === 'histogram') {
      let count = 0;
      let sum = 0;
      for (const series of m.series) {
        if ('counts' in series) {
          count += series.count;
          sum += series.sum;
        }
      }
      out.push({ id, type: 'histogram', count: u64(count), sum: u64(sum) });
    } else {
      let value = 0;
      for (const series of m.series) if ('value' in series) value += series.value;
      out.push({ id, type: m.kind, value: u64(value) });
    }
  }
  return out;
}

/** The metrics frame writer of `version`: 0.16's items (the library's default too) or 0.15's. */
export function metricsFrameWriter(version: StalwartVersion | undefined): (snapshot: MetricsSnapshot) => string {
  if (version !== '0.15') return metricsFrame;
  return (snapshot) => `event: metrics\ndata: ${dataJson(stalwartMetrics015(snapshot.metrics))}\n\n`;
}
