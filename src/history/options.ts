import { TelemetryConfigError } from '../base/errors.js';
import type { Level } from '../base/levels.js';
import { checkMetricPatterns } from '../base/patterns.js';
import { callback, duration, integer, level, MAX_TIMER, patterns, section, selection } from '../base/validate.js';
import { AUTHORIZE_EXPECTED } from '../http/auth.js';
import type { HistoryAuthorize } from './handler.js';
import type { HistoryStore } from './store.js';
import type { Trace } from './types.js';

const DAY = 86_400_000;

/** Raw protocol bytes: large, and never useful in a history. */
export const RAW_EVENTS: readonly string[] = ['*.raw-input', '*.raw-output'];

/** Keys the event ring indexes for fast exact and substring queries. */
export const DEFAULT_INDEX_KEYS: readonly string[] = [
  'queueId',
  'remoteIp',
  'from',
  'to',
  'accountName',
  'domain',
  'hostname',
  'messageId',
];

/** Span traces: every event of a span, stored when the span ends. */
export interface TraceHistoryOptions<P extends string = string> {
  /**
   * Event names or wildcards recorded inside spans (span start and end events always are).
   * @default ['*']
   */
  readonly events?: readonly P[];
  /**
   * Event names or wildcards left out of traces.
   * @default ['*.raw-input', '*.raw-output']
   */
  readonly exclude?: readonly P[];
  /**
   * The least severe level recorded inside spans; span start and end events always are. Events
   * below it are not wanted by the traces, so their data functions are never called for them.
   * `'debug'` or `'trace'` records more of each span, and makes those events wanted.
   * @default 'info'
   */
  readonly level?: Level;
  /**
   * Most traces kept; the oldest go first.
   * @default 1000
   */
  readonly capacity?: number;
  /**
   * Milliseconds a trace is kept after its span started.
   * @default 2_592_000_000 (30 days, as Stalwart)
   */
  readonly maxAge?: number;
  /**
   * Most events kept per span: the first `maxSpanEvents - 1`, then a `telemetry.events-dropped`
   * marker, then the end event.
   * @default 2048
   */
  readonly maxSpanEvents?: number;
  /**
   * Most spans collected at once; past it the oldest open span is dropped (and counted).
   * @default 8000
   */
  readonly maxOpenSpans?: number;
  /**
   * Decides which ended spans are stored.
   * @default keeps spans where some event carried a `queueId` or `messageId`
   */
  readonly keep?: (trace: Trace) => boolean;
}

/** Metric series: registry snapshots turned into per-interval points. */
export interface SeriesHistoryOptions {
  /**
   * Milliseconds between snapshots of the metrics registry.
   * @default 60_000
   */
  readonly interval?: number;
  /**
   * Metric names or wildcards recorded.
   * @default ['*']
   */
  readonly metrics?: readonly string[];
  /**
   * Most points kept; the oldest go first. A point takes about 110 bytes in memory; a snapshot
   * makes one per gauge and one per counter or histogram that changed (about 10-30 in a mail server).
   * @default 10_000
   */
  readonly capacity?: number;
  /**
   * Milliseconds a point is kept.
   * @default 604_800_000 (7 days)
   */
  readonly maxAge?: number;
}

