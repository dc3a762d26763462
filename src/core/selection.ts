import { TelemetryConfigError } from '../base/errors.js';
import { type Level, severity } from '../base/levels.js';
import { PATTERN } from '../base/patterns.js';
import type { Catalog } from '../catalog/catalog.js';
import { currentName, selects } from '../stalwart/names.js';

/** Which events a consumer selects. */
export interface Selection {
  /** Names or wildcards to take; undefined or empty takes every event. */
  readonly events?: readonly string[] | undefined;
  /** Names or wildcards to leave out, applied after `events`. */
  readonly exclude?: readonly string[] | undefined;
  /** The least severe level taken. */
  readonly level?: Level | undefined;
}

/**
 * Compiles a selection into a bitset over event ids, at configuration time. Each pattern must
 * match at least one event, so a typo is an error rather than a silent no-op.
 */
export function compileSelection(catalog: Catalog, levels: Uint8Array, selection: Selection, path: string): Uint32Array {
  const bits = new Uint32Array((catalog.idSpace + 31) >>> 5);
  const include = selection.events !== undefined && selection.events.length > 0 ? selection.events : ['*'];
  const exclude = selection.exclude ?? [];
  checkPatterns(catalog, include, `${path}.events`);
  checkPatterns(catalog, exclude, `${path}.exclude`);
  const minimum = selection.level === undefined ? 0 : severity(selection.level);
  for (const event of catalog.events) {
    const level = levels[event.id] ?? 0;
    if (level < minimum || level >= severity('disable')) continue;
    if (!include.some((p) => selects(p, event.name))) continue;
    if (exclude.some((p) => selects(p, event.name))) continue;
    bits[event.id >>> 5] = (bits[event.id >>> 5] ?? 0) | (1 << (event.id & 31));
  }
  return bits;
}

/** Validates selector strings against the catalogue; Stalwart 0.15's names of renamed events count as known. */
export function checkPatterns(catalog: Catalog, patterns: unknown, path: string): asserts patterns is readonly string[] {
  if (!Array.isArray(patterns)) throw new TelemetryConfigError(path, patterns, 'an array of event names or wildcards');
  patterns.forEach((pattern: unknown, i) => {
    const at = `${path}[${i}]`;
    if (typeof pattern !== 'string' || !PATTERN.test(pattern)) {
      throw new TelemetryConfigError(at, pattern, 'an event name or wildcard such as "smtp.*" or "*-error"');
    }
    if (!pattern.includes('*')) {
      if (catalog.get(currentName(pattern)) === undefined) {
        const near = catalog.suggest(pattern);
        throw new TelemetryConfigError(at, pattern, 'a known event name', near ? `did you mean "${near}"?` : undefined);
      }
    } else if (!catalog.events.some((e) => selects(pattern, e.name))) {
      throw new TelemetryConfigError(at, pattern, 'a wildcard that matches at least one event');
    }
  });
}

/** True when bit `id` is set. */
export function hasBit(bits: Uint32Array, id: number): boolean {
  return ((bits[id >>> 5] ?? 0) & (1 << (id & 31))) !== 0;
}
