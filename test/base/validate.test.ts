import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TelemetryConfigError } from '../../src/base/errors.js';
import { LEVELS } from '../../src/base/levels.js';
import { integer, level } from '../../src/base/validate.js';

describe('the validation kit', () => {
  it('integer takes exactly the safe integers in range, and the fallback when none is given', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100, max: 100 }), fc.integer({ min: 0, max: 50 }), fc.anything(), (min, span, value) => {
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
});
