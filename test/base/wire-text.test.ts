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

describe('eventId', () => {
  it('writes any id as the quoted decimal JSON reader would read back exactly', async () => {
    const { eventId } = await import('../../src/base/json.js');
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -1e9, max: 1e9 }), fc.maxSafeInteger(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
        (id) => {
          expect(eventId(id)).toBe(`"${id}"`);
        },
      ),
      { numRuns: 2000 },
    );
    expect(eventId(1.5)).toBe('"1.5"');
    expect(eventId(Number.NaN)).toBe('"NaN"');
  });
});
