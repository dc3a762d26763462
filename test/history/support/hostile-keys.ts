/** Key sets as events and spans carry them, hostile ones included, for the history's property tests. */
import fc from 'fast-check';

/** Makes `key` of `out` an enumerable getter that throws: read as absent, as the merge leaves it out. */
export function makeUnreadable(out: Record<string, unknown>, key: string): void {
  Object.defineProperty(out, key, {
    enumerable: true,
    get() {
      throw new Error('unreadable');
    },
  });
}

/** Gives `out` more keys (70) than an event has, so that readers fall back to reading key by key. */
export function overfill(out: Record<string, unknown>): void {
  for (let i = 0; i < 70; i++) out[`filler${i}`] = i;
}

/**
 * Key sets of `names` with values from `values` (undefined among them, as a caller may set):
 * sometimes with `unreadable` behind a getter that throws and, with `fillers`, sometimes with more
 * keys than an event has.
 */
export function keySets(
  names: readonly string[],
  values: readonly unknown[],
  unreadable: string,
  fillers = false,
): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      fc.dictionary(fc.constantFrom(...names), fc.constantFrom(...values), { maxKeys: names.length }),
      fc.boolean(),
      fillers ? fc.boolean() : fc.constant(false),
    )
    .map(([set, throwing, many]) => {
      const out: Record<string, unknown> = { ...set };
      if (throwing) makeUnreadable(out, unreadable);
      if (many) overfill(out);
      return out;
    });
}
