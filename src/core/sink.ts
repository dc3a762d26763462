import type { Level } from '../base/levels.js';
import type { SpanId } from '../catalog/keys.js';
import type { TelemetryEvent } from '../catalog/types.js';
import type { LossCounter, LossCounterOptions } from './meter.js';
import type { ResolvedSubscribe } from './options.js';

/**
 * Where a tracer writes. Implement it to plug in your own exporter: `write` gets batches off the
 * emitter's stack; a returned promise holds back the next batch (back-pressure). A throw or a
 * rejection is reported as the tracer's error event and never reaches the emitter. A sink that
 * works only at emit time, through `context.onEmit`, may leave `write` out.
 */
export interface Sink {
  write?(batch: readonly TelemetryEvent[]): void | PromiseLike<void>;
  /** Writes out anything buffered; called by `telemetry.flush()`. */
  flush?(): void | PromiseLike<void>;
  /** Releases resources; called by `telemetry.shutdown()` after a flush. */
  close?(): void | PromiseLike<void>;
  /**
   * Runs `fn` with the sink's own notion of the span made current, such as its OpenTelemetry span
   * made active; used by `telemetry.tracer.startActiveSpan`.
   */
  activate?<T>(spanId: SpanId, fn: () => T): T;
}

/**
 * Runs on the emitter's stack, before batching, for each event the tracer selects: the one place a
 * sink can see the caller's async context (the active OpenTelemetry span). Keep it tiny; a throw
 * is reported as the tracer's error event and never reaches the emitter.
 */
export type EmitHook = (event: TelemetryEvent) => void;

/** What a sink gets from the library when it is created. */
export interface SinkContext {
  /** The tracer's id. */
  readonly id: string;
  readonly service: string;
  /** Reports a failure that happened outside `write` (a later I/O error) as the tracer's error event. */
  report(error: unknown, details?: string): void;
  /** The catalogue description of an event, for text output. */
  describe(type: string): string;
  /** The clock, in epoch ms. */
  now(): number;
  /** True when `now` is the system clock, not one injected through `createTelemetry({ now })`. */
  readonly systemClock: boolean;
  /** Span start events, each with the event that ends its span (built-in and host). */
  readonly spans: ReadonlyMap<string, string>;
  /** Registers a hook run at emit time for each selected event; see {@link EmitHook}. */
  onEmit(hook: EmitHook): void;
  /** The span that was current (through `withSpan`) when the open span `spanId` started. */
  parentOf(spanId: SpanId): SpanId | undefined;
  /**
   * The keys of event `type` whose declared type may hold an object (a `Date`, bytes, an `Error`),
   * for sinks that need plain values; `undefined` when the event accepts any vocabulary key.
   */
  objectKeys(type: string): readonly string[] | undefined;
}

/**
 * An emit-time hook for events of an open span, called with the event's parts rather than a whole
 * event object, so the library's OTel tracer builds none. Internal: a sink reaches it through the
 * {@link SPAN_EMIT} key of its context, which the package does not export.
 */
export type SpanEmitHook = (
  spanId: number,
  typeId: number,
  type: string,
  level: Level,
  own: Readonly<Record<string, unknown>> | undefined,
) => void;

/** The context key under which first-party sinks register a {@link SpanEmitHook}. */
export const SPAN_EMIT: unique symbol = Symbol('mail-telemetry.span-emit');

/** The sink context as the library's own sinks see it. */
export interface InternalSinkContext extends SinkContext {
  /** Registers a hook for the events of open spans; the `onEmit` hook still gets every other event. */
  [SPAN_EMIT](hook: SpanEmitHook): void;
  /** The registry counter `name` (made on first call), for losses the sink counts itself. */
  counter(name: string, options: LossCounterOptions): LossCounter;
}

/** A tracer as the core attaches it: which events, how they queue, and how its sink is made. */
export interface SinkSpec {
  readonly id: string;
  /** The option path, for errors found later (event patterns). */
  readonly path: string;
  /** The library event its failures are reported as. */
  readonly errorEvent: string;
  readonly selection: ResolvedSubscribe;
  /** Keys this tracer writes as `[redacted]`. */
  readonly redact: ReadonlySet<string>;
  /** True when the tracer needs every span start and end event, whatever its level. */
  readonly spans?: boolean;
  readonly make: (context: InternalSinkContext) => Sink;
  /** Milliseconds events gather before `write` (one write per window at real rates). @default 0 */
  readonly delay?: number;
}