/** Options of the history of events, span traces and metric series. `P` is the event-pattern type. */
export interface HistoryOptions<P extends string = string> {
  /**
   * Event names or wildcards kept in the event ring; `[]` keeps none (traces and series still work).
   * @default ['*']
   */
  readonly events?: readonly P[];
  /**
   * Event names or wildcards left out of the event ring.
   * @default ['*.raw-input', '*.raw-output']
   */
  readonly exclude?: readonly P[];
  /**
   * The least severe level the event ring keeps.
   * @default 'info'
   */
  readonly level?: Level;
  /**
   * Most events kept in the ring; the oldest are overwritten.
   * @default 10_000
   */
  readonly capacity?: number;
  /**
   * Milliseconds an event is kept.
   * @default 86_400_000 (24 hours)
   */
  readonly maxAge?: number;
  /**
   * Keys indexed for fast key queries; other keys are still queryable, by a scan.
   * @default ['queueId', 'remoteIp', 'from', 'to', 'accountName', 'domain', 'hostname', 'messageId']
   */
  readonly indexKeys?: readonly string[];
  /**
   * Span traces, or `false` for none.
   * @default {}
   */
  readonly traces?: TraceHistoryOptions<P> | false;
  /**
   * Metric series, or `false` for none.
   * @default {}
   */
  readonly series?: SeriesHistoryOptions | false;
  /**
   * Where history is kept: a `SqliteHistoryStore` from `mail-telemetry/sqlite`, or your own. The
   * history closes it on `shutdown()`.
   * @default an in-memory store sized by the options above
   */
  readonly store?: HistoryStore;
  /**
   * Most events queued for the history before the oldest are dropped (and counted).
   * @default 65_536
   */
  readonly maxQueue?: number;
  /**
   * Decides who may read `handlers.history`: history holds addresses and IPs, so the handler is
   * closed until you say who may read it. Return `true` to answer, `false` or `401` to refuse as
   * unauthenticated, `403` as forbidden; may return a promise. `() => true` opens it (for a route
   * your own middleware already protects).
   * @default undefined (every request gets 401)
   */
  readonly authorize?: HistoryAuthorize;
}

/** Validated trace options. */
export interface ResolvedTraceHistory {
  readonly events: readonly string[] | undefined;
  readonly exclude: readonly string[];
  readonly level: Level;
  readonly capacity: number;
  readonly maxAge: number;
  readonly maxSpanEvents: number;
  readonly maxOpenSpans: number;
  readonly keep: ((trace: Trace) => boolean) | undefined;
}

/** Validated series options. */
export interface ResolvedSeriesHistory {
  readonly interval: number;
  readonly metrics: readonly string[];
  readonly capacity: number;
  readonly maxAge: number;
}

/** Validated history options; `undefined` when history is off. */
export interface ResolvedHistory {
  /** Patterns of the event ring; `undefined` means every event, `[]` none. */
  readonly events: readonly string[] | undefined;
  readonly exclude: readonly string[];
  readonly level: Level;
  readonly capacity: number;
  readonly maxAge: number;
  readonly indexKeys: readonly string[];
  readonly traces: ResolvedTraceHistory | undefined;
  readonly series: ResolvedSeriesHistory | undefined;
  readonly store: HistoryStore | undefined;
  readonly maxQueue: number;
  readonly authorize: HistoryAuthorize | undefined;
}

const KEYS = new Set([
  'events',
  'exclude',
  'level',
  'capacity',
  'maxAge',
  'indexKeys',
  'traces',
  'series',
  'store',
  'maxQueue',
  'authorize',
]);
const TRACE_KEYS = new Set(['events', 'exclude', 'level', 'capacity', 'maxAge', 'maxSpanEvents', 'maxOpenSpans', 'keep']);
const SERIES_KEYS = new Set(['interval', 'metrics', 'capacity', 'maxAge']);
const STORE_METHODS = ['append', 'events', 'traces', 'trace', 'series', 'purge'] as const;
const KEY_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The default series capacity: about 1.1 MiB of points in memory, hours of one-minute snapshots. */
export const DEFAULT_SERIES_CAPACITY = 10_000;

/**
 * Validates `options.history`: `undefined` gives the default in-memory history, `false` none.
 * Nothing is shared from the composition root.
 */
