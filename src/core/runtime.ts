import { AsyncLocalStorage } from 'node:async_hooks';
import { asCause, describeError, describeValue } from '../base/errors.js';
import { nextId } from '../base/ids.js';
import { DISABLED, type Level } from '../base/levels.js';
import type { Catalog } from '../catalog/catalog.js';
import type { TelemetryEvent } from '../catalog/types.js';
import { Consumers } from './consumers.js';
import { checkTimeout, Dispatcher } from './dispatch.js';
import { EventRecord, readableKeys } from './event.js';
import { EventTable } from './event-table.js';
import type { CoreContext } from './mechanism.js';
import type { Meter, MeterFactory } from './meter.js';
import type { ResolvedCore } from './options.js';
import { hasBit } from './selection.js';
import type { Sink } from './sink.js';
import { SPAN_STATE, SpanHandle } from './span-handle.js';
import { type SpanState, SpanTable } from './spans.js';
import type { BatchHandler, EmitSubscriber, Subscriber } from './subscriber.js';
import { CATALOG, COMPOSE, DISPOSE, EMIT_IN_SPAN, END_SPAN, MECHANISM_CONTEXT } from './symbols.js';
import type { EventInfo, FlushReport, Subscription, TelemetryStats } from './types.js';

type Data = Readonly<Record<string, unknown>>;

const ROUTED = 1;
const COUNTED = 2;
const METERED = 4;
const WANTED = ROUTED | COUNTED | METERED;
/** Index entries are `id << FLAG_BITS | flags`. */
const FLAG_BITS = 3;
const NO_ROUTES: readonly Subscriber[] = [];
const MAX_WARNED_NAMES = 100;
const CLOCK_REUSE = 256;

/**
 * The engine of a telemetry instance: emit, levels, selection, spans and routing. It knows no
 * mechanism: the composition root (`createTelemetry`) builds them over {@link MECHANISM_CONTEXT}.
 */
