import type { Item } from './serialize.js';

const LEVELS = 5;
const COMPACT_AT = 1024;

/** A FIFO over an array with a moving head: O(1) amortised, no `Array.shift()`. */
class Fifo {
  items: Item[] = [];
  head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  peek(): Item | undefined {
    return this.items[this.head];
  }

  shift(): Item {
    const item = this.items[this.head] as Item;
    this.items[this.head++] = undefined as unknown as Item;
    if (this.head >= COMPACT_AT && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * The events an endpoint holds before they are cut into requests: one FIFO per level, merged by
 * arrival order when read, so the oldest event of the lowest level can be dropped in O(1).
 */
export class PendingBuffer {
  readonly #fifos: Fifo[] = Array.from({ length: LEVELS }, () => new Fifo());
  #seq = 0;
  size = 0;
  bytes = 0;

  push(item: Item): void {
    item.seq = this.#seq++;
    (this.#fifos[item.level] ?? (this.#fifos[LEVELS - 1] as Fifo)).items.push(item);
    this.size++;
    this.bytes += item.bytes;
  }

  /** The oldest item, without removing it. */
  peek(): Item | undefined {
    return this.#oldest()?.peek();
  }

  /** Removes the oldest item. */
  shift(): Item | undefined {
    const fifo = this.#oldest();
    return fifo === undefined ? undefined : this.#take(fifo);
  }

  /** Removes the oldest item of the lowest level present. */
  shiftLowest(): Item | undefined {
    for (const fifo of this.#fifos) if (fifo.size > 0) return this.#take(fifo);
    return undefined;
  }

  /** Removes every item older than `cutoff` (by event time), oldest first. */
  expire(cutoff: number): Item[] {
    const out: Item[] = [];
    for (const fifo of this.#fifos) {
      while (fifo.size > 0 && (fifo.peek() as Item).timestamp < cutoff) out.push(this.#take(fifo));
    }
    return out.length > 1 ? out.sort((a, b) => a.seq - b.seq) : out;
  }

  /** Removes everything, oldest first. */
  clear(): Item[] {
    const out: Item[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }

  #take(fifo: Fifo): Item {
    const item = fifo.shift();
    this.size--;
    this.bytes -= item.bytes;
    return item;
  }

  #oldest(): Fifo | undefined {
    let best: Fifo | undefined;
    let seq = Number.POSITIVE_INFINITY;
    for (const fifo of this.#fifos) {
      const head = fifo.peek();
      if (head !== undefined && head.seq < seq) {
        seq = head.seq;
        best = fifo;
      }
    }
    return best;
  }
}
