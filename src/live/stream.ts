import { severity } from '../base/levels.js';
import type { TelemetryEvent } from '../catalog/types.js';
import { type CompiledFilter, matches, type Probe } from './filter.js';

/** Events read together, with how many were lost before them. */
export interface LiveBatch {
  readonly events: readonly TelemetryEvent[];
  /** Events dropped since the previous batch because the reader was too slow. */
  readonly dropped: number;
}

/**
 * A live event stream: `for await (const event of stream)`. `break`, `return()`, `close()` or
 * the filter's `signal` end it and free its subscription at once.
 */
export interface LiveEventStream extends AsyncIterableIterator<TelemetryEvent> {
  /** Events dropped so far because the buffer was full (the oldest go first). */
  readonly dropped: number;
  /** Events waiting to be read. */
  readonly buffered: number;
  /** True once the stream has ended; buffered events can still be read after `shutdown`. */
  readonly closed: boolean;
  /** Reads the stream in batches, each telling how many events were lost before it. */
  batches(): AsyncIterableIterator<LiveBatch>;
  /** Ends the stream and discards what it holds. */
  close(): void;
  next(): Promise<IteratorResult<TelemetryEvent, undefined>>;
  return(): Promise<IteratorResult<TelemetryEvent, undefined>>;
}

const DONE: IteratorResult<never, undefined> = Object.freeze({ done: true, value: undefined });

/** The fixed-size buffer, filter and span stickiness of one stream. */
export class EventStream implements LiveEventStream {
  readonly filter: CompiledFilter;
  /** Event names of span ends: a sticky span is forgotten at its end. */
  readonly #spanEnds: ReadonlySet<string>;
  /** Grows by doubling up to `#capacity`, so an idle stream costs a few slots, not its whole buffer. */
  #items: (TelemetryEvent | undefined)[];
  readonly #capacity: number;
  readonly #maxSticky: number;
  /** Spans whose later events stream whatever their keys; insertion order gives the eviction order. */
  readonly #sticky = new Map<number | string, true>();
  readonly #onClose: (stream: EventStream) => void;
  #head = 0;
  #size = 0;
  #dropped = 0;
  #droppedRead = 0;
  /** Drops not yet reported as `telemetry.events-dropped`. */
  unreported = 0;
  lastReport = 0;
  #closed = false;
  #ending = false;
  #waiter: { readonly count: number; readonly resolve: () => void; timer: NodeJS.Timeout | undefined } | undefined;
  #signal: AbortSignal | undefined;
  readonly #abort = () => this.close();

