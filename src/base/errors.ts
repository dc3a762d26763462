import * as types from 'node:util/types';
/** Raised by `createTelemetry` and other configuration calls for a bad option. */
export class TelemetryConfigError extends Error {
  override readonly name = 'TelemetryConfigError';
  /** The option path, such as `options.levels["smtp.ehlo"]`. */
  readonly path: string;
  /** What the option accepts. */
  readonly expected: string;

  constructor(path: string, value: unknown, expected: string, hint?: string) {
    const got = isSecretPath(path) ? describeSecret(value) : describeValue(value);
    super(`${path}: expected ${expected}, got ${got}${hint ? ` (${hint})` : ''}`);
    this.path = path;
    this.expected = expected;
  }
}

/** Option paths whose values are secrets: an error names their type, never their value. */
const SECRET_PATH = /(password|passwd|secret|token|signaturekey|apikey|credentials?|authorization|privatekey)["'\]]*$/i;

/** True when the option at `path` holds a secret. */
export function isSecretPath(path: string): boolean {
  return SECRET_PATH.test(path);
}

function describeSecret(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/**
 * A thrown or rejected value as text, whatever it is: an `Error` with a throwing `message` getter,
 * `Object.create(null)`, a value whose `toString` throws. Never throws itself.
 */
export function describeError(error: unknown): string {
  try {
    if (types.isNativeError(error) || error instanceof Error) {
      const message = error.message;
      return typeof message === 'string' && message !== '' ? message : String(error.name || 'Error');
    }
    if (typeof error === 'string') return error;
    if (typeof error === 'object' && error !== null) {
      const message = (error as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
    return String(error);
  } catch {
    return describeValueSafely(error);
  }
}

function describeValueSafely(value: unknown): string {
  try {
    return `an unprintable ${describeValue(value).replace(/^an? /, '')}`;
  } catch {
    return 'an unprintable value';
  }
}

/** A thrown value as a `causedBy` key: the error itself when it is a real one, else its description. */
export function asCause(error: unknown): Error | string {
  return types.isNativeError(error) || error instanceof Error ? error : describeError(error);
}

/** A short, safe rendering of a value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** The candidate closest to `name` by edit distance, when it is close enough to be a likely typo. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(3, Math.floor(name.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(name, candidate, bestDistance);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

/** Up to `count` candidates nearest to `name` by edit distance, closest first, within a typo's reach. */
export function nearest(name: string, candidates: readonly string[], count = 3): string[] {
  const limit = Math.max(3, Math.floor(name.length / 3));
  const scored: [number, string][] = [];
  for (const candidate of candidates) {
    const d = editDistance(name, candidate, limit + 1);
    if (d <= limit) scored.push([d, candidate]);
  }
  scored.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
  return scored.slice(0, count).map(([, candidate]) => candidate);
}

/** The edit distance of `a` and `b`, or `limit` when it is at least that (the search stops there). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin >= limit) return limit;
    previous = current;
  }
  return previous[b.length] ?? limit;
}
