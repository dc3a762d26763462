import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TelemetryConfigError } from '../../src/base/errors.js';
import { LEVELS } from '../../src/base/levels.js';
import {
  boolean,
  callback,
  checkKeys,
  duration,
  integer,
  keyNames,
  level,
  MAX_TIMER,
  oneOf,
  patterns,
  secret,
  section,
  selection,
} from '../../src/base/validate.js';
import { thrown } from '../support/guards.js';

/** Any value, with the edge numbers and strings the checks care about mixed in. */
const anyValue = fc.oneof(
  fc.anything(),
  fc.double(),
  fc.integer({ min: -200, max: 200 }),
  fc.constantFrom(0, -0, 1, MAX_TIMER, MAX_TIMER + 1, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, '', ' '),
);

describe('the validation kit', () => {
  it('integer takes exactly the safe integers in range, and the fallback when none is given', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100, max: 100 }), fc.integer({ min: 0, max: 50 }), anyValue, (min, span, value) => {
        const max = min + span;
        const ok = typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
        if (value === undefined) expect(integer(value, 'o.n', 7, min, max)).toBe(7);
        else if (ok) expect(integer(value, 'o.n', 7, min, max)).toBe(value);
        else expect(() => integer(value, 'o.n', 7, min, max)).toThrow(TelemetryConfigError);
      }),
      { numRuns: 500 },
    );
  });

  it('names the path, the value and the range', () => {
    expect(() => integer(0, 'options.x', 1, 1, 10)).toThrow('options.x: expected an integer from 1 to 10, got 0');
    expect(() => integer(2.5, 'options.y', 1, 1)).toThrow('options.y: expected an integer of at least 1, got 2.5');
  });

  it('duration takes exactly the finite milliseconds in range, up to the longest timer by default', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 10), anyValue, (min, value) => {
        const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= MAX_TIMER;
        if (value === undefined) expect(duration(value, 'o.d', 5, min)).toBe(5);
        else if (ok) expect(duration(value, 'o.d', 5, min)).toBe(value);
        else
          expect(thrown(() => duration(value, 'o.d', 5, min)).message).toContain(
            `o.d: expected milliseconds from ${min} to ${MAX_TIMER}, got`,
          );
      }),
      { numRuns: 500 },
    );
    expect(duration(1e15, 'o.age', 5, 1, Number.POSITIVE_INFINITY)).toBe(1e15);
    expect(() => duration(0, 'o.age', 5, 1, Number.POSITIVE_INFINITY)).toThrow(
      'o.age: expected milliseconds of at least 1, got 0',
    );
    expect(() => duration(Number.POSITIVE_INFINITY, 'o.age', 5, 1, Number.POSITIVE_INFINITY)).toThrow(TelemetryConfigError);
  });

  it('duration with a parser takes the strings it reads, in range, and says so', () => {
    const parse = (text: string) => (/^\d+s$/.test(text) ? Number(text.slice(0, -1)) * 1000 : undefined);
    fc.assert(
      fc.property(fc.nat({ max: 3_000_000 }), (seconds) => {
        const text = `${seconds}s`;
        if (seconds * 1000 <= MAX_TIMER) expect(duration(text, 'o.d', 0, 0, MAX_TIMER, parse)).toBe(seconds * 1000);
        else expect(() => duration(text, 'o.d', 0, 0, MAX_TIMER, parse)).toThrow(TelemetryConfigError);
      }),
      { numRuns: 200 },
    );
    expect(() => duration('5 minutes', 'o.d', 0, 0, MAX_TIMER, parse)).toThrow(
      `o.d: expected milliseconds from 0 to ${MAX_TIMER}, or a string such as '30s', '5m', '1h', got "5 minutes"`,
    );
    // Without a parser, a string is never a duration.
    expect(() => duration('5s', 'o.d', 0, 0)).toThrow(TelemetryConfigError);
  });

  it('level takes the five levels only', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...LEVELS, 'disable', 'INFO'), fc.anything()), (value) => {
        if (value === undefined) expect(level(value, 'o.level', 'info')).toBe('info');
        else if ((LEVELS as readonly unknown[]).includes(value)) expect(level(value, 'o.level', 'info')).toBe(value);
        else expect(() => level(value, 'o.level', 'info')).toThrow(/o\.level: expected trace, debug, info, warn or error/);
      }),
      { numRuns: 300 },
    );
  });

  it('boolean takes true and false only, and oneOf exactly its alternatives', () => {
    fc.assert(
      fc.property(anyValue, (value) => {
        if (value === undefined) expect(boolean(value, 'o.b', true)).toBe(true);
        else if (typeof value === 'boolean') expect(boolean(value, 'o.b', true)).toBe(value);
        else expect(() => boolean(value, 'o.b', true)).toThrow(/^o\.b: expected a boolean, got /);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom('text', 'json', 'auto', true, false, 'TEXT'), anyValue), (value) => {
        const allowed = ['text', 'json', true] as const;
        if (value === undefined) expect(oneOf(value, 'o.f', 'json', allowed)).toBe('json');
        else if ((allowed as readonly unknown[]).includes(value)) expect(oneOf(value, 'o.f', 'json', allowed)).toBe(value);
        else expect(() => oneOf(value, 'o.f', 'json', allowed)).toThrow(/^o\.f: expected "text", "json" or true, got /);
      }),
      { numRuns: 200 },
    );
  });

  it('secret takes one-line non-empty strings and never quotes one', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), anyValue), (value) => {
        const ok = typeof value === 'string' && value !== '' && !/[\r\n\0]/.test(value);
        if (ok) expect(secret(value, 'o.key')).toBe(value);
        else {
          const error = thrown(() => secret(value, 'o.key'));
          expect(error.message).toContain('o.key: expected a non-empty string without CR, LF or NUL, got ');
          if (typeof value === 'string') expect(error.message).toMatch(/, got "\[redacted\]"$/);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('patterns take arrays of selector strings only, and selection reads events, exclude and level', () => {
    const selector = fc.oneof(
      fc.constantFrom('*', 'smtp.*', '*-error', 'smtp.ehlo', 'Bad', 'a b', ''),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.array(selector, { maxLength: 4 }), anyValue), (value) => {
        const ok = Array.isArray(value) && value.every((p) => typeof p === 'string' && /^[a-z0-9.*-]+$/.test(p));
        if (value === undefined) expect(patterns(value, 'o.events')).toBeUndefined();
        else if (ok) expect(patterns(value, 'o.events')).toEqual(value);
        else expect(thrown(() => patterns(value, 'o.events')).path).toMatch(/^o\.events(\[\d+\])?$/);
      }),
      { numRuns: 300 },
    );
    expect(selection({ events: ['smtp.*'] }, 'o', 'warn')).toEqual({ events: ['smtp.*'], exclude: undefined, level: 'warn' });
    expect(thrown(() => selection({ exclude: ['smtp ehlo'] }, 'o', 'info')).message).toBe(
      'o.exclude[0]: expected an event name or wildcard such as "smtp.*" or "*-error", got "smtp ehlo"',
    );
  });

  it('keyNames takes arrays of key names only', () => {
    expect(keyNames(undefined, 'o.keys')).toEqual([]);
    expect(keyNames(['password', 'remoteIp'], 'o.keys')).toEqual(['password', 'remoteIp']);
    for (const bad of ['password', ['remote ip'], [1], ['_x'], {}])
      expect(() => keyNames(bad, 'o.keys')).toThrow('o.keys: expected an array of key names');
  });

  it('names unknown keys with the known ones and the nearest', () => {
    expect(() => checkKeys({ maxQeue: 1 }, ['maxQueue', 'level'], 'o')).toThrow(
      'o.maxQeue: expected one of the known options: maxQueue, level, got "maxQeue" (did you mean "maxQueue"?)',
    );
    expect(() => checkKeys({ colour: 1 }, new Set(['format']), 'o.tracers[0]', 'a console tracer')).toThrow(
      'o.tracers[0].colour: expected one of the known options of a console tracer: format, got "colour"',
    );
    expect(section(undefined, 'o', ['a'])).toEqual({});
    expect(() => section(null, 'o', ['a'])).toThrow('o: expected an object, got null');
  });

  it('callback takes a function or nothing', () => {
    const fn = () => true;
    expect(callback(fn, 'o.keep', 'a function (trace) => boolean')).toBe(fn);
    expect(callback(undefined, 'o.keep', 'a function (trace) => boolean')).toBeUndefined();
    expect(() => callback(true, 'o.keep', 'a function (trace) => boolean')).toThrow(
      'o.keep: expected a function (trace) => boolean, got true',
    );
  });
});
