import { TelemetryConfigError } from '../base/errors.js';
import type { EventRecord } from './event.js';
import type { Mechanism } from './mechanism.js';
import type { Sink } from './sink.js';
import type { Subscriber, SubscriberHost } from './subscriber.js';
import type { FlushReport } from './types.js';

/** A tracer's sink with the reporter of its failures. */
export interface AttachedSink {
  readonly sink: Sink;
  readonly report: (error: unknown, details?: string) => void;
}

/** What the dispatcher tells the runtime about its subscribers. */
export interface DispatchEvents {
  /** `count` events were dropped by a full queue. */
  dropped(subscriber: Subscriber, count: number): void;
  /** A handler threw or rejected on `batch`. */
  failed(subscriber: Subscriber, error: unknown, batch: readonly EventRecord[]): void;
  /** A mechanism's flush or close hook failed. */
  mechanismFailed(mechanism: Mechanism, error: unknown): void;
}

/**
 * Delivery off the emitter's stack: the subscribers, one `setImmediate` round for every ready one,
 * and the flush and close hooks of sinks and mechanisms.
 */
export class Dispatcher implements SubscriberHost {
  readonly subscribers = new Set<Subscriber>();
  readonly sinks: AttachedSink[] = [];
  readonly mechanisms: Mechanism[] = [];
  #ready: Subscriber[] = [];
  #immediate: NodeJS.Immediate | undefined;
  /** Delayed subscribers whose window is running. */
  readonly #waiting = new Set<Subscriber>();
  readonly #events: DispatchEvents;
  readonly #deliver = () => this.#deliverReady();
  readonly #deliverLate = (subscriber: Subscriber) => this.deliverNow(subscriber);

  constructor(events: DispatchEvents) {
    this.#events = events;
  }