export class TelemetryRuntime {
  readonly service: string;
  readonly #catalog: Catalog;
  readonly #table: EventTable;
  readonly #consumers: Consumers;
  /**
   * Event name -> `id << 3 | flags` (ROUTED, COUNTED, METERED). Built with `Object.fromEntries` so it keeps
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
  readonly #dispatch: Dispatcher;
  readonly #spans: SpanTable;
  readonly #now: () => number;
  #sweepTimer: NodeJS.Timeout | undefined;
  /** Span start event id -> its end event's name ('' for events that start no span). */
  readonly #spanEnds: string[];
  #als: AsyncLocalStorage<SpanState> | undefined;
  #closed = false;
  readonly #sensitive: ReadonlySet<string>;
  #shutdown: Promise<FlushReport> | undefined;
  /** True once a sink takes the events of open spans in parts (see `#routeInSpan`). */
  #spanHooks = false;
  readonly #meter: Meter;
  readonly #warned = new Set<string>();
  #sweptSpans = 0;
  #cachedNow = -1;
  /** True while the composition root adds mechanisms (see `COMPOSE`); `#stale` once a rebuild waits. */
  #composing = false;
  #stale = false;
  #clockReads = 0;
  readonly #expireClock = () => {
    this.#cachedNow = -1;
  };
  #droppedEvents = 0;
  #unknownEvents = 0;
  #failedPayloads = 0;

  constructor(options: ResolvedCore, meter: MeterFactory) {
    this.service = options.service;
    this.#sensitive = options.sensitiveKeys;
    const table = new EventTable(options.events, options.levels);
    const catalog = table.catalog;
    const size = catalog.idSpace;
    this.#table = table;
    this.#catalog = catalog;
    this.#names = table.names;
    this.#levels = table.levels;
    this.#levelNames = table.levelNames;
    this.#spanEnds = table.spanEnds;
    this.#index = Object.fromEntries(catalog.events.map((e) => [e.name, e.id << FLAG_BITS]));
    this.#counts = new Float64Array(size);
    this.#routes = new Array<readonly Subscriber[]>(size).fill(NO_ROUTES);
    this.#now = options.now;
    this.#meter = meter(catalog, this.#counts, (metric, reason, value) =>
      this.#report('telemetry.metric-rejected', { id: metric, reason, value: primitive(value) }, this),
    );
    this.#dispatch = new Dispatcher({
      dropped: (subscriber, count) => this.#dropped(subscriber, count),
      failed: (subscriber, error, batch) => {
        // A batch made only of the library's own reports must not produce more reports: no ping-pong.
        if (batch.every((event) => event.origin !== undefined)) return;
        this.#failed(subscriber.id, error, subscriber, subscriber.errorEvent);
      },
      mechanismFailed: (mechanism, error) => this.#failed(mechanism.id, error, this),
    });
    this.#spans = new SpanTable(options.maxOpenSpans, options.maxSpanAge, (count) => this.#swept(count));
    this.#consumers = new Consumers({
      service: this.service,
      table,
      dispatcher: this.#dispatch,
      spans: this.#spans,
      sensitive: this.#sensitive,
      now: this.#now,
      report: (name, data, origin) => this.#report(name, data, origin ?? this),
      failed: (id, error, origin) => this.#failed(id, error, origin),
      rebuild: () => this.#rebuild(),
      spanHooked: () => {
        this.#spanHooks = true;
      },
      closed: () => this.#closed,
      discarded: (count) => {
        this.#droppedEvents += count;
      },
      counter: (name, options) => this.#meter.counter(name, options),
    });
    for (const sink of options.sinks) this.#consumers.attach(sink);
    this.#rebuild();
    this.#sweepTimer = setInterval(() => this.#spans.sweep(this.#now()), options.sweepInterval);
    this.#sweepTimer.unref();
  }

  /** The instance's catalogue: built-in, library and host events. */
  get [CATALOG](): Catalog {
    return this.#catalog;
  }

  // -- emit path ------------------------------------------------------------

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

  [EMIT_IN_SPAN](span: SpanState, name: string, input?: unknown): void {
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
      if (entry & METERED) this.#meter.feed(id, data);
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
    // The start event carries the copy, so its JSON is the span's, written once; an object that
    // could not be copied whole goes as it is, for each sink to read with care.
    let own: unknown = data;
    try {
      // A copy, so later changes to the caller's object do not leak in; read-only by type (freezing costs more than the copy).
      keys = { ...data };
      if (typeof data !== 'function') own = keys;
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
      json: undefined,
    };
    if (endName === '') this.#unknown(name, 'is not a span start event');
    else if (!this.#closed) this.#spans.open(state, now);
    this[EMIT_IN_SPAN](state, name, own);
    return new SpanHandle(this, state);
  }

  [END_SPAN](span: SpanState, input: unknown): void {
    if (span.ended) return;
    this.#spans.close(span);
    if (span.endName === '') return;
    // Like any event's keys, the caller's object is used as it is when it already has `elapsed`.
    let end: unknown;
    try {
      const data = (typeof input === 'function' ? input() : input) as Data | undefined;
      end = data?.elapsed !== undefined ? data : { ...data, elapsed: this.#spanClock() - span.startedAt };
    } catch {
      end = { elapsed: this.#spanClock() - span.startedAt };
    }
    this[EMIT_IN_SPAN](span, span.endName, end);
  }

  withSpan<T>(span: SpanHandle, fn: () => T): T {
    if (!(span instanceof SpanHandle)) throw new TypeError('withSpan: expected a span from telemetry.span()');
    this.#als ??= new AsyncLocalStorage<SpanState>();
    let run = fn;
    // Sinks that keep their own current span (the OTel tracer's active span) make it current too.
    for (const { sink } of this.#dispatch.sinks) {
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
      state,
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
      event ??= new EventRecord(nextId(now), type, id, level, now, spanId, own, state.data, origin, state);
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
    // A mechanism reporting while the instance is built reaches the subscribers added so far.
    if (this.#stale) this.#rebuildNow();
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

  // -- consumers ------------------------------------------------------------

  subscribe(options: unknown, handler: BatchHandler<TelemetryEvent>): Subscription {
    return this.#consumers.subscribe(options, handler);
  }

  on(pattern: string, listener: (event: TelemetryEvent) => void): () => void {
    return this.#consumers.on(pattern, listener);
  }

  /** What webhooks, history, live streams and alerts get from the core. */
  [MECHANISM_CONTEXT](): CoreContext {
    return this.#consumers.context();
  }

  /**
   * Runs `build` (the composition root adding its mechanisms) with route rebuilds held back, then
   * rebuilds once: each rebuild walks every event of the catalogue.
   */
  [COMPOSE]<T>(build: () => T): T {
    this.#composing = true;
    try {
      return build();
    } finally {
      this.#composing = false;
      if (this.#stale) this.#rebuild();
    }
  }

  #rebuildNow(): void {
    this.#composing = false;
    this.#rebuild();
    this.#composing = true;
  }

  /** Recomputes per-event routes and the global want table from every subscriber's bits. */
  #rebuild(): void {
    if (this.#composing) {
      this.#stale = true;
      return;
    }
    this.#stale = false;
    const subscribers = [...this.#dispatch.subscribers];
    for (const event of this.#catalog.events) {
      const id = event.id;
      const routes = this.#closed ? [] : subscribers.filter((s) => hasBit(s.bits, id));
      this.#routes[id] = routes.length === 0 ? NO_ROUTES : routes;
      const live = !this.#closed && (this.#levels[id] ?? DISABLED) < DISABLED;
      const routed = live && routes.length > 0 ? ROUTED : 0;
      const counted = live && event.counter && this.#meter.active(event.name) ? COUNTED : 0;
      const metered = live && this.#meter.feeds(id) ? METERED : 0;
      const entry = (id << FLAG_BITS) | routed | counted | metered;
      this.#index[event.name] = entry;
      this.#entries.set(event.name, entry);
    }
  }

  #dropped(subscriber: Subscriber, count: number): void {
    this.#droppedEvents += count;
    const reason = subscriber.lossy ? 'queue full: oldest events dropped' : 'queue full: newest events refused';
    this.#report('telemetry.events-dropped', { id: subscriber.id, total: count, reason }, subscriber);
  }

  #failed(id: string, error: unknown, origin: object, event = 'telemetry.subscriber-error'): void {
    this.#report(event, { id, reason: describeError(error), causedBy: asCause(error) }, origin);
  }

  // -- flush, shutdown, introspection ---------------------------------------

  async flush(timeout = 5000): Promise<FlushReport> {
    checkTimeout(timeout);
    await this.#dispatch.drain(timeout);
    return this.#dispatch.report();
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
    const report = await this.#dispatch.shutdown(
      timeout,
      // Intake stops once pending events are drained; what is queued then gets the time that is left.
      () => {
        this.#closed = true;
        this.#rebuild();
      },
      (count) => {
        this.#droppedEvents += count;
      },
    );
    clearInterval(this.#sweepTimer);
    this.#consumers.listeners.clear();
    this.#spans.clear();
    this.#rebuild();
    return report;
  }

  /** Stops at once, for an instance whose composition failed: timers cleared, mechanisms closed. */
  [DISPOSE](): void {
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    void this.#dispatch.each('close');
    this.#dispatch.close(() => undefined);
    this.#rebuild();
  }

  stats(): TelemetryStats {
    return {
      openSpans: this.#spans.size,
      sweptSpans: this.#sweptSpans,
      droppedEvents: this.#droppedEvents,
      unknownEvents: this.#unknownEvents,
      failedPayloads: this.#failedPayloads,
      listenerFailures: this.#consumers.listeners.failures,
      subscribers: [...this.#dispatch.subscribers].map((s) => s.stats()),
    };
  }

  describe(name: string): EventInfo {
    return this.#table.describe(name);
  }

  events(): EventInfo[] {
    return this.#table.events();
  }
}

function activateIn<T>(sink: Sink, spanId: number, fn: () => T): T {
  return sink.activate === undefined ? fn() : sink.activate(spanId, fn);
}

function primitive(value: unknown): string | number | boolean {
  return typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string' ? value : describeValue(value);
}
