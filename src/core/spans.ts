import type { SpanId } from '../catalog/keys.js';

type Data = Readonly<Record<string, unknown>>;

/** An open span: its start event's keys are merged into every event that carries its id. */
export interface SpanState {
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

/** Open spans, oldest first, with a bound on their number and age. */
export class SpanTable {
  readonly #open = new Map<number, SpanState>();
  readonly #maxOpen: number;
  readonly #maxAge: number;
  readonly #onSwept: (count: number) => void;

  constructor(maxOpen: number, maxAge: number, onSwept: (count: number) => void) {
    this.#maxOpen = maxOpen;
    this.#maxAge = maxAge;
    this.#onSwept = onSwept;
  }

  get size(): number {
    return this.#open.size;
  }

  open(span: SpanState, now: number): void {
    this.#open.set(span.id, span);
    if (this.#open.size > this.#maxOpen) this.sweep(now);
  }

  get(id: SpanId): SpanState | undefined {
    return this.#open.get(typeof id === 'number' ? id : Number(id));
  }

  close(span: SpanState): void {
    span.ended = true;
    this.#open.delete(span.id);
  }

  /** Forgets spans older than the maximum age, then the oldest beyond the maximum count. */
  sweep(now: number): number {
    let swept = 0;
    for (const span of this.#open.values()) {
      const overCount = this.#open.size > this.#maxOpen;
      if (!overCount && now - span.startedAt <= this.#maxAge) break;
      // Only the table forgets it: a late end() through its handle still emits the end event.
      this.#open.delete(span.id);
      swept++;
    }
    if (swept > 0) this.#onSwept(swept);
    return swept;
  }

  clear(): void {
    this.#open.clear();
  }
}
