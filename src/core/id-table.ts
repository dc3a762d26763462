const EMPTY = -1;
const DELETED = -2;
const MIN_CAPACITY = 16;

/**
 * A hash table keyed by span id (a non-negative integer below 2^53). A `Map` shrinks and regrows
 * its backing store, in the C++ runtime, when it swings between empty and one entry, which is
 * exactly what a span table does between connections; this table never shrinks, so opening and
 * closing a span allocates nothing. Open addressing with linear probing over a `Float64Array`.
 */
export class IdTable<V> {
  #keys: Float64Array;
  #values: (V | undefined)[];
  #mask: number;
  #size = 0;
  /** Live entries plus tombstones: the probe chains' load. */
  #used = 0;

  constructor(capacity = MIN_CAPACITY) {
    let cap = MIN_CAPACITY;
    while (cap < capacity) cap *= 2;
    this.#keys = new Float64Array(cap).fill(EMPTY);
    this.#values = new Array<V | undefined>(cap).fill(undefined);
    this.#mask = cap - 1;
  }

  get size(): number {
    return this.#size;
  }

  get(id: number): V | undefined {
    const keys = this.#keys;
    const mask = this.#mask;
    // ToInt32 keeps the low 32 bits of any integer below 2^53: time-ordered ids spread well.
    for (let i = (id | 0) & mask; ; i = (i + 1) & mask) {
      const key = keys[i] as number;
      if (key === id) return this.#values[i];
      if (key === EMPTY) return undefined;
    }
  }

  set(id: number, value: V): void {
    const keys = this.#keys;
    const mask = this.#mask;
    let free = -1;
    for (let i = (id | 0) & mask; ; i = (i + 1) & mask) {
      const key = keys[i] as number;
      if (key === id) {
        this.#values[i] = value;
        return;
      }
      if (key === DELETED && free < 0) free = i;
      if (key === EMPTY) {
        if (free < 0) {
          free = i;
          this.#used++;
        }
        break;
      }
    }
    keys[free] = id;
    this.#values[free] = value;
    this.#size++;
    if (this.#used * 4 > (mask + 1) * 3) this.#rehash(this.#size * 4 > mask + 1 ? (mask + 1) * 2 : mask + 1);
  }

  delete(id: number): boolean {
    const keys = this.#keys;
    const mask = this.#mask;
    for (let i = (id | 0) & mask; ; i = (i + 1) & mask) {
      const key = keys[i] as number;
      if (key === id) {
        this.#values[i] = undefined;
        this.#size--;
        if (keys[(i + 1) & mask] !== EMPTY) {
          keys[i] = DELETED;
          return true;
        }
        // The end of a chain: this slot, and the tombstones before it, can be empty again.
        for (let j = i; keys[j] === id || keys[j] === DELETED; j = (j - 1) & mask) {
          keys[j] = EMPTY;
          this.#used--;
        }
        return true;
      }
      if (key === EMPTY) return false;
    }
  }

  /** Live entries, in no particular order. */
  *entries(): IterableIterator<[number, V]> {
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as number;
      if (key >= 0) yield [key, this.#values[i] as V];
    }
  }

  clear(): void {
    this.#keys.fill(EMPTY);
    this.#values.fill(undefined);
    this.#size = 0;
    this.#used = 0;
  }

  /** Rebuilds without tombstones, at `capacity` slots. */
  #rehash(capacity: number): void {
    const old = [...this.entries()];
    this.#keys = new Float64Array(capacity).fill(EMPTY);
    this.#values = new Array<V | undefined>(capacity).fill(undefined);
    this.#mask = capacity - 1;
    this.#size = 0;
    this.#used = 0;
    for (const [id, value] of old) this.set(id, value);
  }
}
