import type { AlertsApi } from './alerts/alerts.js';
import type { HostEventMap, HostEventSpecs, HostEvents, HostSpanMap } from './catalog/define.js';
import type { BUILTIN_METRICS, BuiltinEvents, BuiltinSpans } from './catalog/generated.js';
import type { AnyKeys } from './catalog/keys.js';
import type { CheckPattern, DataOptional, EventInput, EventName, EventOf, EventPattern, SelectorName } from './catalog/types.js';
import type { SubscribeOptions } from './core/options.js';
import { TelemetryRuntime } from './core/runtime.js';
import type { BatchHandler } from './core/subscriber.js';
import { CATALOG, COMPOSE, DISPOSE, MECHANISM_CONTEXT } from './core/symbols.js';
import type { EventInfo, FlushReport, Subscription, TelemetryStats } from './core/types.js';
import type { HistoryApi } from './history/history.js';
import type { TelemetryHandlers } from './http/handler.js';
import type { LiveApi } from './live/live.js';
import { buildMechanisms } from './mechanisms.js';
import type { MetricsApi } from './metrics/api.js';
import { MetricsRegistry } from './metrics/registry.js';
import { type ResolvedOptions, resolveOptions, type TelemetryOptions } from './options.js';
import type { WebhooksApi } from './webhooks/webhooks.js';

/** The data arguments of `emit` for data type `D`: optional when every key is optional. */
export type DataArgs<D> = DataOptional<D> extends true ? [data?: EventInput<D>] : [data: EventInput<D>];

/**
 * An open span. Events emitted through it carry its id and its start event's keys. `Span` alone types
 * a span of the built-in events kept in a variable or a map; `Span<M>` one of an instance with host events.
 */
export interface Span<M = BuiltinEvents, End extends string = string> {
  /** Unique, time-ordered id, exact in a JS number. */
  readonly id: number;
  /** True once `end()` has been called. */
  readonly ended: boolean;
  /** Emits an event that belongs to this span. */
  emit<N extends EventName<M>>(name: N, ...data: DataArgs<M[N]>): void;
  /**
   * Emits the span's end event and closes the span. `elapsed` (ms since the start) is filled in
   * unless given. Calling it again does nothing.
   */
  end(...data: DataArgs<End extends keyof M ? M[End] : AnyKeys>): void;
}

/**
 * `telemetry.tracer`: span-first calls, typed by the catalogue, over the same machinery as `span`.
 * With an `otel` tracer configured, the OpenTelemetry span of the current telemetry span is the
 * active OTel span inside `startActiveSpan`, so the host's own OTel instrumentation nests under it.
 */
export interface TypedTracer<M, S> {
  /** Starts a span with its start event; the same as `telemetry.span`. */
  startSpan<N extends keyof S & EventName<M>>(name: N, data: M[N]): Span<M, S[N] & string>;
  /**
   * Starts a span and runs `fn` with it current, for telemetry (events without a `spanId` join
   * it) and for OpenTelemetry (it is the active span). Like OTel's `startActiveSpan`, the caller
   * ends the span; `fn`'s result is returned as is.
   */
  startActiveSpan<N extends keyof S & EventName<M>, T>(name: N, data: M[N], fn: (span: Span<M, S[N] & string>) => T): T;
}

/** The built-in gauges' names. */
export type BuiltinGaugeName = Extract<(typeof BUILTIN_METRICS)[number], { readonly kind: 'gauge' }>['name'];

/** The built-in histograms' names. */
export type BuiltinHistogramName = Extract<(typeof BUILTIN_METRICS)[number], { readonly kind: 'histogram' }>['name'];

