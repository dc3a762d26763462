import { TelemetryConfigError } from './errors.js';

/** The syntax of an event or metric selector: names with `*` wildcards. */
export const PATTERN = /^[a-z0-9.*-]+$/;

/**
 * True when `name` matches `pattern`, where `*` stands for any run of characters (including none).
 * Greedy-free: each literal piece must appear in order, the first anchored at the start and the last at the end.
 */
export function matchPattern(pattern: string, name: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === name;
  const pieces = pattern.split('*');
  const first = pieces[0] ?? '';
  const last = pieces[pieces.length - 1] ?? '';
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i] ?? '';
    const found = name.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

/** Validates metric selectors: syntax only, since host metrics may be defined later. */
export function checkMetricPatterns(patterns: unknown, path: string): asserts patterns is readonly string[] {
  if (!Array.isArray(patterns)) throw new TelemetryConfigError(path, patterns, 'an array of metric names or wildcards');
  patterns.forEach((pattern: unknown, i) => {
    if (typeof pattern !== 'string' || !PATTERN.test(pattern)) {
      throw new TelemetryConfigError(`${path}[${i}]`, pattern, 'a metric name or wildcard such as "smtp.*" or "*.request-time"');
    }
  });
}
