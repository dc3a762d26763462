import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ID_EPOCH, idTime, nextId } from '../../src/base/ids.js';
import { Ring } from '../../src/base/ring.js';
import { matchPattern } from '../../src/index.js';

describe('matchPattern', () => {
  /** The obvious matcher: `*` is `.*`, everything else literal, anchored at both ends. */
  function naive(pattern: string, name: string): boolean {
    const source = pattern
      .split('*')
      .map((piece) => piece.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'))
      .join('.*');
    return new RegExp(`^${source}$`, 's').test(name);
  }

  const text = (maxLength: number) => fc.string({ unit: fc.constantFrom('a', 'b', '.', '-', '*'), maxLength });

  it('agrees with a naive regular-expression matcher', () => {
    fc.assert(
      fc.property(text(8), text(12), (pattern, name) => {
        expect(matchPattern(pattern, name)).toBe(naive(pattern, name));
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees on names built to match the pattern', () => {
    const piece = fc.string({ unit: fc.constantFrom('a', 'b', '.', '-'), maxLength: 4 });
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 5 }), fc.array(piece, { maxLength: 5 }), (pieces, fillers) => {
        const pattern = pieces.join('*');
        const name = pieces.map((p, i) => (i === 0 ? p : `${fillers[i - 1] ?? ''}${p}`)).join('');
        expect(matchPattern(pattern, name)).toBe(true);
        expect(naive(pattern, name)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('handles the documented examples', () => {
    expect(matchPattern('*', 'smtp.ehlo')).toBe(true);
    expect(matchPattern('smtp.*', 'smtp.ehlo')).toBe(true);
    expect(matchPattern('smtp.*', 'imap.ehlo')).toBe(false);
    expect(matchPattern('*-error', 'smtp.syntax-error')).toBe(true);
    expect(matchPattern('*-error', 'smtp.error')).toBe(false);
    expect(matchPattern('smtp.ehlo', 'smtp.ehlo')).toBe(true);
    expect(matchPattern('smtp.ehlo', 'smtp.ehlox')).toBe(false);
    expect(matchPattern('a*a', 'a')).toBe(false);
  });
});

describe('Ring', () => {
  type Op =
    | { readonly kind: 'push'; readonly value: number }
    | { readonly kind: 'shift' }
    | { readonly kind: 'drain'; readonly max: number }
    | { readonly kind: 'clear' };

  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.integer().map((value): Op => ({ kind: 'push', value })) },
    { weight: 3, arbitrary: fc.constant<Op>({ kind: 'shift' }) },
    { weight: 2, arbitrary: fc.nat({ max: 40 }).map((max): Op => ({ kind: 'drain', max })) },
    { weight: 1, arbitrary: fc.constant<Op>({ kind: 'clear' }) },
  );

  it('behaves like an array used as a FIFO queue', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 70 }), fc.array(op, { maxLength: 300 }), (capacity, ops) => {
        const ring = new Ring<number>(capacity);
        let model: number[] = [];
        for (const o of ops) {
          switch (o.kind) {
            case 'push':
              ring.push(o.value);
              model.push(o.value);
              break;
            case 'shift':
              expect(ring.shift()).toBe(model.shift());
              break;
            case 'drain':
              expect(ring.drain(o.max)).toEqual(model.splice(0, o.max));
              break;
            case 'clear':
              expect(ring.clear()).toBe(model.length);
              model = [];
              break;
          }
          expect(ring.size).toBe(model.length);
        }
        expect(ring.drain(Number.MAX_SAFE_INTEGER)).toEqual(model);
        expect(ring.size).toBe(0);
        expect(ring.shift()).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});

describe('nextId', () => {
  const YEAR = 365 * 86_400_000;

  /** A non-decreasing clock: a start, then steps of 0+ ms, some repeated in bursts of more than 4096. */
  const clock = fc
    .tuple(
      fc.integer({ min: ID_EPOCH - YEAR, max: ID_EPOCH + 60 * YEAR }),
      fc.array(
        fc.tuple(
          fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 10_000 })),
          fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 4097, max: 9000 })),
        ),
        { minLength: 1, maxLength: 8 },
      ),
      fc.boolean(),
    )
    .map(([start, steps, fractional]) => {
      const times: number[] = [];
      let now = start;
      for (const [step, repeat] of steps) {
        now += step;
        for (let i = 0; i < repeat; i++) times.push(fractional ? now + 0.25 : now);
      }
      return times;
    });

  it('gives strictly increasing safe integers that never run behind the clock', () => {
    fc.assert(
      fc.property(clock, (times) => {
        let previous = -1;
        for (const now of times) {
          const id = nextId(now);
          if (!Number.isSafeInteger(id)) expect.fail(`id ${id} for clock ${now} is not a safe integer`);
          if (id <= previous) expect.fail(`id ${id} after ${previous} for clock ${now}`);
          if (now >= ID_EPOCH && idTime(id) < Math.floor(now)) expect.fail(`id ${id} runs behind clock ${now}`);
          previous = id;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('puts more than 4096 ids of one millisecond in strictly increasing order', () => {
    const now = Date.now() + 10 * YEAR;
    const ids = Array.from({ length: 10_000 }, () => nextId(now));
    for (let i = 1; i < ids.length; i++) if (ids[i]! <= ids[i - 1]!) expect.fail(`id ${i} not increasing`);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