export function resolveHistory(value: unknown, path: string): ResolvedHistory | undefined {
  if (value === false) return undefined;
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value)))
    throw new TelemetryConfigError(path, value, 'an object of history options, or false for no history');
  const o = section(value, path, KEYS);
  const selected = selection(o, path, 'info');
  return {
    events: selected.events,
    exclude: selected.exclude ?? RAW_EVENTS,
    level: selected.level,
    capacity: integer(o.capacity, `${path}.capacity`, 10_000, 1, 50_000_000),
    maxAge: age(o.maxAge, `${path}.maxAge`, DAY),
    indexKeys: indexKeys(o.indexKeys, `${path}.indexKeys`),
    traces: o.traces === false ? undefined : resolveTraces(o.traces, `${path}.traces`),
    series: o.series === false ? undefined : resolveSeries(o.series, `${path}.series`),
    store: o.store === undefined ? undefined : store(o.store, `${path}.store`),
    maxQueue: integer(o.maxQueue, `${path}.maxQueue`, 65_536, 1, 10_000_000),
    authorize: callback<HistoryAuthorize>(o.authorize, `${path}.authorize`, AUTHORIZE_EXPECTED),
  };
}

function resolveTraces(value: unknown, path: string): ResolvedTraceHistory {
  const o = section(value, path, TRACE_KEYS);
  const keep = callback<(trace: Trace) => boolean>(o.keep, `${path}.keep`, 'a function (trace) => boolean');
  return {
    events: patterns(o.events, `${path}.events`),
    exclude: patterns(o.exclude, `${path}.exclude`) ?? RAW_EVENTS,
    level: level(o.level, `${path}.level`, 'info'),
    capacity: integer(o.capacity, `${path}.capacity`, 1000, 1, 10_000_000),
    maxAge: age(o.maxAge, `${path}.maxAge`, 30 * DAY),
    maxSpanEvents: integer(o.maxSpanEvents, `${path}.maxSpanEvents`, 2048, 2, 1_000_000),
    maxOpenSpans: integer(o.maxOpenSpans, `${path}.maxOpenSpans`, 8000, 1, 10_000_000),
    keep,
  };
}

function resolveSeries(value: unknown, path: string): ResolvedSeriesHistory {
  const o = section(value, path, SERIES_KEYS);
  let metrics: readonly string[] = ['*'];
  if (o.metrics !== undefined) {
    checkMetricPatterns(o.metrics, `${path}.metrics`);
    if (o.metrics.length === 0)
      throw new TelemetryConfigError(`${path}.metrics`, o.metrics, 'at least one metric name or wildcard');
    metrics = [...o.metrics];
  }
  return {
    // The interval drives a timer, which takes no longer delay.
    interval: integer(o.interval, `${path}.interval`, 60_000, 10, MAX_TIMER),
    metrics,
    capacity: integer(o.capacity, `${path}.capacity`, DEFAULT_SERIES_CAPACITY, 1, 50_000_000),
    maxAge: age(o.maxAge, `${path}.maxAge`, 7 * DAY),
  };
}

function indexKeys(value: unknown, path: string): readonly string[] {
  if (value === undefined) return DEFAULT_INDEX_KEYS;
  if (!Array.isArray(value)) throw new TelemetryConfigError(path, value, 'an array of key names such as "remoteIp"');
  value.forEach((key: unknown, i) => {
    if (typeof key !== 'string' || !KEY_NAME.test(key))
      throw new TelemetryConfigError(`${path}[${i}]`, key, 'a key name such as "remoteIp"');
  });
  if (value.length > 32) throw new TelemetryConfigError(path, value, 'at most 32 keys');
  return [...new Set(value as string[])];
}

function store(value: unknown, path: string): HistoryStore {
  if (typeof value !== 'object' || value === null)
    throw new TelemetryConfigError(path, value, 'a HistoryStore such as new SqliteHistoryStore(...)');
  const missing = STORE_METHODS.filter((m) => typeof (value as Record<string, unknown>)[m] !== 'function');
  if (missing.length > 0)
    throw new TelemetryConfigError(
      path,
      value,
      'a HistoryStore such as new SqliteHistoryStore(...)',
      `missing ${missing.join(', ')}`,
    );
  return value as HistoryStore;
}

/** A retention age: milliseconds, never a timer, so it has no upper bound. */
function age(value: unknown, path: string, fallback: number): number {
  return duration(value, path, fallback, 1, Number.POSITIVE_INFINITY);
}
