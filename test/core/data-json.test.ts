/**
 * An event's JSON is written once and shared by every writer; when it is composed from the event's
 * own keys and its span's cached fragment, it is exactly the JSON of the merged data.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dataJson } from '../../src/base/json.js';
import { EventRecord } from '../../src/core/event.js';

const key = fc.oneof(
  fc.constantFrom('remoteIp', 'to', 'from', 'spanId', 'size', '__proto__', '0', '12', 'queueId', 'elapsed'),
  fc.string({ maxLength: 6 }),
);
const value = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(undefined),
  fc.constant(null),
  fc.bigInt(),
  fc.date({ noInvalidDate: false }),
  fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
);

/** A plain object that may own a `__proto__` key, as the core's copies do. */
const record = fc.array(fc.tuple(key, value), { maxLength: 6 }).map((entries) => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
});

describe('EventRecord.dataJson and value()', () => {
  it('is the JSON of the merged data, for any own keys, span keys and span id', () => {
    fc.assert(
      fc.property(
        fc.option(record, { nil: undefined }),
        fc.option(record, { nil: undefined }),
        fc.option(fc.oneof(fc.integer({ min: 0 }), fc.string({ maxLength: 4 })), { nil: undefined }),
        (own, span, spanId) => {
          const event = new EventRecord(1, 'smtp.ehlo', 1, 'info', 0, spanId, own, span, undefined);
          const expected = dataJson(new EventRecord(1, 'smtp.ehlo', 1, 'info', 0, spanId, own, span, undefined).data);
          expect(event.dataJson).toBe(expected);
          expect(event.dataJson).toBe(expected); // written once, then shared
          expect(() => JSON.parse(expected)).not.toThrow();
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is the JSON of the merged data when the event sets its span keys itself, as a span start does', () => {
    fc.assert(
      fc.property(
        record,
        fc.array(fc.tuple(key, value), { maxLength: 3 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        fc.boolean(),
        (span, extra, keep, inherited) => {
          // The span's keys again (some with new values, some left out or undefined), plus others;
          // sometimes through the prototype, which the merge does not read.
          const own: Record<string, unknown> = inherited ? Object.create({ ...span }) : {};
          Object.keys(span).forEach((k, i) => {
            if (inherited || keep[i] === false) return;
            const v = i % 2 === 0 ? span[k] : i % 3 === 0 ? undefined : 'changed';
            Object.defineProperty(own, k, { value: v, enumerable: true, writable: true, configurable: true });
          });
          for (const [k, v] of extra)
            Object.defineProperty(own, k, { value: v, enumerable: true, writable: true, configurable: true });
          const event = new EventRecord(1, 'smtp.connection-start', 1, 'info', 0, 9, own, span, undefined);
          const expected = dataJson(new EventRecord(1, 'smtp.connection-start', 1, 'info', 0, 9, own, span, undefined).data);
          expect(event.dataJson).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("is the JSON of the merged data for every event of a span that keeps its JSON in a slot, as the core's spans do", () => {
    fc.assert(
      fc.property(
        record,
        fc.array(fc.option(record, { nil: undefined }), { minLength: 1, maxLength: 4 }),
        fc.oneof(fc.integer({ min: 0 }), fc.string({ maxLength: 4 })),
        (span, owns, spanId) => {
          const slot = { json: undefined };
          // The start event's keys are the span's own object, then the others' come with the same slot.
          for (const own of [span, ...owns]) {
            const event = new EventRecord(1, 'smtp.ehlo', 1, 'info', 0, spanId, own, span, undefined, slot);
            expect(event.dataJson).toBe(
              dataJson(new EventRecord(1, 'smtp.ehlo', 1, 'info', 0, spanId, own, span, undefined).data),
            );
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("is the JSON of the merged data when the event's keys are its span's own object, as a span start's are", () => {
    fc.assert(
      fc.property(
        record,
        fc.option(fc.oneof(fc.integer({ min: 0 }), fc.string({ maxLength: 4 })), { nil: undefined }),
        (keys, spanId) => {
          const event = new EventRecord(1, 'smtp.connection-start', 1, 'info', 0, spanId, keys, keys, undefined);
          const expected = dataJson(
            new EventRecord(1, 'smtp.connection-start', 1, 'info', 0, spanId, keys, keys, undefined).data,
          );
          expect(event.dataJson).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("writes a span start event, whose keys are its span's, as the merge does", () => {
    const keys = { remoteIp: '192.0.2.1', remotePort: 40000, listenerId: 'smtp', localPort: 25 };
    const event = new EventRecord(1, 'smtp.connection-start', 1, 'info', 0, 7, keys, { ...keys }, undefined);
    expect(event.dataJson).toBe('{"remoteIp":"192.0.2.1","remotePort":40000,"listenerId":"smtp","localPort":25,"spanId":7}');
  });

  it('value(key) reads what the merged data holds, without merging', () => {
    fc.assert(
      fc.property(
        fc.option(record, { nil: undefined }),
        fc.option(record, { nil: undefined }),
        fc.option(fc.oneof(fc.integer({ min: 0 }), fc.string({ maxLength: 4 })), { nil: undefined }),
        key,
        (own, span, spanId, name) => {
          const merged = new EventRecord(1, 'smtp.ehlo', 1, 'info', 0, spanId, own, span, undefined).data;
          const event = new EventRecord(1, 'smtp.ehlo', 1, 'info', 0, spanId, own, span, undefined);
          expect(event.value(name)).toBe(Object.hasOwn(merged, name) ? merged[name] : undefined);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('shares one span fragment between the events of a span', () => {
    const span = { remoteIp: '192.0.2.1', listenerId: 'smtp', localPort: 25 };
    const a = new EventRecord(1, 'smtp.ehlo', 1, 'info', 0, 7, { domain: 'a.example' }, span, undefined);
    const b = new EventRecord(2, 'smtp.mail-from', 2, 'info', 0, 7, { from: 'x@a.example' }, span, undefined);
    expect(a.dataJson).toBe('{"domain":"a.example","spanId":7,"remoteIp":"192.0.2.1","listenerId":"smtp","localPort":25}');
    expect(JSON.parse(b.dataJson)).toEqual({ ...{ from: 'x@a.example' }, spanId: 7, ...span });
  });
});