/** One telemetry instance: typed emit, spans, in-process consumers, flush and shutdown. */
export interface Telemetry<M = BuiltinEvents, S = BuiltinSpans> {
  readonly service: string;
  /**
   * Emits an event. Data may be a function, called only when someone wants the event.
   * Never throws and never blocks.
   */
  emit<N extends EventName<M>>(name: N, ...data: DataArgs<M[N]>): void;
  /** True when a consumer or counter wants `name`; a cheap guard before building costly data. */
  enabled(name: EventName<M>): boolean;
  /** Starts a span with its start event; `end()` emits the matching end event. */
  span<N extends keyof S & EventName<M>>(name: N, data: M[N]): Span<M, S[N] & string>;
  /**
   * Runs `fn` with `span` current: events emitted inside without a `spanId` join it, spans started
   * inside become its children, and an `otel` tracer makes its OTel span the active one.
   */
  withSpan<T>(span: Span<M>, fn: () => T): T;
  /** Span-first calls over the same machinery, for hosts used to OpenTelemetry's tracer. */
  readonly tracer: TypedTracer<M, S>;
  /** The id of the span made current by `withSpan`, if any. */
  currentSpanId(): number | undefined;
  /**
   * Calls `listener` for each event matching `pattern` (a name or wildcard). Delivery is batched
   * and off the emitter's stack. Returns a function that removes the listener.
   */
  on<P extends string>(pattern: CheckPattern<P, SelectorName<M>>, listener: NoInfer<(event: EventOf<M, P>) => void>): () => void;
  /** Delivers matching events in batches through a bounded queue. */
  subscribe<const P extends EventPattern<M> = '*'>(
    options: SubscribeOptions<P, EventPattern<M>>,
    handler: NoInfer<BatchHandler<EventOf<M, P>>>,
  ): Subscription;
  /** The metrics registry: event counters, the catalogue's gauges and histograms, the host's own. */
  readonly metrics: MetricsApi<EventName<M>, BuiltinGaugeName, BuiltinHistogramName>;
  /** Request handlers to mount on the host's HTTP server, each as `.node(req, res)` and `.fetch(request)`. */
  readonly handlers: TelemetryHandlers;
  /** Webhook endpoints: per-endpoint stats, pause and resume. */
  readonly webhooks: WebhooksApi;
  /** Events, span traces and metric series kept in memory or in a store. */
  readonly history: HistoryApi;
  /** Live event and metric streams, and tokens for browser clients. */
  readonly live: LiveApi<EventPattern<M>>;
  /** Alert rules: states, transitions and on-demand evaluation. */
  readonly alerts: AlertsApi;
  /** The catalogue entry of an event. */
  describe(name: EventName<M>): EventInfo;
  /** Every event of the catalogue, built-in and host. */
  events(): EventInfo[];
  /** Counters of the library's own work: drops, sweeps, subscriber stats. */
  stats(): TelemetryStats;
  /**
   * Delivers everything pending, or reports what was not delivered when `timeout` ms run out.
   * @param timeout - @default 5000
   */
  flush(timeout?: number): Promise<FlushReport>;
  /**
   * Flushes, then stops: later emits do nothing and undelivered events are reported.
   * @param timeout - @default 5000
   */
  shutdown(timeout?: number): Promise<FlushReport>;
}

/** The telemetry type for host events `D`. */
export type TelemetryFor<D extends HostEventSpecs> = keyof D extends never
  ? Telemetry<BuiltinEvents, BuiltinSpans>
  : Telemetry<BuiltinEvents & HostEventMap<D>, BuiltinSpans & HostSpanMap<D>>;

/**
 * One instance: the core's engine with every mechanism built on top. The runtime's methods are the
 * API, so the emit path has no wrapper layer; `implements` checks that the engine fulfils the
 * interface at compile time.
 */
class TelemetryInstance extends TelemetryRuntime implements Telemetry<BuiltinEvents, BuiltinSpans> {
  readonly metrics: Telemetry['metrics'];
  readonly handlers: TelemetryHandlers;
  readonly webhooks: WebhooksApi;
  readonly history: HistoryApi;
  readonly live: LiveApi;
  readonly alerts: AlertsApi;

  constructor(options: ResolvedOptions) {
    let metering: { registry: MetricsRegistry; counts: Float64Array } | undefined;
    super(options.core, (catalog, counts, rejected) => {
      const registry = new MetricsRegistry(catalog, options.metrics, counts, options.core.now, rejected);
      metering = { registry, counts };
      return registry;
    });
    const { registry, counts } = metering as { registry: MetricsRegistry; counts: Float64Array };
    try {
      const mechanisms = this[COMPOSE](() =>
        buildMechanisms(this[MECHANISM_CONTEXT](), { registry, counts, catalog: this[CATALOG] }, options),
      );
      this.metrics = mechanisms.metrics as Telemetry['metrics'];
      this.handlers = mechanisms.handlers;
      this.webhooks = mechanisms.webhooks;
      this.history = mechanisms.history;
      this.live = mechanisms.live;
      this.alerts = mechanisms.alerts;
    } catch (error) {
      // A mechanism refused its options: the core and the mechanisms built before it stop at once.
      this[DISPOSE]();
      throw error;
    }
  }
}

/**
 * Creates a telemetry instance. Every option is validated here; a bad one throws a
 * `TelemetryConfigError` naming the option path, the value and what is allowed.
 */
export function createTelemetry<D extends HostEventSpecs = Record<never, never>, const T extends string = string>(
  options?: TelemetryOptions<HostEvents<D>, NoInfer<EventName<BuiltinEvents & HostEventMap<D>>>, T>,
): TelemetryFor<D> {
  // Host events widen the types only: the instance is the same engine.
  return new TelemetryInstance(resolveOptions(options)) as unknown as TelemetryFor<D>;
}
