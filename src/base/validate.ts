import { TelemetryConfigError } from './errors.js';
import { isLevel, type Level } from './levels.js';

/** Shared checks of option validation: every error names the option path, the value and what is allowed. */

/** The value as an options object, or a `TelemetryConfigError` at `path`. */
export function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TelemetryConfigError(path, value, 'an object');
  return value as Record<string, unknown>;
}

/** The error for an option key that is not one of `known`. */
export function unknownKey(path: string, key: string, known: ReadonlySet<string>): TelemetryConfigError {
  return new TelemetryConfigError(`${path}.${key}`, key, `one of the known options: ${[...known].join(', ')}`);
}

/** Throws for the first key of `o` that is not one of `known`. */
export function checkKeys(o: Record<string, unknown>, known: ReadonlySet<string>, path: string): void {
  for (const key of Object.keys(o)) if (!known.has(key)) throw unknownKey(path, key, known);
}

/** The value as a string that is not blank. */
export function nonEmptyString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TelemetryConfigError(path, value, 'a non-empty string');
  return value;
}

/**
 * An integer option from `min` to `max` (no upper bound when `max` is left out), or `fallback`
 * when it is not given.
 */
export function integer(value: unknown, path: string, fallback: number, min: number, max?: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || (max !== undefined && value > max)) {
    const expected = max === undefined ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
    throw new TelemetryConfigError(path, value, expected);
  }
  return value;
}

/** A level option (`trace`, `debug`, `info`, `warn` or `error`), or `fallback` when it is not given. */
export function level(value: unknown, path: string, fallback: Level): Level {
  if (value === undefined) return fallback;
  if (!isLevel(value)) throw new TelemetryConfigError(path, value, 'trace, debug, info, warn or error');
  return value;
}
