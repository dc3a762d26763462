/**
 * JSON for event data, shared by every writer (JSON-lines and text tracers, webhooks, SSE, history,
 * OTel attributes, alert templates). Nothing here throws: a value that JSON cannot hold becomes a
 * marker string, documented in `docs/consumers.md`.
 */

import * as types from 'node:util/types';

/** The start of the second last written by `isoTime`, and its text up to the milliseconds. */
let secondStart = Number.NaN;
let secondPrefix = '';
const MILLIS = Array.from({ length: 1000 }, (_, ms) => `${String(ms).padStart(3, '0')}Z`);

/** Markers written in place of values that JSON cannot hold or that could not be read. */
export const MARKERS = {
  circular: '[Circular]',
  tooDeep: '[TooDeep]',
  unreadable: '[Unreadable]',
  invalidDate: '[InvalidDate]',
  function: '[Function]',
  truncated: '[Truncated]',
} as const;

/** Limits of the safe serialiser. */
export const JSON_LIMITS = {
  /** Nesting deeper than this is written as `[TooDeep]`. */
  maxDepth: 32,
  /** Longer strings are cut and end with `...[Truncated]`. */
  maxString: 32_768,
  /** Output above this many characters is rewritten under the limits above, then cut to fit. */
  maxJson: 1_048_576,
  /** Arrays and objects keep at most this many members; the rest become one `[Truncated]`. */
  maxMembers: 10_000,
} as const;

/**
 * RFC 3339 time of an epoch-ms timestamp. Events close in time share their second, so its text is
 * kept and only the milliseconds are appended (writers interleave their timestamps, which defeats
 * a cache of one whole value).
 */
export function isoTime(timestamp: number): string {
  const ms = timestamp - secondStart;
  if (ms >= 0 && ms < 1000 && Number.isInteger(ms)) return secondPrefix + (MILLIS[ms] as string);
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return '1970-01-01T00:00:00.000Z';
  const iso = date.toISOString();
  if (Number.isInteger(timestamp)) {
    secondStart = timestamp - date.getUTCMilliseconds();
    secondPrefix = iso.slice(0, iso.length - 4);
  }
  return iso;
}

/** A date's ISO text, for a date of any realm; `undefined` for an invalid one, or one that is no date. */
export function dateText(date: unknown): string | undefined {
  try {
    const time = Date.prototype.getTime.call(date);
    return Number.isNaN(time) ? undefined : new Date(time).toISOString();
  } catch {
    return undefined;
  }
}

const stringTokens = new Map<string, string>();

/**
 * A name or a description as a JSON string token, written once per text: event types and their
 * descriptions come from a small set, so the writers of every event share these (at most 8,192 kept).
 */
export function stringJson(text: string): string {
  let json = stringTokens.get(text);
  if (json === undefined) {
    json = scalarJson(text);
    if (stringTokens.size < 8192) stringTokens.set(text, json);
  }
  return json;
}

