import { hostname } from 'node:os';
import { TelemetryConfigError } from '../base/errors.js';

/**
 * The default node name of a history store: this host and process. A fleet's records say where
 * they come from by it, and queries can keep one node's (`node` in a query).
 */
export function defaultNode(): string {
  return `${hostname()}:${process.pid}`;
}

/** Checks a store's `node` option: non-empty text, or the default when it is not given. */
export function nodeOption(value: unknown, path: string): string {
  if (value === undefined) return defaultNode();
  if (typeof value !== 'string' || value === '')
    throw new TelemetryConfigError(path, value, 'a non-empty node name such as "mx1"');
  return value;
}
