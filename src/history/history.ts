import { closest, describeError, TelemetryConfigError } from '../base/errors.js';
import { matchPattern } from '../base/patterns.js';
import type { Catalog } from '../catalog/catalog.js';
import { KEY_TYPES } from '../catalog/generated.js';
import { COMMON_KEYS, type SpanId } from '../catalog/keys.js';
import type { EventRecord } from '../core/event.js';
import type { MechanismSubscription } from '../core/mechanism.js';
import type { RequestHandler } from '../http/handler.js';
import type { MechanismContext } from '../metrics/api.js';
import { historyHandler } from './handler.js';
import type { ResolvedHistory } from './options.js';
import { resolveEventQuery, resolveSeriesQuery, resolveTraceQuery } from './query.js';
import { type SeriesPoint, type SeriesQuery, SeriesRecorder } from './series.js';
import { type AppendResult, type HistoryRecords, type HistoryStore, MemoryHistoryStore, type RetentionPolicy } from './store.js';
import { TraceCollector } from './traces.js';
import type { EventQuery, HistoryEvent, Page, Trace, TraceQuery, TraceSummary } from './types.js';

/** Emits one of the library's events on the history's behalf. */
type Reporter = (name: string, data: Readonly<Record<string, unknown>>) => void;

/** Open spans older than this are dropped from the collector. */
const MAX_OPEN_SPAN_AGE = 86_400_000;
/** Retention runs this often when no series interval sets the pace. */
const PURGE_INTERVAL = 60_000;

/** Counters of the history's own work. */
export interface HistoryStats {
  /** Spans being collected. */
  readonly openSpans: number;
  /** Open spans dropped: too many at once, or open for over 24 h. */
  readonly abandonedSpans: number;
  /** Ended spans stored, and those the `keep` predicate left out. */
  readonly storedTraces: number;
  readonly skippedTraces: number;
  /** Metric snapshots taken. */
  readonly snapshots: number;
  /**
   * Events the store refused (an event it could not read or write): each costs itself alone, never
   * its batch, and is reported as `telemetry.subscriber-error`.
   */
  readonly rejectedEvents: number;
}

/** `telemetry.history`: events, span traces and metric series, in memory or in a store. */
export interface HistoryApi {
  /** True when history was configured. */
  readonly enabled: boolean;
  /** True when metric series are recorded (so `series()` can answer). */
  readonly recordsSeries: boolean;
  /** Milliseconds between metric snapshots, when series are recorded. */
  readonly seriesInterval: number | undefined;
  /** True when the series of metric `name` are recorded (series on, and `series.metrics` selects it). */
  recordsMetric(name: string): boolean;
  /** Stored events, newest first; rejects with `HistoryQueryError` on a bad query. */
  events(query?: EventQuery): Promise<Page<HistoryEvent>>;
  /** Stored span traces without their events, newest span first. */
  traces(query?: TraceQuery): Promise<Page<TraceSummary>>;
  /** One stored trace with its events, or undefined. */
  trace(id: SpanId): Promise<Trace | undefined>;
  /** Series points of the chosen metrics and time range, oldest first. */
  series(query?: SeriesQuery): Promise<readonly SeriesPoint[]>;
  /** Takes a metric snapshot now (besides the timer's) and returns its points. */
  snapshot(): Promise<readonly SeriesPoint[]>;
  /** Applies retention now (it also runs on a timer). */
  purge(): Promise<void>;
  stats(): HistoryStats;
}

/** The history mechanism: its API and its JSON request handler. */
export interface HistoryMechanism {
  readonly api: HistoryApi;
  readonly handler: RequestHandler;
}

export function createHistory(context: MechanismContext, options: ResolvedHistory | undefined): HistoryMechanism {
  if (options !== undefined) checkIndexKeys(options.indexKeys, context.catalog, 'options.history.indexKeys');
  const api = options === undefined ? disabledApi() : new History(context, options);
  const report = (error: unknown, details: string) =>
    context.report('telemetry.subscriber-error', { id: 'history.handler', reason: describeError(error), details });
  return { api, handler: historyHandler(api, () => context.now(), options?.authorize, report) };
}

/**
 * Index keys must be keys events can carry: the vocabulary, the common keys and the keys host
 * events declare. A typo would otherwise index nothing, silently.
 */
function checkIndexKeys(keys: readonly string[], catalog: Catalog, path: string): void {
  let known: Set<string> | undefined;
  keys.forEach((key, i) => {
    known ??= new Set<string>([...Object.keys(KEY_TYPES), ...COMMON_KEYS, ...catalog.events.flatMap((e) => e.keys)]);
    if (known.has(key)) return;
    const near = closest(key, known);
    throw new TelemetryConfigError(
      `${path}[${i}]`,
      key,
      'a key events carry, such as "remoteIp" or "queueId"',
      near === undefined ? undefined : `did you mean "${near}"?`,
    );
  });
}

