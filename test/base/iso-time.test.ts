import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/base/json.js';

const expected = (t: number) => {
  const date = new Date(t);
  return Number.isNaN(date.getTime()) ? '1970-01-01T00:00:00.000Z' : date.toISOString();
};

describe('isoTime', () => {
  it("writes what Date#toISOString writes, for any run of timestamps (the second's text is reused)", () => {
    const time = fc.oneof(
      fc.integer({ min: -8.64e15, max: 8.64e15 }),
      fc.integer({ min: 1_796_573_818_000, max: 1_796_573_822_000 }),
      fc.double({ noDefaultInfinity: false }),
    );
    fc.assert(
      fc.property(fc.array(time, { maxLength: 50 }), (times) => {
        for (const t of times) expect(isoTime(t)).toBe(expected(t));
      }),
      { numRuns: 500 },
    );
  });
});
