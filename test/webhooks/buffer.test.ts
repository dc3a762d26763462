import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PendingBuffer } from '../../src/webhooks/buffer.js';
import { backoff, retryAfter } from '../../src/webhooks/retry.js';
import { body, bodyBytes, type Item } from '../../src/webhooks/serialize.js';

function item(id: number, level: number, timestamp = id): Item {
  return { seq: 0, id, level, timestamp, json: `{"id":"${id}"}`, bytes: 10, unreadable: undefined };
}

type Op = { kind: 'push'; level: number } | { kind: 'shift' } | { kind: 'lowest' } | { kind: 'expire'; cutoff: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('push' as const), level: fc.integer({ min: 0, max: 4 }) }),
  fc.constant({ kind: 'shift' as const }),
  fc.constant({ kind: 'lowest' as const }),
  fc.record({ kind: fc.constant('expire' as const), cutoff: fc.integer({ min: 0, max: 3000 }) }),
);

describe('PendingBuffer', () => {
  it('behaves like a sorted list: shift takes the oldest, shiftLowest the oldest of the lowest level', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
        const buffer = new PendingBuffer();
        let model: Item[] = [];
        let next = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            const it = item(next++, o.level);
            buffer.push(it);
            model.push(it);
          } else if (o.kind === 'shift') {
            expect(buffer.shift()).toBe(model.shift());
          } else if (o.kind === 'lowest') {
            const lowest = Math.min(...model.map((m) => m.level));
            const at = model.findIndex((m) => m.level === lowest);
            const expected = at < 0 ? undefined : model.splice(at, 1)[0];
            expect(buffer.shiftLowest()).toBe(expected);
          } else {
            const expired = buffer.expire(o.cutoff);
            expect(expired).toEqual(model.filter((m) => m.timestamp < o.cutoff));
            model = model.filter((m) => m.timestamp >= o.cutoff);
          }
          expect(buffer.size).toBe(model.length);
          expect(buffer.bytes).toBe(model.length * 10);
          expect(buffer.peek()).toBe(model[0]);
        }
        expect(buffer.clear()).toEqual(model);
      }),
      { numRuns: 200 },
    );
  });
});

describe('retry schedule', () => {
  it('grows exponentially, stays within the jitter band and the cap', () => {
    const retry = { initialDelay: 100, maxDelay: 5000, multiplier: 2, jitter: 0.2 };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const nominal = Math.min(5000, 100 * 2 ** (attempt - 1));
        const delay = backoff(retry, attempt, () => r);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
        expect(delay).toBeLessThanOrEqual(Math.min(5000, Math.ceil(nominal * 1.2)));
      }),
    );
    expect([1, 2, 3, 4].map((n) => backoff({ ...retry, jitter: 0 }, n))).toEqual([100, 200, 400, 800]);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(retryAfter('120', now)).toBe(120_000);
    expect(retryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(retryAfter(new Date(now - 30_000).toUTCString(), now)).toBe(0);
    expect(retryAfter('soon', now)).toBeUndefined();
    expect(retryAfter(null, now)).toBeUndefined();
  });
});

describe('request body', () => {
  it('is the items joined in the envelope, byte for byte, at the length bodyBytes predicts', () => {
    fc.assert(
      fc.property(
        // Raw text as well as JSON: whatever an item holds, lone surrogates included, is written as Buffer.from would.
        fc.array(
          fc.oneof(
            fc.string({ unit: 'binary' }).map((text) => JSON.stringify(text)),
            fc.string({ unit: 'binary' }),
          ),
          {
            maxLength: 40,
          },
        ),
        (texts) => {
          const items = texts.map((json, id) => ({ ...item(id, 2), json, bytes: Buffer.byteLength(json) }));
          const written = body(items);
          expect(written.equals(Buffer.from(`{"events":[${texts.join(',')}]}`))).toBe(true);
          expect(written.length).toBe(
            bodyBytes(
              items.length,
              items.reduce((sum, it) => sum + it.bytes, 0),
            ),
          );
        },
      ),
    );
  });

  it('is still the items joined when an item misstates its size', () => {
    const items = [
      { ...item(1, 2), json: '{"a":"é"}', bytes: 9 },
      { ...item(2, 2), json: '{"b":2}', bytes: 7 },
    ];
    expect(body(items).toString()).toBe('{"events":[{"a":"é"},{"b":2}]}');
    expect(body([{ ...item(3, 2), json: '{"c":3}', bytes: 99 }]).toString()).toBe('{"events":[{"c":3}]}');
  });
});
