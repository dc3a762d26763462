import * as types from 'node:util/types';
import { closest, describeError, TelemetryConfigError } from '../base/errors.js';
import { dateText } from '../base/json.js';
import { type Level, severity } from '../base/levels.js';
import { level } from '../base/validate.js';
import type { Catalog } from '../catalog/catalog.js';
import { KEY_TYPES } from '../catalog/generated.js';
import { COMMON_KEYS } from '../catalog/keys.js';
import type { TelemetryEvent } from '../catalog/types.js';
import { checkPatterns } from '../core/selection.js';
import { selects } from '../stalwart/names.js';

/** Which events a live stream carries. */
export interface LiveFilter<P extends string = string> {
  /**
   * Event names or wildcards (`smtp.*`, `*-error`) to stream.
   * @default ['*']
   */
  readonly events?: readonly P[];
  /**
   * Event names or wildcards to leave out, applied after `events`.
   * @default []
   */
  readonly exclude?: readonly P[];
  /**
   * The least severe level streamed.
   * @default 'debug'
   */
  readonly level?: Level;
  /**
   * Per-key substring filters, every one of which must match (case-insensitive), such as
   * `{ remoteIp: '192.0.2.', from: '@example.org' }`. Keys are camelCase as on the wire; the
   * `remote-ip` and `remote_ip` spellings of Stalwart's docs name the same key.
   * @default {}
   */
  readonly keys?: Readonly<Record<string, string>>;
  /**
   * Free text: an event matches when any of its values (its own and its span's) contains it, case-insensitive.
   * @default undefined
   */
  readonly text?: string;
  /**
   * Span stickiness: once an event matches `keys` and `text`, the later events of its span are
   * streamed too, whatever their keys (still within `events`, `exclude` and `level`).
   * @default true
   */
  readonly sticky?: boolean;
  /** Ends the stream when aborted, as `break` does. */
  readonly signal?: AbortSignal;
  /**
   * Most events this stream holds for its reader; past it the oldest are dropped and counted.
   * @default the `live.bufferSize` option (10_000)
   */
  readonly bufferSize?: number;
}

/** A filter checked against the catalogue, ready for matching. */
export interface CompiledFilter {
  readonly patterns: readonly string[];
  /** Event ids selected by `events` and `exclude`, whatever their level. */
  readonly bits: Uint32Array;
  readonly level: Level;
  readonly minSeverity: number;
  /** [camelCase key, lower-cased needle] pairs, all of which must match. */
  readonly keys: readonly (readonly [string, string])[];
  /** Lower-cased free text, if any. */
  readonly text: string | undefined;
  /** True when the filter has keys or text, the only case where stickiness changes anything. */
  readonly narrowing: boolean;
  readonly sticky: boolean;
}

const FILTER_KEYS = new Set(['events', 'exclude', 'level', 'keys', 'text', 'sticky', 'signal', 'bufferSize']);
/** Separates values in the free-text haystack; never part of a needle. */
const SEPARATOR = '\u0000';
const MAX_NEEDLE = 1024;

/** Every key events may carry, by its folded spelling (lower case, no `-` or `_`). */
export function keyIndex(catalog: Catalog): ReadonlyMap<string, string> {
  const index = new Map<string, string>();
  const add = (key: string) => index.set(fold(key), key);
  for (const key of Object.keys(KEY_TYPES)) add(key);
  for (const key of COMMON_KEYS) add(key);
  for (const event of catalog.events) for (const key of event.keys) add(key);
  return index;
}

function fold(key: string): string {
  return key.replace(/[-_]/g, '').toLowerCase();
}

/** The camelCase key a query parameter or filter key names, or undefined when there is none. */
export function canonicalKey(index: ReadonlyMap<string, string>, name: string): string | undefined {
  return index.get(fold(name));
}

/** Validates a filter; throws `TelemetryConfigError` naming `path`. */
export function compileFilter(
  catalog: Catalog,
  index: ReadonlyMap<string, string>,
  filter: unknown,
  path: string,
): CompiledFilter {
  const f = filter === undefined ? {} : filter;
  if (typeof f !== 'object' || f === null || Array.isArray(f)) throw new TelemetryConfigError(path, f, 'an object');
  const o = f as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!FILTER_KEYS.has(key))
      throw new TelemetryConfigError(`${path}.${key}`, key, `one of the known options: ${[...FILTER_KEYS].join(', ')}`);
  }
  const patterns = o.events === undefined ? ['*'] : o.events;
  const exclude = o.exclude === undefined ? [] : o.exclude;
  const bits = selectionBits(catalog, patterns, exclude, path);
  const minimum = level(o.level, `${path}.level`, 'debug');
  if (o.sticky !== undefined && typeof o.sticky !== 'boolean')
    throw new TelemetryConfigError(`${path}.sticky`, o.sticky, 'a boolean');
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal))
    throw new TelemetryConfigError(`${path}.signal`, o.signal, 'an AbortSignal');
  const keys = compileKeys(index, o.keys, `${path}.keys`);
  const text = o.text === undefined ? undefined : needle(o.text, `${path}.text`);
  const size = o.bufferSize;
  if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < 2 || size > 10_000_000))
    throw new TelemetryConfigError(`${path}.bufferSize`, size, 'an integer from 2 to 10000000');
  return {
    patterns: [...new Set(patterns as readonly string[])],
    bits,
    level: minimum,
    minSeverity: severity(minimum),
    keys,
    text: text === '' ? undefined : text,
    narrowing: keys.length > 0 || (text !== undefined && text !== ''),
    sticky: o.sticky !== false,
  };
}