/** Errors, byte arrays and bigints in JSON (a replacer for `JSON.stringify`; never throws). */
export function jsonValue(this: unknown, key: string, value: unknown): unknown {
  if (value === null) {
    // JSON.stringify has already turned an invalid date into null by the time a replacer sees it.
    const original = (this as Record<string, unknown> | undefined)?.[key];
    return types.isDate(original) && Number.isNaN(original.getTime()) ? MARKERS.invalidDate : null;
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return value;
  // util.types, not instanceof: values from another realm (vm, workers' structured clones) count too.
  if (types.isNativeError(value)) return errorJson(value);
  if (types.isUint8Array(value)) return Buffer.from(value).toString('base64');
  return value;
}

/**
 * The data as JSON, always valid and never throwing. The common case (plain keys, no replacer needed)
 * stays a bare `JSON.stringify`; anything odd (circular, BigInt, a throwing getter or `toJSON`, huge
 * or deep values) is rewritten by {@link safeJson}.
 */
export function dataJson(data: unknown): string {
  let json: string | undefined;
  try {
    const plain = typeof data === 'object' && data !== null && !needsReplacer(data as Readonly<Record<string, unknown>>);
    json = plain ? JSON.stringify(data) : JSON.stringify(data, jsonValue);
  } catch {
    return safeJson(data);
  }
  if (json === undefined || json.length > JSON_LIMITS.maxJson) return safeJson(data);
  return json;
}

/**
 * `JSON.stringify(data)` when that alone writes it exactly as {@link dataJson} would (plain values,
 * nothing thrown, within the limits), for writers that compose JSON from parts; otherwise undefined.
 */
export function plainJson(data: Readonly<Record<string, unknown>>): string | undefined {
  try {
    if (needsReplacer(data)) return undefined;
    const json = JSON.stringify(data);
    return json !== undefined && json.length <= JSON_LIMITS.maxJson && json.charCodeAt(0) === 123 /* { */ ? json : undefined;
  } catch {
    return undefined;
  }
}

/** Any value as valid JSON within {@link JSON_LIMITS}; never throws. `undefined` becomes `null`. */
export function safeJson(value: unknown): string {
  const writer = new SafeWriter();
  try {
    writer.value(value, 0, true);
  } catch {
    return JSON.stringify(MARKERS.unreadable);
  }
  return writer.out.length === 0 ? 'null' : writer.out;
}

/**
 * A plain-JSON copy of any value, safe to hand to code that walks it (OTel attributes, templates):
 * no cycles, no getters, no BigInt, within the limits. Never throws.
 */
export function safeCopy(value: unknown): unknown {
  try {
    return JSON.parse(safeJson(value));
  } catch {
    return MARKERS.unreadable;
  }
}

/**
 * An event's id as every wire writes it (webhook bodies, live frames, history answers): a decimal
 * string, as Stalwart's webhooks write it, so no JSON reader can round it.
 */
export function eventId(id: number): string {
  return Number.isSafeInteger(id) ? `"${integerText(id)}"` : scalarJson(String(id));
}

/** `String(n)` for a safe integer, cheaper for the ids and span ids past 2^31, which V8 writes through its slow double path. */
export function integerText(n: number): string {
  if (n < 1e8) return String(n);
  // Two small halves are cheaper than one large number.
  const high = Math.floor(n / 1e8);
  return `${high}${String(n - high * 1e8 + 1e8).slice(1)}`;
}

/** One scalar as a JSON token (for writers that compose a line by hand); never throws. */
export function scalarJson(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > JSON_LIMITS.maxString ? cut(value) : value);
  return safeJson(value);
}

/** True when a top-level value needs the replacer (BigInt, an invalid date, an object that is not a date or a flat array). */
function needsReplacer(data: Readonly<Record<string, unknown>>): boolean {
  for (const key in data) {
    const value = data[key];
    if (typeof value === 'bigint') return true;
    if (typeof value !== 'object' || value === null) continue;
    if (types.isDate(value)) {
      if (Number.isNaN(value.getTime())) return true;
    } else if (!Array.isArray(value) || value.some((v) => typeof v === 'object' || typeof v === 'bigint')) return true;
  }
  return false;
}

function errorJson(error: Error): { type: string; message: string } {
  return { type: readString(error, 'name', 'Error'), message: readString(error, 'message', '') };
}

function readString(target: object, key: string, fallback: string): string {
  try {
    const value = (target as Record<string, unknown>)[key];
    return typeof value === 'string' ? value : fallback;
  } catch {
    return MARKERS.unreadable;
  }
}

function cut(text: string): string {
  return `${text.slice(0, JSON_LIMITS.maxString)}…${MARKERS.truncated}`;
}

/** A depth-first writer that checks every step JSON.stringify would take on trust. */
class SafeWriter {
  out = '';
  readonly #seen = new Set<object>();

