import type { SpanId } from '../catalog/keys.js';
import type { SpanJsonSlot } from './event.js';
import { IdTable } from './id-table.js';

type Data = Readonly<Record<string, unknown>>;

/** An open span: its start event's keys are merged into every event that carries its id. */
export interface SpanState extends SpanJsonSlot {
  readonly id: number;
  /** The event that ends the span. */
  readonly endName: string;
  readonly startedAt: number;
  /** The start event's keys, including `spanId`. */
  readonly data: Data;
  /** The span current through `withSpan` when this one started. */
  readonly parentId: number | undefined;
  ended: boolean;
}

/** Open spans, with a bound on their number and age. */
export class SpanTable {
  readonly #byId = new IdTable<SpanState>();
  /** Spans in opening order; closed ones stay until they reach the head or a compaction. */
  #order: SpanState[] = [];
  #head = 0;
  readonly #maxOpen: number;
  readonly #maxAge: number;
  readonly #onSwept: (count: number) => void;

  constructor(maxOpen: number, maxAge: number, onSwept: (count: number) => void) {
    this.#maxOpen = maxOpen;
    this.#maxAge = maxAge;
    this.#onSwept = onSwept;
  }

  get size(): number {
    return this.#byId.size;
  }

  open(span: SpanState, now: number): void {
    this.#byId.set(span.id, span);
    this.#order.push(span);
    if (this.#byId.size > this.#maxOpen) this.sweep(now);
    else if (this.#order.length - this.#head > 2 * this.#byId.size + 64) this.#compact();
  }

  get(id: SpanId): SpanState | undefined {
    return this.#byId.get(typeof id === 'number' ? id : Number(id));
  }

  close(span: SpanState): void {
    span.ended = true;
    this.#byId.delete(span.id);
  }

  /** Forgets spans older than the maximum age, then the oldest beyond the maximum count. */
  sweep(now: number): number {
    let swept = 0;
    const order = this.#order;
    while (this.#head < order.length) {
      const span = order[this.#head] as SpanState;
      if (this.#byId.get(span.id) === span) {
        if (this.#byId.size <= this.#maxOpen && now - span.startedAt <= this.#maxAge) break;
        // Only the table forgets it: a late end() through its handle still emits the end event.
        this.#byId.delete(span.id);
        swept++;
      }
      this.#head++;
    }
    if (this.#head > 64 && this.#head * 2 > order.length) this.#compact();
    if (swept > 0) this.#onSwept(swept);
    return swept;
  }

  clear(): void {
    this.#byId.clear();
    this.#order = [];
    this.#head = 0;
  }

  #compact(): void {
    const live: SpanState[] = [];
    for (let i = this.#head; i < this.#order.length; i++) {
      const span = this.#order[i] as SpanState;
      if (this.#byId.get(span.id) === span) live.push(span);
    }
    this.#order = live;
    this.#head = 0;
  }
}
