import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter } from 'eventemitter3';
import { type AlertsApi, createAlerts } from '../alerts/alerts.js';
import { asCause, describeError, describeValue, TelemetryConfigError } from '../base/errors.js';
import { nextId } from '../base/ids.js';
import { Catalog, type EventDefinition } from '../catalog/catalog.js';
import { DISABLED, LEVELS, type Level, severity } from '../catalog/levels.js';
import { createDashboard } from '../dashboard/dashboard.js';
import { createHistory, type HistoryApi } from '../history/history.js';
import type { TelemetryHandlers } from '../http/handler.js';
import { prometheusHandler } from '../http/prometheus.js';
import { createLive, type LiveApi } from '../live/live.js';
import type { MetricsApi } from '../metrics/api.js';
import { expose } from '../metrics/exposition.js';
import { type HistogramOptions, type MetricOptions, MetricsRegistry } from '../metrics/registry.js';
import type { ResolvedTracer } from '../tracing/tracers.js';
import { createWebhooks, type WebhooksApi } from '../webhooks/webhooks.js';
import { EventRecord } from './event.js';
import type { MechanismContext, MechanismSubscribeOptions, MechanismSubscription, Part } from './mechanism.js';
import { type ResolvedOptions, resolveSubscribe } from './options.js';
import { redactBatch } from './redact.js';
import { checkPatterns, compileSelection, hasBit } from './selection.js';
import { type EmitHook, type InternalSinkContext, type Sink, SPAN_EMIT, type SpanEmitHook } from './sink.js';
import { type SpanState, SpanTable } from './spans.js';
import {
  type BatchHandler,
  EmitSubscriber,
  Subscriber,
  type SubscriberHost,
  type SubscriberOptions,
  type SubscriberStats,
} from './subscriber.js';

/** A subscription made with `subscribe`. */
export interface Subscription {
  readonly id: string;
  /** Stops delivery; queued events are discarded and counted as dropped. */
  unsubscribe(): void;
  stats(): SubscriberStats;
}

type Data = Readonly<Record<string, unknown>>;
type Listener = (event: EventRecord) => void;

const ROUTED = 1;
const COUNTED = 2;
const METERED = 4;
const WANTED = ROUTED | COUNTED | METERED;
/** Index entries are `id << FLAG_BITS | flags`. */
const FLAG_BITS = 3;
const NO_ROUTES: readonly Subscriber[] = [];
const MAX_WARNED_NAMES = 100;
const CLOCK_REUSE = 256;

/** What `flush` and `shutdown` could not deliver. */
export interface FlushReport {
  /** True when every queued event reached its consumer within the timeout. */
  readonly complete: boolean;
  /** Events still queued or in flight when the call returned (discarded, for `shutdown`). */
  readonly pending: number;
  /** Subscribers that still had events, with how many. */
  readonly subscribers: readonly { readonly id: string; readonly pending: number }[];
}

/** Counters of the library's own work. */
export interface TelemetryStats {
  readonly openSpans: number;
  /** Open spans removed because they were too old or too many. */
  readonly sweptSpans: number;
  /** Events dropped by all subscribers together. */
  readonly droppedEvents: number;
  /** Emits of names the catalogue does not know (possible only from untyped code). */
  readonly unknownEvents: number;
  /** Emits whose data function threw; those events were not delivered. */
  readonly failedPayloads: number;
  /** Calls of `on()` listeners that threw. */
  readonly listenerFailures: number;
  readonly subscribers: readonly SubscriberStats[];
}

/** A public view of a catalogue entry. */
export interface EventInfo {
  readonly name: string;
  readonly id: number;
  /** The level in effect, after overrides. */
  readonly level: Level | 'disable';
  readonly defaultLevel: Level;
  readonly counter: boolean;
  readonly description: string;
  /** Keys seen with the event; empty means any vocabulary key. */
  readonly keys: readonly string[];
  readonly spanEnd?: string;
  readonly origin: 'builtin' | 'library' | 'host';
}

/** The symbol under which a span handle keeps its state. */
export const SPAN_STATE: unique symbol = Symbol('mail-telemetry.span');

/** A span handle as returned by `span()`. */
export class SpanHandle {
  readonly id: number;
  readonly [SPAN_STATE]: SpanState;
  readonly #runtime: TelemetryRuntime;

  constructor(runtime: TelemetryRuntime, state: SpanState) {
    this.id = state.id;
    this[SPAN_STATE] = state;
    this.#runtime = runtime;
  }

  /** True once `end()` has been called. */
  get ended(): boolean {
    return this[SPAN_STATE].ended;
  }

  /** Emits an event in this span: it carries the span's id and keys. */
  emit(name: string, input?: unknown): void {
    this.#runtime.emitInSpan(this[SPAN_STATE], name, input);
  }

