/** A growable FIFO ring: O(1) push and shift, no `Array.shift()`. */
export class Ring<T> {
  #items: (T | undefined)[];
  #head = 0;
  #size = 0;

  constructor(initialCapacity = 16) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.#items = new Array<T | undefined>(capacity);
  }

  /** Number of items held. */
  get size(): number {
    return this.#size;
  }

  /** Appends an item. */
  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) & (this.#items.length - 1)] = item;
    this.#size++;
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#size--;
    return item;
  }

  /** Removes up to `max` of the oldest items and returns them in order. */
  drain(max: number): T[] {
    const count = Math.min(max, this.#size);
    const out = new Array<T>(count);
    const mask = this.#items.length - 1;
    for (let i = 0; i < count; i++) {
      const at = (this.#head + i) & mask;
      out[i] = this.#items[at] as T;
      this.#items[at] = undefined;
    }
    this.#head = (this.#head + count) & mask;
    this.#size -= count;
    return out;
  }

  /** Removes everything and returns how many items there were. */
  clear(): number {
    const count = this.#size;
    this.#items = new Array<T | undefined>(16);
    this.#head = 0;
    this.#size = 0;
    return count;
  }

  #grow(): void {
    const old = this.#items;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) & (old.length - 1)];
    this.#items = next;
    this.#head = 0;
  }
}