/** Selections are few (dashboards reuse theirs) and costly to build: the last ones are kept per catalogue. */
const selections = new WeakMap<Catalog, Map<string, Uint32Array>>();
const MAX_SELECTIONS = 64;

function selectionBits(catalog: Catalog, patterns: unknown, exclude: unknown, path: string): Uint32Array {
  let cache = selections.get(catalog);
  if (cache === undefined) {
    cache = new Map();
    selections.set(catalog, cache);
  }
  const key = Array.isArray(patterns) && Array.isArray(exclude) ? JSON.stringify([patterns, exclude]) : undefined;
  const cached = key === undefined ? undefined : cache.get(key);
  if (cached !== undefined) return cached;
  checkPatterns(catalog, patterns, `${path}.events`);
  checkPatterns(catalog, exclude, `${path}.exclude`);
  if (patterns.length === 0) throw new TelemetryConfigError(`${path}.events`, patterns, 'at least one event name or wildcard');
  const bits = new Uint32Array((catalog.idSpace + 31) >>> 5);
  for (const event of catalog.events) {
    if (!patterns.some((p) => selects(p, event.name)) || exclude.some((p) => selects(p, event.name))) continue;
    bits[event.id >>> 5] = (bits[event.id >>> 5] ?? 0) | (1 << (event.id & 31));
  }
  if (key !== undefined) {
    if (cache.size >= MAX_SELECTIONS) cache.delete(cache.keys().next().value as string);
    cache.set(key, bits);
  }
  return bits;
}

function compileKeys(index: ReadonlyMap<string, string>, value: unknown, path: string): [string, string][] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TelemetryConfigError(path, value, 'an object');
  const out: [string, string][] = [];
  for (const [name, text] of Object.entries(value)) {
    const key = canonicalKey(index, name);
    if (key === undefined) {
      const near = closest(name, index.values());
      throw new TelemetryConfigError(
        `${path}.${name}`,
        name,
        'a known event key such as remoteIp',
        near && `did you mean "${near}"?`,
      );
    }
    out.push([key, needle(text, `${path}.${name}`)]);
  }
  return out;
}

function needle(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length > MAX_NEEDLE || value.includes(SEPARATOR))
    throw new TelemetryConfigError(path, value, `a string of at most ${MAX_NEEDLE} characters`);
  return value.toLowerCase();
}

/**
 * Lower-cased text of one event's values, computed once per event however many streams look at
 * it. One instance is reused across events: `reset` it before each.
 */
export class Probe {
  #event: TelemetryEvent | undefined;
  #data: Readonly<Record<string, unknown>> | undefined;
  readonly #keys = new Map<string, string | null>();
  #all: string | undefined;

  /** Points the probe at the next event; its merged data is only built if a filter reads it. */
  reset(event: TelemetryEvent): void {
    this.#event = event;
    this.#data = undefined;
    if (this.#keys.size > 0) this.#keys.clear();
    this.#all = undefined;
  }

  #values(): Readonly<Record<string, unknown>> {
    this.#data ??= this.#event?.data ?? {};
    return this.#data;
  }

  /** The lower-cased text of `key`'s value, or null when it has none that can match. */
  key(key: string): string | null {
    let text = this.#keys.get(key);
    if (text === undefined) {
      const raw = textOf(this.#values()[key]);
      text = raw === undefined ? null : raw.toLowerCase();
      this.#keys.set(key, text);
    }
    return text;
  }

  /** Every value's text, lower-cased, separated so that no needle spans two values. */
  all(): string {
    if (this.#all === undefined) {
      const parts: string[] = [];
      const data = this.#values();
      for (const key in data) {
        const text = textOf(data[key]);
        if (text !== undefined) parts.push(text);
      }
      this.#all = parts.join(SEPARATOR).toLowerCase();
    }
    return this.#all;
  }
}

/** True when the event's keys and text match the filter (names and level are checked by the caller). */
export function matches(filter: CompiledFilter, probe: Probe): boolean {
  for (const [key, text] of filter.keys) {
    const value = probe.key(key);
    if (value === null || !value.includes(text)) return false;
  }
  return filter.text === undefined || probe.all().includes(filter.text);
}

/** The text a value is matched as: numbers in decimal, times in ISO 8601, lists item by item. */
export function textOf(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    case 'object': {
      if (value === null || value instanceof Uint8Array) return undefined;
      if (types.isDate(value)) return dateText(value);
      if (types.isNativeError(value)) return describeError(value);
      if (Array.isArray(value)) {
        const parts = value.map(textOf).filter((t): t is string => t !== undefined);
        return parts.length === 0 ? undefined : parts.join(SEPARATOR);
      }
      const type = (value as { type?: unknown }).type;
      return typeof type === 'string' ? type : undefined;
    }
    default:
      return undefined;
  }
}