  /** Emits the span's end event (with `elapsed` in ms unless given) and closes it. Later calls do nothing. */
  end(data?: Data): void {
    this.#runtime.endSpan(this[SPAN_STATE], data);
  }
}

/** The untyped engine behind a telemetry instance; `createTelemetry` gives it its typed face. */
export class TelemetryRuntime {
  readonly service: string;
  readonly catalog: Catalog;
  /**
   * Event name → `id << 3 | flags` (ROUTED, COUNTED, METERED). Built with `Object.fromEntries` so it keeps
   * V8's fast properties: a constant-name lookup is an inline-cached load, cheaper than a Map.
   */
  readonly #index: Record<string, number>;
  /** The same entries as `#index`, for lookups from shared call sites. */
  readonly #entries = new Map<string, number>();
  readonly #names: string[];
  readonly #levels: Uint8Array;
  readonly #levelNames: Level[];
  readonly #counts: Float64Array;
  #routes: (readonly Subscriber[])[];
  readonly #subscribers = new Set<Subscriber>();
  readonly #spans: SpanTable;
  readonly #now: () => number;
  #sweepTimer: NodeJS.Timeout | undefined;
  readonly #emitter = new EventEmitter<Record<string, [EventRecord]>>();
  readonly #listeners = new Map<Listener, { bits: Uint32Array; names: string[] }>();
  #listenerSubscriber: Subscriber | undefined;
  /** Span start events with their end events, for sinks. */
  readonly #spanPairs: ReadonlyMap<string, string>;
  readonly #sinks: { readonly sink: Sink; readonly report: (error: unknown, details?: string) => void }[] = [];
  readonly #parts: Part[] = [];
  /** Span start event id → its end event's name ('' for events that start no span). */
  readonly #spanEnds: string[];
  #als: AsyncLocalStorage<SpanState> | undefined;
  #ready: Subscriber[] = [];
  #immediate: NodeJS.Immediate | undefined;
  #closed = false;
  readonly #sensitive: ReadonlySet<string>;
  #shutdown: Promise<FlushReport> | undefined;
  /** True once a sink takes the events of open spans in parts (see `#routeInSpan`). */
  #spanHooks = false;
  #nextSubscriber = 1;
  readonly #host: SubscriberHost = {
    ready: (subscriber) => this.#schedule(subscriber),
    dropped: (subscriber, count) => this.#dropped(subscriber, count),
    failed: (subscriber, error, batch) => this.#subscriberFailed(subscriber, error, batch),
  };
  readonly #registry: MetricsRegistry;
  #memoryTimer: NodeJS.Timeout | undefined;
  /** The metrics registry: event counters, the catalogue's gauges and histograms, the host's own. */
  readonly metrics: MetricsApi;
  /** Request handlers to mount on the host's HTTP server. */
  readonly handlers: TelemetryHandlers;
  readonly webhooks: WebhooksApi;
  readonly history: HistoryApi;
  readonly live: LiveApi;
  readonly alerts: AlertsApi;
  readonly #warned = new Set<string>();
  #sweptSpans = 0;
  #cachedNow = -1;
  #clockReads = 0;
  readonly #expireClock = () => {
    this.#cachedNow = -1;
  };
  #droppedEvents = 0;
  #unknownEvents = 0;
  #failedPayloads = 0;
  #listenerFailures = 0;

  constructor(options: ResolvedOptions) {
    this.service = options.service;
    this.#sensitive = options.sensitiveKeys;
    this.catalog = new Catalog(options.events);
    const size = this.catalog.idSpace;
    this.#index = Object.fromEntries(this.catalog.events.map((e) => [e.name, e.id << FLAG_BITS]));
    this.#names = new Array<string>(size).fill('');
    this.#levels = new Uint8Array(size).fill(DISABLED);
    this.#levelNames = new Array<Level>(size).fill('trace');
    this.#counts = new Float64Array(size);
    this.#routes = new Array<readonly Subscriber[]>(size).fill(NO_ROUTES);
    for (const name of Object.keys(options.levels)) {
      if (this.catalog.get(name) === undefined) {
        const near = this.catalog.suggest(name);
        throw new TelemetryConfigError(
          `options.levels[${JSON.stringify(name)}]`,
          name,
          'a known event name',
          near ? `did you mean "${near}"?` : undefined,
        );
      }
    }
    for (const event of this.catalog.events) {
      const level = options.levels[event.name] ?? event.level;
      this.#names[event.id] = event.name;
      this.#levels[event.id] = severity(level);
      this.#levelNames[event.id] = level === 'disable' ? event.level : level;
    }
    this.#now = options.now;
    this.#registry = new MetricsRegistry(this.catalog, options.metrics, this.#counts, options.now, (metric, reason, value) =>
      this.#report('telemetry.metric-rejected', { id: metric, reason, value: primitive(value) }, this),
    );
    this.metrics = this.#metricsApi(this.#registry);
    this.#registry.sampleMemory();
    this.#spanEnds = this.#names.map((n) => this.catalog.get(n)?.spanEnd ?? '');
    this.#spanPairs = new Map(
      this.catalog.events.flatMap((e) => (e.spanEnd === undefined ? [] : [[e.name, e.spanEnd] as const])),
    );
    for (const tracer of options.tracers) this.#addTracer(tracer);
    this.#spans = new SpanTable(options.maxOpenSpans, options.maxSpanAge, (count) => this.#swept(count));
    // The mechanisms come last: they subscribe through the finished core.
    const context = this.partContext();
    try {
      const history = createHistory(context, options.history);
      const live = createLive(context, options.live);
      this.history = history.api;
      this.live = live.api;
      this.webhooks = createWebhooks(context, options.webhooks);
      this.alerts = createAlerts(context, options.alerts, { history: history.api });
      this.handlers = {
        prometheus: prometheusHandler((format) => this.metrics.prometheus(format), options.metrics.auth),
        liveTracing: live.handlers.liveTracing,
        liveMetrics: live.handlers.liveMetrics,
        history: history.handler,
        dashboard: createDashboard(options.dashboard),
      };
    } catch (error) {
      // A mechanism refused its options: the ones built before it stop their timers.
      this.#closed = true;
      void this.#eachPart('close');
      throw error;
    }
    this.#rebuild();
    // Timers start last, so that a configuration error thrown above leaves none running.
    this.#memoryTimer = setInterval(() => this.#registry.sampleMemory(), options.metrics.memoryInterval);
    this.#memoryTimer.unref();
    this.#sweepTimer = setInterval(() => this.#spans.sweep(this.#now()), options.sweepInterval);
    this.#sweepTimer.unref();
  }

  #metricsApi(registry: MetricsRegistry): MetricsApi {
    return {
      eventCount: (name) => {
        const entry = this.#index[name];
        return typeof entry === 'number' ? (this.#counts[entry >>> FLAG_BITS] ?? 0) : 0;
      },
      eventCounts: () => {
        const out: Record<string, number> = {};
        for (const event of this.catalog.events) if (event.counter) out[event.name] = this.#counts[event.id] ?? 0;
        return out;
      },
      counter: (name, options) => registry.counter(name, options),
      gauge: (name: string, options?: MetricOptions<string>) => registry.gauge(name, options),
      histogram: (name: string, options?: HistogramOptions<string>) => registry.histogram(name, options),
      snapshot: () => registry.snapshot(),
      prometheus: (format = 'text') => expose(registry.collect(), registry.options, format, registry.expositionCache),
      stats: () => registry.stats(),
      collect: () => registry.collect(),
      onObserve: (listener) => registry.onObserve(listener),
    };
  }

  // ── emit path ────────────────────────────────────────────────────────────

  emit(name: string, input?: unknown): void {
    // Kept tiny so V8 inlines it at every call site: an unwanted event costs one load and one test.
    const entry = this.#index[name] as number;
    if ((entry & WANTED) !== 0) this.#wanted(entry, input, undefined);
    else if (typeof entry !== 'number') this.#unknown(name);
  }

  enabled(name: string): boolean {
    const entry = this.#index[name];
    return typeof entry === 'number' && (entry & WANTED) !== 0;
  }

  emitInSpan(span: SpanState, name: string, input?: unknown): void {
    // Called from one shared place (Span.emit) with every name: a keyed load there is megamorphic
    // and costs more than a Map lookup, which does not care how many names it has seen.
    const entry = this.#entries.get(name) as number;
    if ((entry & WANTED) !== 0) this.#wanted(entry, input, span);
    else if (typeof entry !== 'number') this.#unknown(name);
  }

  #wanted(entry: number, input: unknown, span: SpanState | undefined): void {
    const id = entry >>> FLAG_BITS;
    if (entry & COUNTED) this.#counts[id] = (this.#counts[id] as number) + 1;
    if ((entry & (ROUTED | METERED)) === 0) return;
    // Only the wanted path is guarded: a thunk, a getter or a hostile key never throws into the emitter.
    let data: unknown;
    try {
      data = typeof input === 'function' ? input() : input;
      if (entry & METERED) this.#registry.feed(id, data);
    } catch (error) {
      this.#failedPayload(id, error);
      if (data === undefined) return;
    }
    if (entry & ROUTED) {
      try {
        this.#route(id, data, span, undefined);
      } catch (error) {
        this.#failedPayload(id, error);
      }
    }
  }

  span(name: string, data: Data | undefined): SpanHandle {
    const now = this.#spanClock();
    const entry = this.#index[name];
    const endName = typeof entry === 'number' ? (this.#spanEnds[entry >>> FLAG_BITS] ?? '') : '';
    let keys: Data;
    try {
      // A copy, so later changes to the caller's object do not leak in; read-only by type (freezing costs more than the copy).
      keys = { ...data };
    } catch (error) {
      keys = readableKeys(data);
      this.#failedPayload(typeof entry === 'number' ? entry >>> FLAG_BITS : 0, error);
    }
    const state: SpanState = {
      id: nextId(now),
      endName,
      startedAt: now,
      data: keys,
      parentId: this.#als?.getStore()?.id,
      ended: false,
    };
    if (endName === '') this.#unknown(name, 'is not a span start event');
    else if (!this.#closed) this.#spans.open(state, now);
    this.emitInSpan(state, name, data);
    return new SpanHandle(this, state);
  }

  endSpan(span: SpanState, data: Data | undefined): void {
    if (span.ended) return;
    this.#spans.close(span);
    if (span.endName === '') return;
    // Like any event's keys, the caller's object is used as it is when it already has `elapsed`.
    let end: unknown;
    try {
      end = data?.elapsed !== undefined ? data : { ...data, elapsed: this.#spanClock() - span.startedAt };
    } catch {
      end = { elapsed: this.#spanClock() - span.startedAt };
    }
    this.emitInSpan(span, span.endName, end);
  }

  withSpan<T>(span: SpanHandle, fn: () => T): T {
    if (!(span instanceof SpanHandle)) throw new TypeError('withSpan: expected a span from telemetry.span()');
    this.#als ??= new AsyncLocalStorage<SpanState>();
    let run = fn;
    // Sinks that keep their own current span (the OTel tracer's active span) make it current too.
    for (const { sink } of this.#sinks) {
      if (sink.activate === undefined) continue;
      const inner = run;
      run = () => activateIn(sink, span.id, inner);
    }
    return this.#als.run(span[SPAN_STATE], run);
  }

  /** `telemetry.tracer`: span-first calls over the same machinery. */
  readonly tracer = {
    startSpan: (name: string, data: Data | undefined): SpanHandle => this.span(name, data),
    startActiveSpan: <T>(name: string, data: Data | undefined, fn: (span: SpanHandle) => T): T => {
      const span = this.span(name, data);
      return this.withSpan(span, () => fn(span));
    },
  };

  currentSpanId(): number | undefined {
    return this.#als?.getStore()?.id;
  }

  #route(id: number, data: unknown, span: SpanState | undefined, origin: object | undefined): void {
    const own = typeof data === 'object' && data !== null ? (data as Data) : undefined;
    let state = span;
    let spanId: number | string | undefined;
    // An event emitted through a span handle belongs to that span: reading `spanId` from data of
    // every shape is a megamorphic load, paid only by events emitted without a handle.
    if (state !== undefined) spanId = state.id;
    else {
      spanId = own?.spanId as number | string | undefined;
      // Only numbers and strings are span ids: anything else (a Symbol, an object) is no span.
      if (typeof spanId !== 'number' && typeof spanId !== 'string') spanId = undefined;
      if (spanId !== undefined) state = this.#spans.get(spanId);
      else if (this.#als !== undefined) {
        state = this.#als.getStore();
        spanId = state?.id;
      }
    }
    const now = this.#time();
    if (state !== undefined && this.#spanHooks) {
      this.#routeInSpan(id, own, state, spanId, origin, now);
      return;
    }
    const event = new EventRecord(
      nextId(now),
      this.#names[id] as string,
      id,
      this.#levelNames[id] as Level,
      now,
      spanId,
      own,
      state?.data,
      origin,
    );
    const routes = this.#routes[id] as readonly Subscriber[];
    for (let i = 0; i < routes.length; i++) {
      const subscriber = routes[i] as Subscriber;
      if (subscriber !== origin) subscriber.push(event);
    }
  }

  /** Routes an event of an open span where some sink takes such events in parts, without an event object. */
  #routeInSpan(
    id: number,
    own: Data | undefined,
    state: SpanState,
    spanId: number | string | undefined,
    origin: object | undefined,
    now: number,
  ): void {
    const type = this.#names[id] as string;
    const level = this.#levelNames[id] as Level;
    const routes = this.#routes[id] as readonly Subscriber[];
    // Built on first need, for the other subscribers.
    let event: EventRecord | undefined;
    for (let i = 0; i < routes.length; i++) {
      const subscriber = routes[i] as Subscriber;
      if (subscriber === origin) continue;
      const hook = subscriber.spanHook;
      // Only emit-time subscribers ever get a span hook.
      if (hook !== undefined) {
        (subscriber as EmitSubscriber).pushInSpan(hook, state, id, type, level, own, now);
        continue;
      }
      event ??= new EventRecord(nextId(now), type, id, level, now, spanId, own, state.data, origin);
      subscriber.push(event);
    }
  }

  /**
   * The clock, read once per synchronous run of emits (and at least every 256 events): reading
   * it costs more than the rest of an emit on some machines. A microtask expires the reading.
   */
  #time(): number {
    if (this.#cachedNow < 0 || ++this.#clockReads > CLOCK_REUSE) {
      if (this.#cachedNow < 0) queueMicrotask(this.#expireClock);
      this.#cachedNow = this.#now();
      this.#clockReads = 0;
    }
    return this.#cachedNow;
  }

  /**
   * The system clock is read once per synchronous run for spans too; an injected clock (tests) is
   * read at every span start and end, so that moving it between them always shows in `elapsed`.
   */
  #spanClock(): number {
    return this.#now === Date.now ? this.#time() : this.#now();
  }

  /** Emits one of the library's own events on behalf of `origin`, which never receives it. */
  #report(name: string, data: Data, origin: object): void {
    const entry = this.#index[name] as number;
    const id = entry >>> FLAG_BITS;
    if (entry & COUNTED) this.#counts[id] = (this.#counts[id] as number) + 1;
    if (entry & ROUTED) this.#route(id, data, undefined, origin);
  }

  #unknown(name: unknown, problem = 'is not in the catalogue'): void {
    this.#unknownEvents++;
    const key = typeof name === 'string' ? name : describeValue(name);
    if (this.#warned.has(key) || this.#warned.size >= MAX_WARNED_NAMES) return;
    this.#warned.add(key);
    process.emitWarning(`event ${JSON.stringify(key)} ${problem}; it was ignored`, { code: 'MAIL_TELEMETRY_UNKNOWN_EVENT' });
  }

  #failedPayload(id: number, error: unknown): void {
    this.#failedPayloads++;
    this.#report(
      'telemetry.events-dropped',
      { total: 1, reason: `the data of ${this.#names[id]} could not be read`, causedBy: asCause(error) },
      this,
    );
  }

  #swept(count: number): void {
    this.#sweptSpans += count;
    this.#report('telemetry.spans-swept', { total: count, details: 'open spans that were never ended' }, this);
  }

  // ── consumers ────────────────────────────────────────────────────────────

  subscribe(options: unknown, handler: BatchHandler<EventRecord>): Subscription {
    this.#assertOpen();
    const path = 'subscribe(options)';
    if (typeof handler !== 'function') throw new TelemetryConfigError('subscribe(handler)', handler, 'a function');
    const o = resolveSubscribe(options, path);
    const bits = compileSelection(this.catalog, this.#levels, o, path);
    const id = o.id ?? `subscriber-${this.#nextSubscriber++}`;
    const subscriber = this.#addSubscriber(id, { lossy: o.lossy, maxQueue: o.maxQueue, maxBatch: o.maxBatch, bits }, handler);
    return { id, unsubscribe: () => this.#unsubscribe(subscriber), stats: () => subscriber.stats() };
  }

  #addSubscriber(id: string, options: SubscriberOptions, handler: BatchHandler<EventRecord>): Subscriber {
    const subscriber = new Subscriber(id, options, handler, this.#host);
    this.#subscribers.add(subscriber);
    this.#rebuild();
    return subscriber;
  }

  /** Span starts and ends are debug-level; a span exporter needs them whatever its level. */
  #addSpanBits(bits: Uint32Array): void {
    for (const [start, end] of this.#spanPairs) {
      for (const name of [start, end]) {
        const id = this.catalog.get(name)?.id;
        if (id !== undefined && (this.#levels[id] ?? DISABLED) < DISABLED)
          bits[id >>> 5] = (bits[id >>> 5] ?? 0) | (1 << (id & 31));
      }
    }
  }

  readonly #describeType = (type: string): string => this.catalog.get(type)?.description ?? type;

  /** What webhooks, history, live streams and alerts get from the core. */
  partContext(): MechanismContext {
    return {
      service: this.service,
      catalog: this.catalog,
      now: () => this.#now(),
      metrics: this.metrics,
      describe: this.#describeType,
      spans: this.#spanPairs,
      subscribe: (options, handler) => this.#partSubscribe(options, handler),
      report: (name, data) => this.#report(name, data, this),
      attach: (part) => {
        this.#parts.push(part);
      },
    };
  }

  #partSubscribe(o: MechanismSubscribeOptions, handler: BatchHandler<EventRecord>): MechanismSubscription {
    this.#assertOpen();
    const bits = compileSelection(this.catalog, this.#levels, o, o.path);
    if (o.spans === true) this.#addSpanBits(bits);
    const options = {
      lossy: o.lossy,
      maxQueue: o.maxQueue,
      maxBatch: o.maxBatch,
      bits,
      errorEvent: o.errorEvent,
      onDrop: o.onDrop,
      // Every mechanism's output is a sink: the sensitive keys never reach it.
      redact: this.#sensitive,
    };
    const subscriber = this.#addSubscriber(o.id, options, handler);
    return {
      id: o.id,
      unsubscribe: () => this.#unsubscribe(subscriber),
      stats: () => subscriber.stats(),
      report: (name, data) => this.#report(name, data, subscriber),
    };
  }

  /** A tracer is a subscriber whose handler writes to its sink, with its own error event and redaction. */
  #addTracer(tracer: ResolvedTracer): void {
    const bits = compileSelection(this.catalog, this.#levels, tracer.selection, tracer.path);
    const spans = this.#spanPairs;
    if (tracer.spans === true) this.#addSpanBits(bits);
    let subscriber: Subscriber | undefined;
    const context: InternalSinkContext = {
      id: tracer.id,
      service: this.service,
      report: (error, details) => {
        const reason = describeError(error);
        const data = details === undefined ? { id: tracer.id, reason } : { id: tracer.id, reason, details };
        this.#report(tracer.errorEvent, { ...data, causedBy: asCause(error) }, subscriber ?? this);
      },
      describe: this.#describeType,
      now: () => this.#now(),
      systemClock: this.#now === Date.now,
      spans,
      onEmit: (hook) => {
        hooks.push(hook);
      },
      parentOf: (spanId) => this.#spans.get(spanId)?.parentId,
      objectKeys: (type) => this.catalog.get(type)?.objectKeys,
      [SPAN_EMIT]: (hook) => {
        spanHooks.push(hook);
      },
    };
    const hooks: EmitHook[] = [];
    const spanHooks: SpanEmitHook[] = [];
    const redact = tracer.redact.size > 0 ? tracer.redact : undefined;
    let sink: Sink;
    try {
      sink = tracer.make(context);
    } catch (error) {
      if (error instanceof TelemetryConfigError) throw error;
      const reason = describeError(error);
      throw new TelemetryConfigError(tracer.path, tracer.id, 'a tracer whose sink can be created', reason);
    }
    if (typeof sink.write !== 'function' && hooks.length === 0)
      throw new TelemetryConfigError(tracer.path, tracer.id, 'a sink with a write(batch) method or an onEmit hook');
    const o = tracer.selection;
    const id = o.id ?? tracer.id;
    if (hooks.length > 0) {
      const only = hooks.length === 1 && redact === undefined ? hooks[0] : undefined;
      const hook =
        only ??
        ((event: EventRecord) => {
          const seen = redact === undefined ? event : (redactBatch([event], redact)[0] as EventRecord);
          for (const h of hooks) h(seen);
        });
      subscriber = new EmitSubscriber(`${id}:emit`, bits, tracer.errorEvent, hook, this.#host);
      // The events of open spans go to the sink in parts, unless they must be redacted first.
      if (only !== undefined && spanHooks.length === 1) {
        subscriber.spanHook = spanHooks[0];
        this.#spanHooks = true;
      }
      this.#subscribers.add(subscriber);
    }
    const write = sink.write?.bind(sink);
    if (write !== undefined) {
      subscriber = new Subscriber(
        id,
        { lossy: o.lossy, maxQueue: o.maxQueue, maxBatch: o.maxBatch, bits, errorEvent: tracer.errorEvent, redact },
        write,
        this.#host,
      );
      this.#subscribers.add(subscriber);
    }
    this.#sinks.push({ sink, report: context.report });
    // No #rebuild() here: the constructor rebuilds once after every tracer is added.
  }

  #unsubscribe(subscriber: Subscriber): void {
    if (!this.#subscribers.delete(subscriber)) return;
    this.#droppedEvents += subscriber.close();
    this.#rebuild();
  }

  on(pattern: string, listener: Listener): () => void {
    this.#assertOpen();
    if (typeof listener !== 'function') throw new TelemetryConfigError('on(listener)', listener, 'a function');
    checkPatterns(this.catalog, [pattern], 'on(pattern)');
    const bits = compileSelection(this.catalog, this.#levels, { events: [pattern] }, 'on(pattern)');
    const names = this.catalog.events.filter((e) => hasBit(bits, e.id)).map((e) => e.name);
    const wrapped: Listener = (event) => {
      if (event.origin === wrapped) return;
      try {
        listener(event);
      } catch (error) {
        this.#listenerFailures++;
        // A failure on one of the library's own reports is counted, not reported: no ping-pong.
        if (event.origin === undefined) this.#failed(`on(${JSON.stringify(pattern)})`, error, wrapped);
      }
    };
    for (const name of names) this.#emitter.on(name, wrapped);
    this.#listeners.set(wrapped, { bits, names });
    this.#syncListenerSubscriber();
    return () => {
      const entry = this.#listeners.get(wrapped);
      if (entry === undefined) return;
      for (const name of entry.names) this.#emitter.off(name, wrapped);
      this.#listeners.delete(wrapped);
      this.#syncListenerSubscriber();
    };
  }

  /** One internal subscriber feeds every `on()` listener, so listeners share one queue and one bit test. */
  #syncListenerSubscriber(): void {
    const union = new Uint32Array((this.catalog.idSpace + 31) >>> 5);
    for (const { bits } of this.#listeners.values())
      for (let i = 0; i < union.length; i++) union[i] = (union[i] ?? 0) | (bits[i] ?? 0);
    if (this.#listenerSubscriber === undefined) {
      this.#listenerSubscriber = new Subscriber(
        'listeners',
        { lossy: false, maxQueue: 100_000, maxBatch: 1024, bits: union },
        (batch) => {
          for (const event of batch) this.#emitter.emit(event.type, event);
        },
        this.#host,
      );
      this.#subscribers.add(this.#listenerSubscriber);
    }
    this.#listenerSubscriber.bits = union;
    this.#rebuild();
  }

  /** Recomputes per-event routes and the global want table from every subscriber's bits. */
  #rebuild(): void {
    const subscribers = [...this.#subscribers];
    for (const event of this.catalog.events) {
      const id = event.id;
      const routes = this.#closed ? [] : subscribers.filter((s) => hasBit(s.bits, id));
      this.#routes[id] = routes.length === 0 ? NO_ROUTES : routes;
      const live = !this.#closed && (this.#levels[id] ?? DISABLED) < DISABLED;
      const routed = live && routes.length > 0 ? ROUTED : 0;
      const counted = live && event.counter && this.#registry.active(event.name) ? COUNTED : 0;
      const metered = live && this.#registry.feeds(id) ? METERED : 0;
      const entry = (id << FLAG_BITS) | routed | counted | metered;
      this.#index[event.name] = entry;
      this.#entries.set(event.name, entry);
    }
  }

  // ── scheduling and failure reports ───────────────────────────────────────

  #schedule(subscriber: Subscriber): void {
    if (subscriber.scheduled) return;
    subscriber.scheduled = true;
    this.#ready.push(subscriber);
    this.#immediate ??= setImmediate(() => this.#deliverReady());
  }

  #dropped(subscriber: Subscriber, count: number): void {
    this.#droppedEvents += count;
    const reason = subscriber.lossy ? 'queue full: oldest events dropped' : 'queue full: newest events refused';
    this.#report('telemetry.events-dropped', { id: subscriber.id, total: count, reason }, subscriber);
  }

  #subscriberFailed(subscriber: Subscriber, error: unknown, batch: readonly EventRecord[]): void {
    // A batch made only of the library's own reports must not produce more reports: no ping-pong.
    if (batch.every((event) => event.origin !== undefined)) return;
    this.#failed(subscriber.id, error, subscriber, subscriber.errorEvent);
  }

  #failed(id: string, error: unknown, origin: object, event = 'telemetry.subscriber-error'): void {
    const reason = describeError(error);
    this.#report(event, { id, reason, causedBy: asCause(error) }, origin);
  }

  #deliverReady(): void {
    this.#immediate = undefined;
    const ready = this.#ready;
    this.#ready = [];
    for (const subscriber of ready) {
      subscriber.scheduled = false;
      subscriber.deliver();
    }
  }

  // ── flush, shutdown, introspection ───────────────────────────────────────

  async flush(timeout = 5000): Promise<FlushReport> {
    checkTimeout(timeout);
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        timedOut = true;
        resolve();
      }, timeout);
    });
    const drained = (async () => {
      // Two rounds: reports made while sinks and parts flush (webhook failures, discards) are
      // delivered too, and a part that takes those reports (another webhook) flushes them.
      for (let round = 0; round < 2 && !timedOut && (round === 0 || this.#pending() > 0); round++) {
        while (!timedOut && this.#pending() > 0) {
          if (this.#immediate !== undefined) {
            clearImmediate(this.#immediate);
            this.#deliverReady();
          }
          await Promise.all([...this.#subscribers].map((s) => s.whenIdle()));
        }
        if (!timedOut) await Promise.all([this.#eachSink('flush'), this.#eachPart('flush')]);
      }
    })();
    await Promise.race([drained, expired]);
    clearTimeout(timer);
    return this.#flushReport();
  }

  shutdown(timeout = 5000): Promise<FlushReport> {
    if (this.#shutdown === undefined) {
      try {
        checkTimeout(timeout);
      } catch (error) {
        return Promise.reject(error);
      }
      // Concurrent and later callers share the one result.
      this.#shutdown = this.#shutdownOnce(timeout);
    }
    return this.#shutdown;
  }

  async #shutdownOnce(timeout: number): Promise<FlushReport> {
    const deadline = Date.now() + timeout;
    await this.flush(timeout);
    // Intake stops here: later emits are no-ops. What is queued still gets the time that is left.
    this.#closed = true;
    this.#rebuild();
    await this.flush(Math.max(0, deadline - Date.now()));
    await within(
      Promise.all([this.#eachSink('close'), this.#eachPart('close')]).then(() => undefined),
      Math.max(0, deadline - Date.now()),
    );
    clearInterval(this.#sweepTimer);
    clearInterval(this.#memoryTimer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    this.#ready = [];
    // The report counts what was really discarded, not a snapshot taken before the parts closed.
    const left: { id: string; pending: number }[] = [];
    for (const subscriber of this.#subscribers) {
      const inFlight = subscriber.inFlight;
      const discarded = subscriber.close();
      this.#droppedEvents += discarded;
      if (discarded + inFlight > 0) left.push({ id: subscriber.id, pending: discarded + inFlight });
    }
    for (const part of this.#parts) {
      const pending = safePending(part);
      if (pending > 0) left.push({ id: part.id, pending });
    }
    this.#subscribers.clear();
    this.#emitter.removeAllListeners();
    this.#listeners.clear();
    this.#spans.clear();
    this.#rebuild();
    const pending = left.reduce((sum, s) => sum + s.pending, 0);
    return { complete: pending === 0, pending, subscribers: left };
  }

  /** Calls a sink hook on every tracer; a failure is reported as that tracer's error event. */
  async #eachSink(hook: 'flush' | 'close'): Promise<void> {
    await Promise.all(
      this.#sinks.map(async ({ sink, report }) => {
        try {
          await sink[hook]?.();
        } catch (error) {
          report(error, `${hook} failed`);
        }
      }),
    );
  }

  /** Calls a part's hook; a failure is reported as a subscriber error naming the part. */
  async #eachPart(hook: 'flush' | 'close'): Promise<void> {
    await Promise.all(
      this.#parts.map(async (part) => {
        try {
          await part[hook]?.();
        } catch (error) {
          this.#failed(part.id, error, this);
        }
      }),
    );
  }

  #pending(): number {
    let pending = 0;
    for (const subscriber of this.#subscribers) pending += subscriber.pending;
    return pending;
  }

  #flushReport(): FlushReport {
    const subscribers = [...this.#subscribers].filter((s) => s.pending > 0).map((s) => ({ id: s.id, pending: s.pending }));
    for (const part of this.#parts) {
      const pending = safePending(part);
      if (pending > 0) subscribers.push({ id: part.id, pending });
    }
    const pending = subscribers.reduce((sum, s) => sum + s.pending, 0);
    return { complete: pending === 0, pending, subscribers };
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('mail-telemetry: this instance has been shut down');
  }

  stats(): TelemetryStats {
    return {
      openSpans: this.#spans.size,
      sweptSpans: this.#sweptSpans,
      droppedEvents: this.#droppedEvents,
      unknownEvents: this.#unknownEvents,
      failedPayloads: this.#failedPayloads,
      listenerFailures: this.#listenerFailures,
      subscribers: [...this.#subscribers].map((s) => s.stats()),
    };
  }

  describe(name: string): EventInfo {
    const event = this.catalog.get(name);
    if (event === undefined) throw new TypeError(`describe: unknown event ${JSON.stringify(name)}`);
    return this.#info(event);
  }

  events(): EventInfo[] {
    return this.catalog.events.map((e) => this.#info(e));
  }

  #info(event: EventDefinition): EventInfo {
    const level = this.#levels[event.id] ?? DISABLED;
    return {
      name: event.name,
      id: event.id,
      level: level >= DISABLED ? 'disable' : (LEVELS[level] as Level),
      defaultLevel: event.level,
      counter: event.counter,
      description: event.description,
      keys: event.keys,
      origin: event.origin,
      ...(event.spanEnd === undefined ? {} : { spanEnd: event.spanEnd }),
    };
  }
}

/** The own keys of `data` that can be read; a key whose getter throws is left out. */
function readableKeys(data: Data | undefined): Data {
  const copy: Record<string, unknown> = {};
  let keys: string[] = [];
  try {
    keys = Object.keys(data ?? {});
  } catch {
    return copy;
  }
  for (const key of keys) {
    try {
      Object.defineProperty(copy, key, { value: (data as Data)[key], enumerable: true, writable: true, configurable: true });
    } catch {
      // left out
    }
  }
  return copy;
}

function activateIn<T>(sink: Sink, spanId: number, fn: () => T): T {
  return sink.activate === undefined ? fn() : sink.activate(spanId, fn);
}

function primitive(value: unknown): string | number | boolean {
  return typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string' ? value : describeValue(value);
}

/** A part's own pending count; a throwing part counts as holding nothing it can report. */
function safePending(part: Part): number {
  try {
    const pending = part.pending?.() ?? 0;
    return Number.isFinite(pending) && pending > 0 ? pending : 0;
  } catch {
    return 0;
  }
}

/** Waits for `promise`, but no longer than `ms`. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function checkTimeout(timeout: unknown): void {
  if (typeof timeout !== 'number' || !(timeout >= 0) || timeout > 2_147_483_647) {
    throw new TelemetryConfigError('timeout', timeout, 'milliseconds from 0 to 2147483647');
  }
}