  ready(subscriber: Subscriber, backlog = false): void {
    if (subscriber.scheduled) return;
    subscriber.scheduled = true;
    // Held events would live through more garbage collections: a backlog does not wait again.
    if (!backlog && subscriber.delay > 0 && subscriber.queued < subscriber.maxBatch) {
      subscriber.timer = setTimeout(this.#deliverLate, subscriber.delay, subscriber);
      this.#waiting.add(subscriber);
      return;
    }
    this.#ready.push(subscriber);
    this.#immediate ??= setImmediate(this.#deliver);
  }

  /** Delivers a subscriber's queue now (a query that must see what was emitted before it). */
  deliverNow(subscriber: Subscriber): void {
    this.forget(subscriber);
    subscriber.scheduled = false;
    subscriber.deliver();
  }

  /** Stops a removed subscriber's window, so no timer outlives it. */
  forget(subscriber: Subscriber): void {
    if (subscriber.timer === undefined) return;
    clearTimeout(subscriber.timer);
    subscriber.timer = undefined;
    this.#waiting.delete(subscriber);
  }

  due(subscriber: Subscriber): void {
    if (subscriber.timer === undefined) return;
    this.forget(subscriber);
    this.#ready.push(subscriber);
    this.#immediate ??= setImmediate(this.#deliver);
  }

  dropped(subscriber: Subscriber, count: number): void {
    this.#events.dropped(subscriber, count);
  }

  failed(subscriber: Subscriber, error: unknown, batch: readonly EventRecord[]): void {
    this.#events.failed(subscriber, error, batch);
  }

  /** Events queued or in flight in every subscriber. */
  pending(): number {
    let pending = 0;
    for (const subscriber of this.subscribers) pending += subscriber.pending;
    return pending;
  }

  /**
   * Delivers until nothing is pending or `timeout` ms pass, then flushes sinks and mechanisms. Two
   * rounds: reports made while they flush (webhook failures, discards) are delivered too.
   */
  async drain(timeout: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        timedOut = true;
        resolve();
      }, timeout);
    });
    const drained = (async () => {
      for (let round = 0; round < 2 && !timedOut && (round === 0 || this.pending() > 0); round++) {
        while (!timedOut && this.pending() > 0) {
          this.#endWindows();
          if (this.#immediate !== undefined) {
            clearImmediate(this.#immediate);
            this.#deliverReady();
          }
          await Promise.all([...this.subscribers].map((s) => s.whenIdle()));
        }
        if (!timedOut) await this.each('flush');
      }
    })();
    await Promise.race([drained, expired]);
    clearTimeout(timer);
  }

  /** What is still queued or held, by subscriber and by mechanism. */
  report(): FlushReport {
    const left = [...this.subscribers].filter((s) => s.pending > 0).map((s) => ({ id: s.id, pending: s.pending }));
    return withMechanisms(left, this.mechanisms);
  }

  /**
   * Closes every subscriber and reports what was discarded (and what was still in flight), plus
   * what the mechanisms still hold; `discarded` gets the count of events dropped here.
   */
  close(discarded: (count: number) => void): FlushReport {
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    this.#ready = [];
    for (const subscriber of [...this.#waiting]) this.forget(subscriber);
    const left: { id: string; pending: number }[] = [];
    for (const subscriber of this.subscribers) {
      const inFlight = subscriber.inFlight;
      const dropped = subscriber.close();
      discarded(dropped);
      if (dropped + inFlight > 0) left.push({ id: subscriber.id, pending: dropped + inFlight });
    }
    this.subscribers.clear();
    return withMechanisms(left, this.mechanisms);
  }

  /**
   * Drains within `timeout`, stops intake, drains again and closes sinks and mechanisms in the time
   * left; then closes every subscriber and reports what was really discarded, not a snapshot taken
   * before the mechanisms closed.
   */
  async shutdown(timeout: number, stopIntake: () => void, discarded: (count: number) => void): Promise<FlushReport> {
    const deadline = Date.now() + timeout;
    await this.drain(timeout);
    stopIntake();
    await this.drain(Math.max(0, deadline - Date.now()));
    await within(this.each('close'), Math.max(0, deadline - Date.now()));
    return this.close(discarded);
  }

  /** Calls a hook on every sink and mechanism; a failure is reported, never thrown. */
  async each(hook: 'flush' | 'close'): Promise<void> {
    await Promise.all([
      ...this.sinks.map(async ({ sink, report }) => {
        try {
          await sink[hook]?.();
        } catch (error) {
          report(error, `${hook} failed`);
        }
      }),
      ...this.mechanisms.map(async (mechanism) => {
        try {
          await mechanism[hook]?.();
        } catch (error) {
          this.#events.mechanismFailed(mechanism, error);
        }
      }),
    ]);
  }

  /** Delivers every delayed subscriber now (flush and shutdown do not wait for windows). */
  #endWindows(): void {
    for (const subscriber of [...this.#waiting]) this.deliverNow(subscriber);
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
}

function withMechanisms(left: { id: string; pending: number }[], mechanisms: readonly Mechanism[]): FlushReport {
  for (const mechanism of mechanisms) {
    const pending = safePending(mechanism);
    if (pending > 0) left.push({ id: mechanism.id, pending });
  }
  const pending = left.reduce((sum, s) => sum + s.pending, 0);
  return { complete: pending === 0, pending, subscribers: left };
}

/** A mechanism's own pending count; a throwing one counts as holding nothing it can report. */
function safePending(mechanism: Mechanism): number {
  try {
    const pending = mechanism.pending?.() ?? 0;
    return Number.isFinite(pending) && pending > 0 ? pending : 0;
  } catch {
    return 0;
  }
}

/** Waits for `promise`, but no longer than `ms`. */
export async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Validates a `flush`/`shutdown` timeout. */
export function checkTimeout(timeout: unknown): void {
  if (typeof timeout !== 'number' || !(timeout >= 0) || timeout > 2_147_483_647) {
    throw new TelemetryConfigError('timeout', timeout, 'milliseconds from 0 to 2147483647');
  }
}