  constructor(
    filter: CompiledFilter,
    capacity: number,
    maxSticky: number,
    spanEnds: ReadonlySet<string>,
    signal: AbortSignal | undefined,
    onClose: (stream: EventStream) => void,
  ) {
    this.filter = filter;
    this.#capacity = capacity;
    this.#items = new Array<TelemetryEvent | undefined>(Math.min(capacity, 16));
    this.#maxSticky = maxSticky;
    this.#spanEnds = spanEnds;
    this.#onClose = onClose;
    if (signal !== undefined) {
      this.#signal = signal;
      signal.addEventListener('abort', this.#abort, { once: true });
    }
  }

  get dropped(): number {
    return this.#dropped;
  }

  get buffered(): number {
    return this.#size;
  }

  get closed(): boolean {
    return this.#closed || this.#ending;
  }

  /** True once `end()` was called: nothing new arrives, the buffer drains. */
  get ending(): boolean {
    return this.#ending;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Filters one event into the buffer. `probe` has been reset to this event. */
  accept(event: TelemetryEvent, probe: Probe): void {
    if (this.#closed || this.#ending) return;
    const f = this.filter;
    const span = event.spanId;
    const selected =
      ((f.bits[event.typeId >>> 5] ?? 0) & (1 << (event.typeId & 31))) !== 0 && severity(event.level) >= f.minSeverity;
    if (span !== undefined && this.#sticky.size > 0 && this.#sticky.has(span)) {
      if (this.#spanEnds.has(event.type)) this.#sticky.delete(span);
      if (selected) this.#push(event);
      return;
    }
    if (!selected) return;
    if (f.narrowing) {
      if (!matches(f, probe)) return;
      if (f.sticky && span !== undefined && this.#maxSticky > 0 && !this.#spanEnds.has(event.type)) this.#stick(span);
    }
    this.#push(event);
  }

  /** Counts events lost upstream (before filtering) against this stream. */
  lost(count: number): void {
    this.#dropped += count;
    this.unreported += count;
  }

  #stick(span: number | string): void {
    if (this.#sticky.size >= this.#maxSticky) {
      const oldest = this.#sticky.keys().next();
      if (oldest.done !== true) this.#sticky.delete(oldest.value);
    }
    this.#sticky.set(span, true);
  }

  #push(event: TelemetryEvent): void {
    if (this.#size === this.#items.length) {
      if (this.#size < this.#capacity) this.#grow();
      else {
        this.#head = (this.#head + 1) % this.#size;
        this.#size--;
        this.#dropped++;
        this.unreported++;
      }
    }
    const capacity = this.#items.length;
    this.#items[(this.#head + this.#size) % capacity] = event;
    this.#size++;
    const waiter = this.#waiter;
    if (waiter !== undefined && this.#size >= waiter.count) this.#release();
  }

  #grow(): void {
    const old = this.#items;
    const next = new Array<TelemetryEvent | undefined>(Math.min(this.#capacity, Math.max(16, old.length * 2)));
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) % old.length];
    this.#items = next;
    this.#head = 0;
  }

  /** Removes and returns up to `max` of the oldest events. */
  take(max: number): TelemetryEvent[] {
    const count = Math.min(max, this.#size);
    const out = new Array<TelemetryEvent>(count);
    for (let i = 0; i < count; i++) out[i] = this.shift() as TelemetryEvent;
    return out;
  }

  /** Removes and returns the oldest event, if any. */
  shift(): TelemetryEvent | undefined {
    if (this.#size === 0) return undefined;
    const event = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return event;
  }

  /** Drops counted since the last call. */
  takeDropped(): number {
    const count = this.#dropped - this.#droppedRead;
    this.#droppedRead = this.#dropped;
    return count;
  }

  /**
   * Resolves once `count` events are buffered, the stream ends, `wake()` is called or `timeout` ms
   * pass. One reader at a time.
   */
  wait(count: number, timeout = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.#size >= count || this.#closed || this.#ending) return Promise.resolve();
    this.#release();
    return new Promise<void>((resolve) => {
      const waiter: { count: number; resolve: () => void; timer: NodeJS.Timeout | undefined } = {
        count,
        resolve,
        timer: undefined,
      };
      if (Number.isFinite(timeout)) {
        waiter.timer = setTimeout(() => this.#release(), Math.max(0, timeout));
        waiter.timer.unref();
      }
      this.#waiter = waiter;
    });
  }

  /** Releases a waiting reader now. */
  wake(): void {
    this.#release();
  }

  #release(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    this.#waiter = undefined;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    waiter.resolve();
  }

  async next(): Promise<IteratorResult<TelemetryEvent, undefined>> {
    for (;;) {
      const event = this.shift();
      if (event !== undefined) return { done: false, value: event };
      if (this.#closed || this.#ending) {
        this.close();
        return DONE;
      }
      await this.wait(1);
    }
  }

  async return(): Promise<IteratorResult<TelemetryEvent, undefined>> {
    this.close();
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  batches(): AsyncIterableIterator<LiveBatch> {
    const iterator: AsyncIterableIterator<LiveBatch> = {
      next: async () => {
        for (;;) {
          if (this.#size > 0 || (this.#dropped > this.#droppedRead && !this.#closed)) {
            return { done: false, value: { dropped: this.takeDropped(), events: this.take(this.#size) } };
          }
          if (this.#closed || this.#ending) {
            this.close();
            return DONE;
          }
          await this.wait(1);
        }
      },
      return: async () => {
        this.close();
        return DONE;
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** Stops new events; the reader still gets what is buffered, then the end. */
  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    this.#detach();
    this.#release();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const wasEnding = this.#ending;
    this.#ending = true;
    this.#items = [];
    this.#head = 0;
    this.#size = 0;
    this.#sticky.clear();
    if (!wasEnding) this.#detach();
    this.#release();
  }

  #detach(): void {
    this.#signal?.removeEventListener('abort', this.#abort);
    this.#signal = undefined;
    this.#onClose(this);
  }
}