class History implements HistoryApi {
  readonly enabled = true;
  readonly recordsSeries: boolean;
  readonly seriesInterval: number | undefined;
  readonly #context: MechanismContext;
  readonly #options: ResolvedHistory;
  readonly #seriesMetrics: readonly string[];
  readonly #store: HistoryStore;
  readonly #retention: RetentionPolicy;
  readonly #subscriptions: MechanismSubscription[] = [];
  readonly #collector: TraceCollector | undefined;
  readonly #recorder: SeriesRecorder | undefined;
  readonly #timer: NodeJS.Timeout;
  #writes = new Set<Promise<void>>();
  #finished: { readonly trace: Trace; readonly messageBearing: boolean }[] = [];
  #stored = 0;
  #skipped = 0;
  #snapshots = 0;
  #rejected = 0;
  #closed = false;

  constructor(context: MechanismContext, options: ResolvedHistory) {
    this.#context = context;
    this.#options = options;
    const { traces, series } = options;
    this.#store =
      options.store ??
      new MemoryHistoryStore({
        events: options.capacity,
        traces: traces?.capacity ?? 1,
        series: series?.capacity ?? 1,
        indexKeys: options.indexKeys,
      });
    this.#retention = {
      events: { maxAge: options.maxAge, capacity: options.capacity },
      traces: { maxAge: traces?.maxAge ?? 1, capacity: traces?.capacity ?? 1 },
      series: { maxAge: series?.maxAge ?? 1, capacity: series?.capacity ?? 1 },
    };
    this.recordsSeries = series !== undefined;
    this.seriesInterval = series?.interval;
    this.#seriesMetrics = series?.metrics ?? [];
    // Queries run seconds or minutes after the fact: a 100 ms window makes one write of the batch.
    const common = {
      lossy: true,
      maxQueue: options.maxQueue,
      maxBatch: 1024,
      errorEvent: 'telemetry.subscriber-error',
      delay: 100,
    };
    if (options.events === undefined || options.events.length > 0) {
      this.#subscriptions.push(
        context.subscribe(
          {
            ...common,
            id: 'history.events',
            path: 'options.history',
            events: options.events,
            exclude: options.exclude,
            level: options.level,
          },
          (batch) => this.#write({ events: batch }, (name, data) => this.#eventsReport(name, data)),
        ),
      );
    }
    if (traces !== undefined) {
      this.#collector = new TraceCollector(context.spans, traces.maxSpanEvents, traces.maxOpenSpans, (trace, messageBearing) =>
        this.#finished.push({ trace, messageBearing }),
      );
      const subscription = context.subscribe(
        {
          ...common,
          id: 'history.traces',
          path: 'options.history.traces',
          events: traces.events,
          exclude: traces.exclude,
          level: traces.level,
          spans: true,
        },
        (batch) => this.#collect(batch, subscription),
      );
      this.#subscriptions.push(subscription);
    }
    if (series !== undefined) {
      this.#recorder = new SeriesRecorder(series.metrics);
      this.#recorder.record(context.metrics.snapshot(), context.now());
    }
    this.#timer = setInterval(() => void this.#tick(), series?.interval ?? PURGE_INTERVAL);
    this.#timer.unref();
    context.attach({
      id: 'history',
      flush: () => this.#flush(),
      close: () => this.#close(),
    });
  }

  recordsMetric(name: string): boolean {
    return this.recordsSeries && this.#seriesMetrics.some((pattern) => matchPattern(pattern, name));
  }

  async events(query?: EventQuery): Promise<Page<HistoryEvent>> {
    const q = resolveEventQuery(query);
    await this.#settle();
    return this.#store.events(q);
  }

  async traces(query?: TraceQuery): Promise<Page<TraceSummary>> {
    const q = resolveTraceQuery(query);
    await this.#settle();
    return this.#store.traces(q);
  }

  async trace(id: SpanId): Promise<Trace | undefined> {
    await this.#settle();
    return this.#store.trace(id);
  }

  async series(query?: SeriesQuery): Promise<readonly SeriesPoint[]> {
    const q = resolveSeriesQuery(query);
    await this.#settle();
    return this.#store.series(q);
  }

  async snapshot(): Promise<readonly SeriesPoint[]> {
    if (this.#recorder === undefined || this.#closed) return [];
    const started = performance.now();
    const points = this.#recorder.record(this.#context.metrics.snapshot(), this.#context.now());
    this.#snapshots++;
    if (points.length > 0) await this.#write({ series: points }, (name, data) => this.#context.report(name, data));
    this.#context.report('telemetry.metrics-stored', { elapsed: performance.now() - started, total: points.length });
    return points;
  }

  async purge(): Promise<void> {
    this.#collector?.sweep(this.#context.now() - MAX_OPEN_SPAN_AGE);
    await this.#store.purge(this.#retention, this.#context.now());
  }

  stats(): HistoryStats {
    return {
      openSpans: this.#collector?.open ?? 0,
      abandonedSpans: this.#collector?.abandoned ?? 0,
      storedTraces: this.#stored,
      skippedTraces: this.#skipped,
      snapshots: this.#snapshots,
      rejectedEvents: this.#rejected,
    };
  }

  async #tick(): Promise<void> {
    try {
      await this.snapshot();
      await this.purge();
    } catch (error) {
      this.#context.report('telemetry.subscriber-error', {
        id: 'history',
        reason: describeError(error),
        details: 'metric snapshot or retention purge failed',
      });
    }
  }

  #collect(batch: readonly EventRecord[], subscription: MechanismSubscription): Promise<void> | undefined {
    const collector = this.#collector as TraceCollector;
    for (const event of batch) collector.add(event);
    if (this.#finished.length === 0) return undefined;
    const finished = this.#finished;
    this.#finished = [];
    const keep = this.#options.traces?.keep;
    const kept: Trace[] = [];
    for (const { trace, messageBearing } of finished) {
      let yes: boolean;
      try {
        // The collector knows whether the span carried a message: `keepsMessages` without a second read.
        yes = keep === undefined ? messageBearing : keep(trace) === true;
      } catch (error) {
        subscription.report('telemetry.subscriber-error', {
          id: 'history.traces',
          reason: describeError(error),
          details: 'the keep predicate threw; the trace was kept',
        });
        yes = true;
      }
      if (yes) {
        this.#stored++;
        kept.push(trace);
      } else this.#skipped++;
    }
    return kept.length === 0 ? undefined : this.#write({ traces: kept }, (name, data) => subscription.report(name, data));
  }

  /**
   * Appends to the store; an asynchronous store's write is tracked so `flush` and queries wait for it.
   * Events the store refused are counted and reported; a failed write rejects to the subscriber,
   * which reports it.
   */
  #write(records: HistoryRecords, report: Reporter): Promise<void> | undefined {
    const result = this.#store.append(records);
    if (!(result instanceof Promise)) {
      this.#refused(result, report);
      return undefined;
    }
    const tracked = result.then(
      (value) => {
        this.#writes.delete(tracked);
        this.#refused(value, report);
      },
      (error: unknown) => {
        this.#writes.delete(tracked);
        throw error;
      },
    );
    this.#writes.add(tracked);
    return tracked;
  }

  #refused(result: unknown, report: Reporter): void {
    // A custom store may answer anything; only a well-formed AppendResult counts.
    if (typeof result !== 'object' || result === null) return;
    const { rejected, reason } = result as Partial<AppendResult>;
    if (typeof rejected !== 'number' || !(rejected > 0)) return;
    this.#rejected += rejected;
    report('telemetry.subscriber-error', {
      id: 'history',
      reason: typeof reason === 'string' ? reason : 'the store refused them',
      details: `${rejected} event(s) could not be stored; the rest of the batch was`,
      total: rejected,
    });
  }

  /** Reports on behalf of the event subscription, so the history never stores its own error report. */
  #eventsReport(name: string, data: Readonly<Record<string, unknown>>): void {
    const events = this.#subscriptions[0];
    if (events !== undefined) events.report(name, data);
    else this.#context.report(name, data);
  }

  async #flush(): Promise<void> {
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
  }

  /** Takes in what the intake windows hold, then waits for the writes: a query sees every event emitted before it. */
  async #settle(): Promise<void> {
    for (const subscription of this.#subscriptions) subscription.deliverNow();
    await this.#flush();
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
    this.#collector?.clear();
    await this.#flush();
    await this.#store.close?.();
  }
}

function disabledApi(): HistoryApi {
  return {
    enabled: false,
    recordsSeries: false,
    seriesInterval: undefined,
    recordsMetric: () => false,
    events: async (query) => {
      resolveEventQuery(query);
      return { items: [] };
    },
    traces: async (query) => {
      resolveTraceQuery(query);
      return { items: [] };
    },
    trace: async () => undefined,
    series: async (query) => {
      resolveSeriesQuery(query);
      return [];
    },
    snapshot: async () => [],
    purge: async () => undefined,
    stats: () => ({ openSpans: 0, abandonedSpans: 0, storedTraces: 0, skippedTraces: 0, snapshots: 0, rejectedEvents: 0 }),
  };
}
