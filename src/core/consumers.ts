import { TelemetryConfigError } from '../base/errors.js';
import type { Catalog } from '../catalog/catalog.js';
import type { TelemetryEvent } from '../catalog/types.js';
import type { Dispatcher } from './dispatch.js';
import type { EventRecord } from './event.js';
import type { EventTable } from './event-table.js';
import { type HostListener, Listeners } from './listeners.js';
import type { CoreContext, MechanismSubscribeOptions, MechanismSubscription } from './mechanism.js';
import type { LossCounter, LossCounterOptions } from './meter.js';
import { resolveSubscribe } from './options.js';
import { compileSelection } from './selection.js';
import type { SinkSpec } from './sink.js';
import { attachSink, type SinkHost } from './sinks.js';
import type { SpanTable } from './spans.js';
import { type BatchHandler, Subscriber, type SubscriberOptions } from './subscriber.js';
import type { Subscription } from './types.js';

type Data = Readonly<Record<string, unknown>>;

/** What the consumers need from the runtime. */
export interface ConsumerDeps {
  readonly service: string;
  readonly table: EventTable;
  readonly dispatcher: Dispatcher;
  readonly spans: SpanTable;
  readonly sensitive: ReadonlySet<string>;
  readonly now: () => number;
  /** Emits one of the library's events on behalf of `origin`, which never receives it. */
  report(name: string, data: Data, origin: object | undefined): void;
  /** Reports a failure of the consumer `id`. */
  failed(id: string, error: unknown, origin: object): void;
  /** Recomputes the routes after a consumer came or went. */
  rebuild(): void;
  /** A sink takes the events of open spans in parts. */
  spanHooked(): void;
  /** True once the instance is shut down. */
  closed(): boolean;
  /** `count` events were discarded when a subscriber was removed. */
  discarded(count: number): void;
  /** The registry counter `name`, made on first call. */
  counter(name: string, options: LossCounterOptions): LossCounter;
}

/**
 * Every consumer the core feeds: `subscribe()` subscribers, `on()` listeners, tracers' sinks and the
 * mechanisms' subscriptions.
 */
export class Consumers implements SinkHost {
  readonly service: string;
  readonly catalog: Catalog;
  readonly levels: Uint8Array;
  readonly dispatcher: Dispatcher;
  readonly spans: ReadonlyMap<string, string>;
  readonly sensitive: ReadonlySet<string>;
  readonly systemClock: boolean;
  readonly listeners: Listeners;
  readonly #deps: ConsumerDeps;
  #nextSubscriber = 1;

  constructor(deps: ConsumerDeps) {
    this.#deps = deps;
    this.service = deps.service;
    this.catalog = deps.table.catalog;
    this.levels = deps.table.levels;
    this.dispatcher = deps.dispatcher;
    this.spans = deps.table.spanPairs;
    this.sensitive = deps.sensitive;
    this.systemClock = deps.now === Date.now;
    this.listeners = new Listeners({
      catalog: this.catalog,
      levels: this.levels,
      dispatcher: this.dispatcher,
      rebuild: () => deps.rebuild(),
      failed: (id, error, origin) => deps.failed(id, error, origin),
    });
  }

  subscribe(options: unknown, handler: BatchHandler<TelemetryEvent>): Subscription {
    this.assertOpen();
    const path = 'subscribe(options)';
    if (typeof handler !== 'function') throw new TelemetryConfigError('subscribe(handler)', handler, 'a function');
    const o = resolveSubscribe(options, path);
    const bits = compileSelection(this.catalog, this.levels, o, path);
    const id = o.id ?? `subscriber-${this.#nextSubscriber++}`;
    const subscriber = this.addSubscriber(id, { lossy: o.lossy, maxQueue: o.maxQueue, maxBatch: o.maxBatch, bits }, handler);
    return { id, unsubscribe: () => this.unsubscribe(subscriber), stats: () => subscriber.stats() };
  }

  on(pattern: string, listener: HostListener): () => void {
    this.assertOpen();
    return this.listeners.on(pattern, listener);
  }

  /** A tracer: its sink and the subscribers that feed it. */
  attach(spec: SinkSpec): void {
    attachSink(this, spec);
  }

  /** What webhooks, history, live streams and alerts get from the core. */
  context(): CoreContext {
    return {
      service: this.service,
      catalog: this.catalog,
      now: () => this.now(),
      describe: (type) => this.describe(type),
      spans: this.spans,
      subscribe: (options, handler) => this.#mechanismSubscribe(options, handler),
      report: (name, data) => this.report(name, data, undefined),
      attach: (mechanism) => {
        this.dispatcher.mechanisms.push(mechanism);
      },
    };
  }

  #mechanismSubscribe(o: MechanismSubscribeOptions, handler: BatchHandler<EventRecord>): MechanismSubscription {
    this.assertOpen();
    const bits = compileSelection(this.catalog, this.levels, o, o.path);
    if (o.spans === true) this.addSpanBits(bits);
    const options = {
      lossy: o.lossy,
      maxQueue: o.maxQueue,
      maxBatch: o.maxBatch,
      bits,
      errorEvent: o.errorEvent,
      onDrop: o.onDrop,
      delay: o.delay,
      // Every mechanism's output is a sink: the sensitive keys never reach it.
      redact: this.sensitive,
    };
    const subscriber = this.addSubscriber(o.id, options, handler);
    return {
      id: o.id,
      unsubscribe: () => this.unsubscribe(subscriber),
      stats: () => subscriber.stats(),
      deliverNow: () => this.dispatcher.deliverNow(subscriber),
      report: (name, data) => this.report(name, data, subscriber),
    };
  }

  addSubscriber(id: string, options: SubscriberOptions, handler: BatchHandler<EventRecord>): Subscriber {
    const subscriber = new Subscriber(id, options, handler, this.dispatcher);
    this.dispatcher.subscribers.add(subscriber);
    this.#deps.rebuild();
    return subscriber;
  }

  unsubscribe(subscriber: Subscriber): void {
    if (!this.dispatcher.subscribers.delete(subscriber)) return;
    this.dispatcher.forget(subscriber);
    this.#deps.discarded(subscriber.close());
    this.#deps.rebuild();
  }

  assertOpen(): void {
    if (this.#deps.closed()) throw new Error('mail-telemetry: this instance has been shut down');
  }

  now(): number {
    return this.#deps.now();
  }

  describe(type: string): string {
    return this.catalog.get(type)?.description ?? type;
  }

  parentOf(spanId: number | string): number | undefined {
    return this.#deps.spans.get(spanId)?.parentId;
  }

  addSpanBits(bits: Uint32Array): void {
    this.#deps.table.addSpanBits(bits);
  }

  report(name: string, data: Data, origin: object | undefined): void {
    this.#deps.report(name, data, origin);
  }

  spanHooked(): void {
    this.#deps.spanHooked();
  }

  counter(name: string, options: LossCounterOptions): LossCounter {
    return this.#deps.counter(name, options);
  }
}
