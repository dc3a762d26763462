import type { Level } from '../base/levels.js';
import type { Catalog } from '../catalog/catalog.js';
import type { EventRecord } from './event.js';
import type { BatchHandler, SubscriberStats } from './subscriber.js';

/** How a mechanism (webhooks, history, live, alerts) takes events from the core. */
export interface MechanismSubscribeOptions {
  /** Names the consumer in stats and error events. */
  readonly id: string;
  /** The option path quoted when a pattern is bad, such as `options.webhooks[0].events`. */
  readonly path: string;
  /** Names or wildcards; undefined takes every event. */
  readonly events?: readonly string[] | undefined;
  readonly exclude?: readonly string[] | undefined;
  /** @default 'trace' */
  readonly level?: Level | undefined;
  readonly lossy: boolean;
  readonly maxQueue: number;
  readonly maxBatch: number;
  /**
   * The library event a throwing or rejecting handler is reported as.
   * @default 'telemetry.subscriber-error'
   */
  readonly errorEvent?: string | undefined;
  /** Also take every span start and end event, whatever its level. @default false */
  readonly spans?: boolean | undefined;
  /**
   * Called synchronously, once, with every event the core drops for this consumer: the oldest when
   * a lossy queue is full, the refused one when a lossless queue is full, and each event still
   * queued at unsubscribe or shutdown. The drops are counted whether or not this is given.
   */
  readonly onDrop?: ((event: EventRecord) => void) | undefined;
  /**
   * Milliseconds events gather before delivery: one batch per window instead of one per tick.
   * `flush()` and `shutdown()` do not wait for it.
   * @default 0 (the next tick)
   */
  readonly delay?: number | undefined;
}

/** A consumer added by a mechanism. */
export interface MechanismSubscription {
  readonly id: string;
  /** Stops delivery at once; queued events are discarded and counted. */
  unsubscribe(): void;
  stats(): SubscriberStats;
  /** Hands the queued events to the handler now, without waiting for the window or the tick. */
  deliverNow(): void;
  /** Emits one of the library's events on this consumer's behalf: this consumer never receives it. */
  report(name: string, data: Readonly<Record<string, unknown>>): void;
}

/** A mechanism's hooks into `flush` and `shutdown`. */
export interface Mechanism {
  readonly id: string;
  /** Events held by the mechanism itself (not in its subscriber queue), for the flush report. */
  pending?(): number;
  /** Delivers what the mechanism holds; the runtime races it against the flush timeout. */
  flush?(): Promise<void>;
  /** Stops timers and frees resources; called once by `shutdown`, after `flush`. */
  close?(): Promise<void> | void;
}

/**
 * What the core gives each mechanism when the instance is created. The composition root adds the
 * metrics registry (`MechanismContext` in src/metrics/api.ts).
 */
export interface CoreContext {
  readonly service: string;
  readonly catalog: Catalog;
  /** The instance's clock, in epoch milliseconds (injectable in tests). */
  now(): number;
  /** The one-line description of an event type. */
  describe(type: string): string;
  /** Span start event names -> their end event names. */
  readonly spans: ReadonlyMap<string, string>;
  /** Adds a bounded, batched consumer of events. Throws `TelemetryConfigError` on a bad pattern. */
  subscribe(options: MechanismSubscribeOptions, handler: BatchHandler<EventRecord>): MechanismSubscription;
  /** Emits one of the library's own events (`telemetry.*`). */
  report(name: string, data: Readonly<Record<string, unknown>>): void;
  /** Registers flush/close hooks. */
  attach(mechanism: Mechanism): void;
}
