/** Separates the items of an array value in its interned text; values never contain it in practice. */
export const ITEM_SEPARATOR = '\u0000';

/**
 * Distinct key values with reference counts, so a ring can keep a 4-byte id per key and slot, and a
 * query can decide a condition once per distinct value instead of once per event. Id 0 means "no value".
 */
export class Interner {
  readonly #ids = new Map<string, number>();
  #values: (string | undefined)[] = [undefined];
  #refs = new Int32Array(1024);
  readonly #free: number[] = [];
  /** Ids of array values (items joined by {@link ITEM_SEPARATOR}). */
  readonly composites = new Set<number>();

  /** One past the largest id handed out: the size of a per-id mask. */
  get span(): number {
    return this.#values.length;
  }

  /** Distinct values held. */
  get size(): number {
    return this.#ids.size;
  }

  /** The id of `text`, with one more reference. */
  acquire(text: string): number {
    let id = this.#ids.get(text);
    if (id === undefined) {
      id = this.#free.pop() ?? this.#values.length;
      if (id === this.#values.length) this.#values.push(text);
      else this.#values[id] = text;
      if (id >= this.#refs.length) {
        const grown = new Int32Array(this.#refs.length * 2);
        grown.set(this.#refs);
        this.#refs = grown;
      }
      this.#ids.set(text, id);
      if (text.includes(ITEM_SEPARATOR)) this.composites.add(id);
    }
    this.#refs[id] = (this.#refs[id] as number) + 1;
    return id;
  }

  /** Drops one reference; the value is forgotten with its last one. */
  release(id: number): void {
    if (id === 0) return;
    const left = (this.#refs[id] as number) - 1;
    this.#refs[id] = left;
    if (left > 0) return;
    const text = this.#values[id] as string;
    this.#ids.delete(text);
    this.#values[id] = undefined;
    this.composites.delete(id);
    this.#free.push(id);
  }

  /** Adds a reference to `id`, which must be held. */
  retain(id: number): void {
    this.#refs[id] = (this.#refs[id] as number) + 1;
  }

  /** The id of `text` if held (no new reference). */
  find(text: string): number | undefined {
    return this.#ids.get(text);
  }

  /** The text of id `id`, if held. */
  value(id: number): string | undefined {
    return this.#values[id];
  }

  clear(): void {
    this.#ids.clear();
    this.#values = [undefined];
    this.#refs = new Int32Array(1024);
    this.#free.length = 0;
    this.composites.clear();
  }
}