  /** Writes `value`; returns false when it is left out (as JSON leaves out undefined and functions in objects). */
  value(value: unknown, depth: number, top = false): boolean {
    if (this.out.length > JSON_LIMITS.maxJson) {
      this.out += JSON.stringify(MARKERS.truncated);
      return true;
    }
    switch (typeof value) {
      case 'string':
        this.out += JSON.stringify(value.length > JSON_LIMITS.maxString ? cut(value) : value);
        return true;
      case 'number':
        this.out += Number.isFinite(value) ? String(value) : 'null';
        return true;
      case 'boolean':
        this.out += value ? 'true' : 'false';
        return true;
      case 'bigint':
        this.out += JSON.stringify(value.toString());
        return true;
      case 'symbol':
        this.out += JSON.stringify(symbolText(value));
        return true;
      case 'function':
        if (!top) return false;
        this.out += JSON.stringify(MARKERS.function);
        return true;
      case 'undefined':
        if (!top) return false;
        this.out += 'null';
        return true;
    }
    if (value === null) {
      this.out += 'null';
      return true;
    }
    return this.#object(value as object, depth, top);
  }

  #object(value: object, depth: number, top: boolean): boolean {
    if (this.#seen.has(value)) {
      this.out += JSON.stringify(MARKERS.circular);
      return true;
    }
    if (depth >= JSON_LIMITS.maxDepth) {
      this.out += JSON.stringify(MARKERS.tooDeep);
      return true;
    }
    let resolved: unknown;
    try {
      resolved = this.#resolve(value);
    } catch {
      this.out += JSON.stringify(MARKERS.unreadable);
      return true;
    }
    if (resolved !== value) {
      // toJSON's answer (or a marker): written as a value of its own, one level deeper.
      if (typeof resolved !== 'object' || resolved === null) return this.value(resolved, depth + 1, top);
      this.#seen.add(value);
      const written = this.#object(resolved as object, depth + 1, top);
      this.#seen.delete(value);
      return written;
    }
    this.#seen.add(value);
    try {
      if (Array.isArray(value)) this.#array(value, depth);
      else this.#members(value, depth);
    } finally {
      this.#seen.delete(value);
    }
    return true;
  }

  /** What the value stands for in JSON: its `toJSON`, a date, an error, bytes, or itself. */
  #resolve(value: object): unknown {
    if (types.isDate(value)) {
      const time = value.getTime();
      return Number.isNaN(time) ? MARKERS.invalidDate : new Date(time).toISOString();
    }
    if (types.isNativeError(value)) return errorJson(value);
    if (types.isUint8Array(value)) return Buffer.from(value).toString('base64');
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return toJSON.call(value);
    return value;
  }

  #array(items: readonly unknown[], depth: number): void {
    const length = Math.min(items.length, JSON_LIMITS.maxMembers);
    this.out += '[';
    for (let i = 0; i < length; i++) {
      if (i > 0) this.out += ',';
      let item: unknown;
      try {
        item = items[i];
      } catch {
        item = MARKERS.unreadable;
      }
      if (!this.value(item, depth + 1)) this.out += 'null';
    }
    if (items.length > length) this.out += `,${JSON.stringify(MARKERS.truncated)}`;
    this.out += ']';
  }

  #members(value: object, depth: number): void {
    let keys: string[];
    try {
      keys = Object.keys(value);
    } catch {
      this.out += JSON.stringify(MARKERS.unreadable);
      return;
    }
    this.out += '{';
    let first = true;
    const length = Math.min(keys.length, JSON_LIMITS.maxMembers);
    for (let i = 0; i < length; i++) {
      const key = keys[i] as string;
      let item: unknown;
      try {
        item = (value as Record<string, unknown>)[key];
      } catch {
        item = MARKERS.unreadable;
      }
      const mark = this.out.length;
      this.out += `${first ? '' : ','}${JSON.stringify(key)}:`;
      if (this.value(item, depth + 1)) first = false;
      else this.out = this.out.slice(0, mark);
    }
    if (keys.length > length) this.out += `${first ? '' : ','}${JSON.stringify(MARKERS.truncated)}:true`;
    this.out += '}';
  }
}

function symbolText(value: symbol): string {
  try {
    return value.toString();
  } catch {
    return MARKERS.unreadable;
  }
}
