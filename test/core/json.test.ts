import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeError, TelemetryConfigError } from '../../src/base/errors.js';
import { dataJson, JSON_LIMITS, MARKERS, safeCopy, safeJson, scalarJson } from '../../src/base/json.js';
import { hostileValue } from '../support/hostile.js';

describe('the safe serialiser', () => {
  it('writes plain data exactly as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (data) => {
        expect(dataJson(data)).toBe(JSON.stringify(data));
      }),
      { numRuns: 200 },
    );
  });

  it('never throws and always yields JSON that parses, whatever the value', () => {
    fc.assert(
      fc.property(hostileValue(), (value) => {
        JSON.parse(dataJson({ value }));
        JSON.parse(safeJson(value));
        JSON.parse(scalarJson(value));
        safeCopy(value);
      }),
      { numRuns: 300 },
    );
  });

  it('turns each value JSON cannot hold into its documented marker', () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 20_000; i++) deep = deep.next = {};
    const getter = Object.defineProperty({}, 'boom', {
      enumerable: true,
      get() {
        throw new Error('getter');
      },
    });
    const parsed = JSON.parse(
      dataJson({
        circular,
        deep: root,
        getter,
        toJSON: { toJSON: () => undefined },
        throwingToJSON: {
          toJSON() {
            throw new Error('toJSON');
          },
        },
        date: new Date(Number.NaN),
        big: 2n ** 70n,
        sym: Symbol('s'),
        fn: () => 1,
      }),
    );
    expect(parsed.circular).toEqual({ a: 1, self: MARKERS.circular });
    expect(JSON.stringify(parsed.deep)).toContain(MARKERS.tooDeep);
    expect(parsed.getter).toEqual({ boom: MARKERS.unreadable });
    expect(parsed).not.toHaveProperty('toJSON');
    expect(parsed.throwingToJSON).toBe(MARKERS.unreadable);
    expect(parsed.date).toBe(MARKERS.invalidDate);
    expect(JSON.parse(dataJson({ nextRetry: new Date(Number.NaN) }))).toEqual({ nextRetry: MARKERS.invalidDate });
    expect(JSON.parse(dataJson({ details: { nextRetry: new Date(Number.NaN) } }))).toEqual({
      details: { nextRetry: MARKERS.invalidDate },
    });
    expect(parsed.big).toBe((2n ** 70n).toString());
    expect(parsed.sym).toBe('Symbol(s)');
    expect(parsed).not.toHaveProperty('fn');
  });

  it('cuts huge strings and huge output to the limits', () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    const json = dataJson({ huge, many: Array.from({ length: 200 }, () => 'y'.repeat(30_000)) });
    expect(json.length).toBeLessThan(JSON_LIMITS.maxJson + 2 * JSON_LIMITS.maxString);
    const parsed = JSON.parse(json);
    expect(parsed.huge.endsWith(MARKERS.truncated)).toBe(true);
    expect(JSON.stringify(parsed.many)).toContain(MARKERS.truncated);
  });

  it('recognises errors, dates and bytes from another realm', async () => {
    const { runInNewContext } = await import('node:vm');
    const other = runInNewContext(
      '({ error: new Error("boom"), when: new Date(Number.NaN), bytes: new Uint8Array([104, 105]) })',
    );
    expect(JSON.parse(dataJson(other))).toEqual({
      error: { type: 'Error', message: 'boom' },
      when: MARKERS.invalidDate,
      bytes: 'aGk=',
    });
    expect(JSON.parse(safeJson(other))).toEqual(JSON.parse(dataJson(other)));
  });

  it('keeps __proto__ as a plain key', () => {
    const data = JSON.parse('{"__proto__":{"accountName":"x"},"a":1}');
    const parsed = JSON.parse(dataJson(data));
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect(parsed.accountName).toBeUndefined();
  });
});

describe('describeError', () => {
  it('describes any thrown value without throwing', () => {
    const nasty = [
      Object.create(null),
      {
        toString() {
          throw new Error('no');
        },
      },
      Object.defineProperty(new Error('x'), 'message', {
        get() {
          throw new Error('no');
        },
      }),
      Symbol('s'),
      undefined,
      null,
      42,
      new Proxy(
        {},
        {
          get() {
            throw new Error('proxy');
          },
        },
      ),
    ];
    for (const value of nasty) expect(typeof describeError(value)).toBe('string');
    expect(describeError(new Error('plain'))).toBe('plain');
    expect(describeError('text')).toBe('text');
  });
});

describe('configuration errors', () => {
  it('never echo the value of a secret, whatever its type', () => {
    for (const path of ['options.live.auth.token', 'options.webhooks[0].signatureKey', 'options.alerts.smtp.password']) {
      for (const value of [123456789, 'hunter2-secret', true, { s: 'hunter2-secret' }]) {
        const message = new TelemetryConfigError(path, value, 'a string').message;
        expect(message).not.toContain('123456789');
        expect(message).not.toContain('hunter2');
        expect(message).toContain(path);
      }
    }
    expect(new TelemetryConfigError('options.service', 42, 'a string').message).toContain('42');
  });
});
