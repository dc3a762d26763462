import { dataJson, eventId, isoTime, scalarJson, stringJson } from '../base/json.js';
import { LEVELS } from '../base/levels.js';
import { matchPattern } from '../base/patterns.js';
import type { TelemetryEvent } from '../catalog/types.js';
import { EventRecord, eventDataJson } from '../core/event.js';
import type { MetricSnapshot, MetricsSnapshot } from '../metrics/registry.js';

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
  return traceFrameOf(traceItems(events, describe));
}

/** A trace frame around items joined by {@link traceItems}. */
export function traceFrameOf(items: string): string {
  return `event: trace\ndata: [${items}]\n\n`;
}

/** The frame items of `events`, comma-separated; an event that cannot be written at all is left out. */
export function traceItems(events: readonly TelemetryEvent[], describe: (type: string) => string, before = ''): string {
  let out = before;
  for (let i = 0; i < events.length; i++) {
    const json = eventJSON(events[i] as TelemetryEvent, describe);
    if (json === undefined) continue;
    out += out === '' ? json : `,${json}`;
  }
  return out;
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
    metrics: snapshot.metrics.filter((m) => patterns.some((p) => matchPattern(p, m.name))),
  };
}
