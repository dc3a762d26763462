import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmallSet } from '../../src/history/small-set.js';

describe('SmallSet', () => {
  it('holds what a Set holds, in the same order, below and past its list size', () => {
    // Few distinct values, so that repeats are common; up to 60 of them, past the list's 16.
    const value = fc.oneof(fc.constantFrom('a', 'b', 'A', ''), fc.integer({ min: 0, max: 60 }).map(String));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 200 }), (values) => {
        const small = new SmallSet();
        const set = new Set<string>();
        for (const v of values) {
          expect(small.has(v)).toBe(set.has(v));
          expect(small.add(v)).toBe(!set.has(v));
          set.add(v);
        }
        expect(small.values()).toEqual([...set]);
        expect([...small]).toEqual([...set]);
      }),
    );
  });

  it('gives a copy: changing it changes nothing inside', () => {
    const small = new SmallSet();
    small.add('x');
    small.values().push('y');
    expect(small.values()).toEqual(['x']);
    expect(small.has('y')).toBe(false);
  });
});
