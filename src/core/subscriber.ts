import { nextId } from '../base/ids.js';
import type { Level } from '../base/levels.js';
import { Ring } from '../base/ring.js';
import { EventRecord } from './event.js';
import { redactBatch } from './redact.js';
import type { SpanEmitHook } from './sink.js';
import type { SpanState } from './spans.js';

/** Receives a batch of events. A returned promise holds back the next batch until it settles. */
export type BatchHandler<E> = (batch: readonly E[]) => void | PromiseLike<void>;

/** Counters of one subscriber. */
export interface SubscriberStats {
  readonly id: string;
  readonly lossy: boolean;
  /** Events waiting in the queue. */
  readonly queued: number;
  /** Events handed to the handler whose promise has not settled. */
  readonly inFlight: number;
  /** Events handed to the handler. */
  readonly delivered: number;
  /** Events dropped because the queue was full (lossy: the oldest; lossless: the newest). */
  readonly dropped: number;
  /** Handler calls that threw or rejected. */
  readonly failures: number;
}

/** How a subscriber queues and which events it takes. */
export interface SubscriberOptions {
  readonly lossy: boolean;
  readonly maxQueue: number;
  readonly maxBatch: number;
  /** Interest bitset over event ids. */
  readonly bits: Uint32Array;
  /** The library event a failure is reported as. @default 'telemetry.subscriber-error' */
  readonly errorEvent?: string | undefined;
  /** Keys written as `[redacted]` in every batch the handler gets. */
  readonly redact?: ReadonlySet<string> | undefined;
  /** Called once with every event this subscriber drops (queue full) or discards (close). */
  readonly onDrop?: ((event: EventRecord) => void) | undefined;
  /**
   * Milliseconds events gather before they are delivered, so a consumer whose latency allows it
   * gets one batch per window instead of one per tick at real rates. A queue holding `maxBatch`
   * events is delivered at once; `flush()` and `shutdown()` deliver without waiting.
   * @default 0 (the next tick)
   */
  readonly delay?: number | undefined;
}

/** What the subscriber needs from the dispatcher that drives it. */
export interface SubscriberHost {
  /**
   * The subscriber has events to deliver. A window (`delay`) opens only when it was idle: a
   * `backlog` left after a delivery, or a full queue, goes on the next tick.
   */
  ready(subscriber: Subscriber, backlog?: boolean): void;
  /** A delayed subscriber's queue is full: deliver it on the next tick instead. */
  due(subscriber: Subscriber): void;
  dropped(subscriber: Subscriber, count: number): void;
  failed(subscriber: Subscriber, error: unknown, batch: readonly EventRecord[]): void;
}

/** A bounded, batched in-process consumer. */
export class Subscriber {
  readonly id: string;
  readonly lossy: boolean;
  readonly maxQueue: number;
  readonly maxBatch: number;
  /** The library event a failure of this subscriber is reported as. */
  readonly errorEvent: string;
  /** Interest bitset over event ids, fixed at configuration time. */
  bits: Uint32Array;
  /** True while listed for the next delivery round. */
  scheduled = false;
  /** Milliseconds events gather before delivery (0: the next tick). */
  readonly delay: number;
  /** The window's timer while a delayed delivery waits. */
  timer: NodeJS.Timeout | undefined = undefined;
  closed = false;
  /** Set on emit-time subscribers whose sink takes the events of open spans in parts. */
  spanHook: SpanEmitHook | undefined = undefined;
  readonly #queue = new Ring<EventRecord>(64);
  readonly #handler: BatchHandler<EventRecord>;
  readonly #host: SubscriberHost;
  readonly #onDrop: ((event: EventRecord) => void) | undefined;
  readonly #redact: ReadonlySet<string> | undefined;
  #inFlight = 0;
  #delivered = 0;
  #dropped = 0;
  #unreported = 0;
  #failures = 0;
  #settled: (() => void)[] = [];

  constructor(id: string, options: SubscriberOptions, handler: BatchHandler<EventRecord>, host: SubscriberHost) {
    this.id = id;
    this.lossy = options.lossy;
    this.maxQueue = options.maxQueue;
    this.maxBatch = options.maxBatch;
    this.delay = options.delay ?? 0;
    this.bits = options.bits;
    this.errorEvent = options.errorEvent ?? 'telemetry.subscriber-error';
    this.#handler = handler;
    this.#host = host;
    this.#onDrop = options.onDrop;
    this.#redact = options.redact !== undefined && options.redact.size > 0 ? options.redact : undefined;
  }

