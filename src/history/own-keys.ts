/** Own keys walked before a reader falls back to reading key by key: an event names a few. */
const MAX_OWN_KEYS = 64;

/**
 * Writes the defined value of each enumerable own key of `own` that `index` names to
 * `out[index.get(key)]`, the keys the event's merged data and JSON hold, and returns true. An event
 * names a few keys, so they are walked rather than each indexed key looked up and mostly missed.
 * Returns false, with `out` partly written, when `own` cannot be walked (a throwing getter or
 * proxy) or holds more keys than an event has: the caller then reads its keys one by one.
 */
export function readOwnKeys(own: object, index: ReadonlyMap<string, number>, out: unknown[]): boolean {
  let seen = 0;
  try {
    for (const name in own) {
      if (++seen > MAX_OWN_KEYS) return false;
      const k = index.get(name);
      if (k === undefined || !Object.hasOwn(own, name)) continue;
      const value = (own as Record<string, unknown>)[name];
      if (value !== undefined) out[k] = value;
    }
    return true;
  } catch {
    return false;
  }
}
