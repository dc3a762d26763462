/** Values kept in a list, searched one by one, while they are at most this many; past it, in a set. */
const MAX_LIST = 16;

/**
 * A set of strings in insertion order that stays a plain list while it is small: a trace's
 * recipients and keywords are a handful, and a `Set` made for each of a thousand traces a second
 * cost more than filling it.
 */
export class SmallSet {
  #list: string[] = [];
  #set: Set<string> | undefined;

  has(value: string): boolean {
    return this.#set === undefined ? this.#list.includes(value) : this.#set.has(value);
  }

  /** Adds `value` unless it is there; true when it was added. */
  add(value: string): boolean {
    if (this.#set !== undefined) {
      if (this.#set.has(value)) return false;
      this.#set.add(value);
      return true;
    }
    if (this.#list.includes(value)) return false;
    this.#list.push(value);
    if (this.#list.length > MAX_LIST) this.#set = new Set(this.#list);
    return true;
  }

  /** The values in the order they were first added, in a new array. */
  values(): string[] {
    return this.#set === undefined ? this.#list.slice() : [...this.#set];
  }

  [Symbol.iterator](): Iterator<string> {
    return (this.#set ?? this.#list)[Symbol.iterator]();
  }
}