  /** Queues an event; drops by policy when the queue is full. Never throws. */
  push(event: EventRecord): void {
    if (this.#queue.size >= this.maxQueue) {
      this.#dropped++;
      this.#unreported++;
      if (!this.lossy) {
        if (this.#onDrop !== undefined) this.#drop(event);
        this.#host.ready(this, true);
        return;
      }
      const oldest = this.#queue.shift();
      if (this.#onDrop !== undefined && oldest !== undefined) this.#drop(oldest);
    }
    this.#queue.push(event);
    if (!this.scheduled) this.#host.ready(this);
    else if (this.timer !== undefined && this.#queue.size >= this.maxBatch) this.#host.due(this);
  }

  /** Events waiting in the queue. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Events handed to the handler whose promise has not settled. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Events queued or in flight. */
  get pending(): number {
    return this.#queue.size + this.#inFlight;
  }

  /** Hands the next batch to the handler unless one is still in flight. */
  deliver(): void {
    if (this.closed) return;
    if (this.#unreported > 0) {
      const count = this.#unreported;
      this.#unreported = 0;
      this.#host.dropped(this, count);
    }
    if (this.#inFlight > 0 || this.#queue.size === 0) return;
    const batch = this.#queue.drain(this.maxBatch);
    this.#delivered += batch.length;
    let result: void | PromiseLike<void>;
    let then: unknown;
    try {
      result = this.#handler(this.#redact === undefined ? batch : (redactBatch(batch, this.#redact) as EventRecord[]));
      then = result?.then;
    } catch (error) {
      this.#fail(error, batch);
      result = undefined;
    }
    if (typeof then === 'function') {
      this.#inFlight = batch.length;
      // A hostile thenable may throw, settle twice or call back synchronously: settle once, whatever it does.
      let settled = false;
      const done = (error?: unknown, failed = false) => {
        if (settled) return;
        settled = true;
        if (failed) this.#fail(error, batch);
        this.#settle();
      };
      try {
        (then as PromiseLike<void>['then']).call(
          result,
          () => done(),
          (error: unknown) => done(error, true),
        );
      } catch (error) {
        done(error, true);
      }
    } else if (this.#queue.size > 0) {
      this.#host.ready(this, true);
    } else {
      this.#notifySettled();
    }
  }

  /** Resolves when nothing is queued or in flight, or at once if that is already so. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#settled.push(resolve));
  }

  /** Stops delivery and returns how many queued events were discarded. */
  close(): number {
    this.closed = true;
    const onDrop = this.#onDrop;
    const discarded = onDrop === undefined ? this.#queue.clear() : this.#discardEach();
    this.#dropped += discarded;
    this.#notifySettled();
    return discarded;
  }

  stats(): SubscriberStats {
    return {
      id: this.id,
      lossy: this.lossy,
      queued: this.#queue.size,
      inFlight: this.#inFlight,
      delivered: this.#delivered,
      dropped: this.#dropped,
      failures: this.#failures,
    };
  }

  #settle(): void {
    this.#inFlight = 0;
    if (this.#queue.size > 0 && !this.closed) this.#host.ready(this, true);
    else this.#notifySettled();
  }

  #fail(error: unknown, batch: readonly EventRecord[]): void {
    this.#failures++;
    try {
      this.#host.failed(this, error, batch);
    } catch {
      // Reporting must never stop delivery; the failure is still counted above.
    }
  }

  #drop(event: EventRecord): void {
    try {
      (this.#onDrop as (event: EventRecord) => void)(event);
    } catch {
      // A throwing drop callback changes nothing: the drop is counted either way.
    }
  }

  #discardEach(): number {
    const discarded = this.#queue.size;
    for (const event of this.#queue.drain(discarded)) this.#drop(event);
    return discarded;
  }

  #notifySettled(): void {
    if (this.#settled.length === 0) return;
    const waiting = this.#settled;
    this.#settled = [];
    for (const resolve of waiting) resolve();
  }
}

/**
 * A consumer called on the emitter's stack, for sinks that must see the caller's async context
 * (the active OpenTelemetry span). It never queues; a throw is counted and reported like a
 * failed batch, and never reaches the emitter.
 */
export class EmitSubscriber extends Subscriber {
  readonly #hook: (event: EventRecord) => void;
  #calls = 0;
  #failed = 0;
  readonly #reportTo: SubscriberHost;

  constructor(id: string, bits: Uint32Array, errorEvent: string, hook: (event: EventRecord) => void, host: SubscriberHost) {
    super(id, { lossy: false, maxQueue: 1, maxBatch: 1, bits, errorEvent }, () => undefined, host);
    this.#hook = hook;
    this.#reportTo = host;
  }

  override push(event: EventRecord): void {
    if (this.closed) return;
    this.#calls++;
    try {
      this.#hook(event);
    } catch (error) {
      this.#failed++;
      this.#reportTo.failed(this, error, [event]);
    }
  }

  /** Like `push`, for an event of an open span given in parts; the event object is built only to report a throw. */
  pushInSpan(
    hook: SpanEmitHook,
    span: SpanState,
    typeId: number,
    type: string,
    level: Level,
    own: Readonly<Record<string, unknown>> | undefined,
    now: number,
  ): void {
    if (this.closed) return;
    this.#calls++;
    try {
      hook(span.id, typeId, type, level, own);
    } catch (error) {
      this.#failed++;
      const event = new EventRecord(nextId(now), type, typeId, level, now, span.id, own, span.data, undefined, span);
      this.#reportTo.failed(this, error, [event]);
    }
  }

  override stats(): SubscriberStats {
    return { ...super.stats(), delivered: this.#calls, failures: this.#failed };
  }
}
