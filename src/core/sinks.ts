import { asCause, describeError, TelemetryConfigError } from '../base/errors.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Dispatcher } from './dispatch.js';
import type { EventRecord } from './event.js';
import type { LossCounter, LossCounterOptions } from './meter.js';
import { redactBatch } from './redact.js';
import { compileSelection } from './selection.js';
import { type EmitHook, type InternalSinkContext, type Sink, type SinkSpec, SPAN_EMIT, type SpanEmitHook } from './sink.js';
import { EmitSubscriber, Subscriber } from './subscriber.js';

type Data = Readonly<Record<string, unknown>>;

/** What attaching a tracer needs from the runtime. */
export interface SinkHost {
  readonly service: string;
  readonly catalog: Catalog;
  readonly levels: Uint8Array;
  readonly dispatcher: Dispatcher;
  /** Span start events with their end events. */
  readonly spans: ReadonlyMap<string, string>;
  now(): number;
  readonly systemClock: boolean;
  describe(type: string): string;
  parentOf(spanId: number | string): number | undefined;
  /** Adds every span start and end event to `bits`. */
  addSpanBits(bits: Uint32Array): void;
  /** Emits one of the library's events on behalf of `origin`, which never receives it. */
  report(name: string, data: Data, origin: object | undefined): void;
  /** Called when a sink takes the events of open spans in parts. */
  spanHooked(): void;
  /** The registry counter `name`, made on first call. */
  counter(name: string, options: LossCounterOptions): LossCounter;
}

/**
 * A tracer is a subscriber whose handler writes to its sink, with its own error event and redaction;
 * a sink with emit-time hooks also gets an emit-time subscriber.
 */
export function attachSink(host: SinkHost, spec: SinkSpec): void {
  const bits = compileSelection(host.catalog, host.levels, spec.selection, spec.path);
  if (spec.spans === true) host.addSpanBits(bits);
  let subscriber: Subscriber | undefined;
  const hooks: EmitHook[] = [];
  const spanHooks: SpanEmitHook[] = [];
  const context: InternalSinkContext = {
    id: spec.id,
    service: host.service,
    report: (error, details) => {
      const reason = describeError(error);
      const data = details === undefined ? { id: spec.id, reason } : { id: spec.id, reason, details };
      host.report(spec.errorEvent, { ...data, causedBy: asCause(error) }, subscriber);
    },
    describe: (type) => host.describe(type),
    now: () => host.now(),
    systemClock: host.systemClock,
    spans: host.spans,
    onEmit: (hook) => {
      hooks.push(hook);
    },
    parentOf: (spanId) => host.parentOf(spanId),
    objectKeys: (type) => host.catalog.get(type)?.objectKeys,
    [SPAN_EMIT]: (hook) => {
      spanHooks.push(hook);
    },
    counter: (name, options) => host.counter(name, options),
  };
  const sink = makeSink(spec, context);
  if (typeof sink.write !== 'function' && hooks.length === 0)
    throw new TelemetryConfigError(spec.path, spec.id, 'a sink with a write(batch) method or an onEmit hook');
  const redact = spec.redact.size > 0 ? spec.redact : undefined;
  const o = spec.selection;
  const id = o.id ?? spec.id;
  if (hooks.length > 0) {
    const only = hooks.length === 1 && redact === undefined ? hooks[0] : undefined;
    const hook =
      only ??
      ((event: EventRecord) => {
        const seen = redact === undefined ? event : (redactBatch([event], redact)[0] as EventRecord);
        for (const h of hooks) h(seen);
      });
    subscriber = new EmitSubscriber(`${id}:emit`, bits, spec.errorEvent, hook, host.dispatcher);
    // The events of open spans go to the sink in parts, unless they must be redacted first.
    if (only !== undefined && spanHooks.length === 1) {
      subscriber.spanHook = spanHooks[0];
      host.spanHooked();
    }
    host.dispatcher.subscribers.add(subscriber);
  }
  const write = sink.write?.bind(sink);
  if (write !== undefined) {
    subscriber = new Subscriber(
      id,
      {
        lossy: o.lossy,
        maxQueue: o.maxQueue,
        maxBatch: o.maxBatch,
        bits,
        errorEvent: spec.errorEvent,
        redact,
        delay: spec.delay,
      },
      write,
      host.dispatcher,
    );
    host.dispatcher.subscribers.add(subscriber);
  }
  host.dispatcher.sinks.push({ sink, report: context.report });
}

function makeSink(spec: SinkSpec, context: InternalSinkContext): Sink {
  try {
    return spec.make(context);
  } catch (error) {
    if (error instanceof TelemetryConfigError) throw error;
    throw new TelemetryConfigError(spec.path, spec.id, 'a tracer whose sink can be created', describeError(error));
  }
}
