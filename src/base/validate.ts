import { closest, TelemetryConfigError } from './errors.js';
import { isLevel, type Level } from './levels.js';
import { PATTERN } from './patterns.js';

/**
 * The validation kit: every option check of every mechanism, one message per kind. Each check takes
 * `(value, path, ...)` and throws a `TelemetryConfigError` that names the option path, the value and
 * what is allowed; the optional ones take their `fallback` next, then the range.
 */

/** The longest delay a Node.js timer takes; a longer one fires after 1 ms instead. */
export const MAX_TIMER = 2_147_483_647;

/** What a level option accepts, as every level error says it. */
export const LEVEL_EXPECTED = 'trace, debug, info, warn or error';

/** What an event selector accepts, as every selector error says it. */
export const PATTERN_EXPECTED = 'an event name or wildcard such as "smtp.*" or "*-error"';

/** Stands in for a secret value in an error message. */
export const HIDDEN = '[redacted]';

/** The value as an options object, or a `TelemetryConfigError` at `path`. */
export function record(value: unknown, path: string, expected = 'an object'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TelemetryConfigError(path, value, expected);
  return value as Record<string, unknown>;
}

/** An options section: an object with only `known` keys, or `{}` when it is not given. */
export function section(value: unknown, path: string, known: Iterable<string>): Record<string, unknown> {
  const o = record(value === undefined ? {} : value, path);
  checkKeys(o, known, path);
  return o;
}

/**
 * The error for an option key that is not one of `known`, with the nearest known key as a hint;
 * `owner` says whose options they are, such as `a console tracer`.
 */
export function unknownKey(path: string, key: string, known: Iterable<string>, owner?: string): TelemetryConfigError {
  const list = [...known];
  const near = closest(key, list);
  return new TelemetryConfigError(
    `${path}.${key}`,
    key,
    `one of the known options${owner === undefined ? '' : ` of ${owner}`}: ${list.join(', ')}`,
    near === undefined ? undefined : `did you mean "${near}"?`,
  );
}

/** Throws for the first key of `o` that is not one of `known`. */
export function checkKeys(o: Record<string, unknown>, known: Iterable<string>, path: string, owner?: string): void {
  const set = known instanceof Set ? (known as ReadonlySet<string>) : new Set(known);
  for (const key of Object.keys(o)) if (!set.has(key)) throw unknownKey(path, key, set, owner);
}

/** The value as a string that is not blank. */
export function nonEmptyString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TelemetryConfigError(path, value, 'a non-empty string');
  return value;
}

/**
 * A secret such as a password, token or signing key: a non-empty string that fits in a header line.
 * An error never quotes it.
 */
export function secret(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '' || /[\r\n\0]/.test(value))
    throw new TelemetryConfigError(path, typeof value === 'string' ? HIDDEN : value, 'a non-empty string without CR, LF or NUL');
  return value;
}

/** A boolean option, or `fallback` when it is not given. */
export function boolean(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TelemetryConfigError(path, value, 'a boolean');
  return value;
}

/** One of `allowed` (strings, booleans), or `fallback` when it is not given. */
export function oneOf<const T extends string | boolean>(value: unknown, path: string, fallback: T, allowed: readonly T[]): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) throw new TelemetryConfigError(path, value, alternatives(allowed));
  return value as T;
}

/** `"a", "b" or "c"`. */
function alternatives(allowed: readonly unknown[]): string {
  const quoted = allowed.map((a) => JSON.stringify(a));
  return quoted.length < 2 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

/** A function option such as a callback, or undefined when it is not given; `expected` shows its signature. */
export function callback<F>(value: unknown, path: string, expected: string): F | undefined {
  if (value !== undefined && typeof value !== 'function') throw new TelemetryConfigError(path, value, expected);
  return value as F | undefined;
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

/**
 * A duration option in milliseconds (any finite number) from `min` to `max`, or `fallback` when it is
 * not given. `max` defaults to the longest timer; `Infinity` lifts it, for ages that are never a timer.
 * With `parse`, a string such as `'5m'` is taken too, read by `parse`.
 */
export function duration(
  value: unknown,
  path: string,
  fallback: number,
  min: number,
  max: number = MAX_TIMER,
  parse?: (text: string) => number | undefined,
): number {
  if (value === undefined) return fallback;
  const ms = typeof value === 'number' ? value : parse !== undefined && typeof value === 'string' ? parse(value) : undefined;
  if (ms === undefined || !Number.isFinite(ms) || ms < min || ms > max) {
    const range = max === Number.POSITIVE_INFINITY ? `milliseconds of at least ${min}` : `milliseconds from ${min} to ${max}`;
    throw new TelemetryConfigError(path, value, parse === undefined ? range : `${range}, or a string such as '30s', '5m', '1h'`);
  }
  return ms;
}

/** A level option (`trace`, `debug`, `info`, `warn` or `error`), or `fallback` when it is not given. */
export function level(value: unknown, path: string, fallback: Level): Level {
  if (value === undefined) return fallback;
  if (!isLevel(value)) throw new TelemetryConfigError(path, value, LEVEL_EXPECTED);
  return value;
}

/**
 * A list of event selectors (names and `*` wildcards), or undefined when it is not given. Only the
 * syntax is checked here; whether each selects an event is checked against the catalogue when the
 * consumer subscribes.
 */
export function patterns(value: unknown, path: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new TelemetryConfigError(path, value, 'an array of event names or wildcards');
  value.forEach((pattern: unknown, i) => {
    if (typeof pattern !== 'string' || !PATTERN.test(pattern))
      throw new TelemetryConfigError(`${path}[${i}]`, pattern, PATTERN_EXPECTED);
  });
  return [...(value as string[])];
}

/** A consumer's event selection as given: `events`, `exclude` (undefined when not given) and `level`. */
export interface SelectionOptions {
  readonly events: readonly string[] | undefined;
  readonly exclude: readonly string[] | undefined;
  readonly level: Level;
}

/** The `events`, `exclude` and `level` options of the options object `o` at `path`, syntax checked. */
export function selection(o: Readonly<Record<string, unknown>>, path: string, fallbackLevel: Level): SelectionOptions {
  return {
    events: patterns(o.events, `${path}.events`),
    exclude: patterns(o.exclude, `${path}.exclude`),
    level: level(o.level, `${path}.level`, fallbackLevel),
  };
}

const KEY_NAME = /^[a-zA-Z][a-zA-Z0-9]*$/;

/** A list of event data key names, such as `options.sensitiveKeys`; `[]` when it is not given. */
export function keyNames(value: unknown, path: string): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((k) => typeof k !== 'string' || !KEY_NAME.test(k)))
    throw new TelemetryConfigError(path, value, 'an array of key names');
  return [...(value as string[])];
}
