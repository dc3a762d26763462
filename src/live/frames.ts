import type { TelemetryEvent } from '../catalog/types.js';
import { dataJson, isoTime } from '../core/json.js';
import { matchPattern } from '../core/patterns.js';
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
 */
export function traceFrame(events: readonly TelemetryEvent[], describe: (type: string) => string): string {
  let out = 'event: trace\ndata: [';
  for (let i = 0; i < events.length; i++) {
    if (i > 0) out += ',';
    out += eventJSON(events[i] as TelemetryEvent, describe);
  }
  return `${out}]\n\n`;
}

const texts = new Map<string, string>();

function eventJSON(event: TelemetryEvent, describe: (type: string) => string): string {
  let text = texts.get(event.type);
  if (text === undefined) {
    text = JSON.stringify(describe(event.type));
    if (texts.size < 8192) texts.set(event.type, text);
  }
  const data = event.data;
  // A replacer slows JSON.stringify down a lot: only data that needs one gets it.
  const json = dataJson(data);
  const span =
    event.spanId === undefined
      ? ''
      : typeof event.spanId === 'number'
        ? `,"spanId":${event.spanId}`
        : `,"spanId":${JSON.stringify(event.spanId)}`;
  return `{"id":${event.id},"createdAt":"${isoTime(event.timestamp)}","type":"${event.type}","level":"${event.level}","text":${text}${span},"data":${json}}`;
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
  return `event: metrics\ndata: ${JSON.stringify(stalwartMetrics(snapshot.metrics))}\n\n`;
}

/** The snapshot narrowed to metrics whose name matches one of `patterns` (all when empty). */
export function selectMetrics(snapshot: MetricsSnapshot, patterns: readonly string[]): MetricsSnapshot {
  if (patterns.length === 0 || patterns.includes('*')) return snapshot;
  return {
    timestamp: snapshot.timestamp,
    metrics: snapshot.metrics.filter((m) => patterns.some((p) => matchPattern(p, m.name))),
  };
}
