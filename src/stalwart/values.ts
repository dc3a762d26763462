/**
 * Event data as Stalwart writes it. Two writers:
 * - {@link stalwartData}: the JSON of `crates/trc/src/serializers/json.rs` (`JsonEventSerializer`),
 *   which both versions use for webhooks and 0.15 uses for live items and history bodies: times as
 *   RFC 3339 strings, bytes as base64, a nested event (an error) as `{"type","data"}`, absent values
 *   left out. Under `vocabulary`, only the 66 keys of Stalwart's `Key` enum are written, and every
 *   value is one the 0.15 web admin's untagged `Value` enum reads (`webadmin:src/pages/enterprise/
 *   tracing/event.rs`: string, u64, f64, bool, `{type,data}`, array; never null).
 * - {@link keyValues}: 0.16's typed `keyValues` (`crates/common/src/telemetry/tracers/mod.rs`
 *   `map_value`; `crates/registry/src/schema/structs.rs` `TraceValue`, tagged by `"@type"`).
 * Neither throws: a value that cannot be read is left out.
 */
import * as types from 'node:util/types';
import { JSON_LIMITS, safeJson } from '../base/json.js';
import { KEY_TYPES } from '../catalog/generated.js';

const VOCABULARY: ReadonlyMap<string, string> = new Map(Object.entries(KEY_TYPES));
const MAX_DEPTH = 16;

/** How one event's data is written. */
export interface DataOptions {
  /** The type given to a nested JS `Error`, which has no event name of its own: the outer event's. */
  readonly errorType: string;
  /** Only the keys of Stalwart's vocabulary (the 0.15 admin's closed `Key` enum). */
  readonly vocabulary: boolean;
  /** Whether `spanId` is written (Stalwart's `with_spans`: webhooks and trace lists yes, live and `trace/{id}` no). */
  readonly spanId: boolean;
}

let secondStart = Number.NaN;
let secondText = '';

/** RFC 3339 to the second, as Stalwart writes every time (`DateTime::to_rfc3339`): `2026-01-31T12:00:20Z`. */
export function rfc3339(ms: number): string {
  if (!Number.isFinite(ms)) return '1970-01-01T00:00:00Z';
  const start = Math.floor(ms / 1000) * 1000;
  if (start === secondStart) return secondText;
  const date = new Date(start);
  if (Number.isNaN(date.getTime())) return '1970-01-01T00:00:00Z';
  secondStart = start;
  secondText = `${date.toISOString().slice(0, 19)}Z`;
  return secondText;
}

/** The data as Stalwart's JSON serialiser writes it, as a plain object ready for `JSON.stringify`. */
export function stalwartData(data: unknown, options: DataOptions): Record<string, unknown> {
  return keysOf(data, options, 0, new Set());
}

/** {@link stalwartData} as JSON; never throws. */
export function stalwartDataJson(data: unknown, options: DataOptions): string {
  try {
    const json = JSON.stringify(stalwartData(data, options));
    return json.length > JSON_LIMITS.maxJson ? '{}' : json;
  } catch {
    return '{}';
  }
}

/**
 * Calls `visit` with each readable own key of `data` and its value: not `__proto__`, not a key
 * whose getter throws, not an undefined value; nothing for a value seen above or too deep.
 */
function eachEntry(data: unknown, depth: number, seen: Set<object>, visit: (key: string, value: unknown) => void): void {
  if (typeof data !== 'object' || data === null || depth > MAX_DEPTH || seen.has(data)) return;
  seen.add(data);
  try {
    for (const key of Object.keys(data)) {
      if (key === '__proto__') continue;
      let value: unknown;
      try {
        value = (data as Record<string, unknown>)[key];
      } catch {
        continue;
      }
      if (value !== undefined) visit(key, value);
    }
  } catch {
    // Keys that cannot be listed: what was visited stands.
  } finally {
    seen.delete(data);
  }
}

function keysOf(data: unknown, options: DataOptions, depth: number, seen: Set<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  eachEntry(data, depth, seen, (key, value) => {
    if (key === 'spanId' && !options.spanId) return;
    const type = VOCABULARY.get(key);
    if (options.vocabulary && type === undefined) return;
    const written = writeValue(value, type, options, depth + 1, seen);
    if (written !== undefined) out[key] = written;
  });
  return out;
}

function writeValue(value: unknown, type: string | undefined, options: DataOptions, depth: number, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
      return value.length > JSON_LIMITS.maxString ? value.slice(0, JSON_LIMITS.maxString) : value;
    case 'number':
      if (!Number.isFinite(value)) return undefined;
      // A time given as epoch milliseconds: Stalwart always writes a time as RFC 3339.
      return type === 'time' ? rfc3339(value) : value;
    case 'boolean':
      return value;
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null || depth > MAX_DEPTH || seen.has(value)) return undefined;
  try {
    if (types.isDate(value)) {
      const time = Date.prototype.getTime.call(value);
      return Number.isNaN(time) ? undefined : rfc3339(time);
    }
    if (types.isUint8Array(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    if (types.isNativeError(value)) return errorEvent(value, options, depth, seen);
    if (Array.isArray(value)) {
      seen.add(value);
      const out: unknown[] = [];
      const length = Math.min(value.length, JSON_LIMITS.maxMembers);
      for (let i = 0; i < length; i++) {
        const item = writeValue(value[i], type === 'strings' || type === 'numbers' ? undefined : type, options, depth + 1, seen);
        if (item !== undefined) out.push(item);
      }
      seen.delete(value);
      return out;
    }
    const cause = value as { type?: unknown; data?: unknown };
    if (typeof cause.type === 'string') {
      // A nested event, as the host writes a cause: `{ type, data }`.
      return { type: cause.type, data: keysOf(cause.data, options, depth, seen) };
    }
    // Any other object: Stalwart has no such value, so it travels as its JSON text.
    return safeJson(value);
  } catch {
    return undefined;
  }
}

/** A JS error as Stalwart writes a nested error event: `{"type":"<event>","data":{reason, details?, code?}}`. */
function errorEvent(error: Error, options: DataOptions, depth: number, seen: Set<object>): unknown {
  const data: Record<string, unknown> = {};
  const message = read(error, 'message');
  if (typeof message === 'string' && message !== '') data.reason = message;
  const name = read(error, 'name');
  if (typeof name === 'string' && name !== 'Error') data.details = name;
  const code = read(error, 'code');
  if (typeof code === 'string' || typeof code === 'number') data.code = code;
  const own = read(error, 'type');
  const cause = read(error, 'cause');
  if (cause !== undefined && !seen.has(error)) {
    seen.add(error);
    const written = writeValue(cause, 'cause', options, depth + 1, seen);
    seen.delete(error);
    if (written !== undefined) data.causedBy = written;
  }
  return { type: typeof own === 'string' && EVENT_NAME.test(own) ? own : options.errorType, data };
}

const EVENT_NAME = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;

function read(target: object, key: string): unknown {
  try {
    return (target as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

// -- 0.16 keyValues --------------------------------------------------------

/** One typed value of a 0.16 trace item. */
export type TraceValue =
  | { readonly '@type': 'String' | 'UTCDateTime' | 'IpAddr'; readonly value: string }
  | { readonly '@type': 'UnsignedInt' | 'Integer' | 'Float' | 'Duration'; readonly value: number }
  | { readonly '@type': 'Boolean'; readonly value: boolean }
  | { readonly '@type': 'List'; readonly value: readonly TraceValue[] }
  | { readonly '@type': 'Event'; readonly event: string; readonly value: readonly TraceKeyValue[] }
  | { readonly '@type': 'Null' };

/** One key of a 0.16 trace item. */
export interface TraceKeyValue {
  readonly key: string;
  readonly value: TraceValue;
}

const NULL: TraceValue = { '@type': 'Null' };

/** The data's keys as 0.16 writes them: `[{key, value:{"@type", value}}]`, in order. */
export function keyValues(data: unknown, errorType: string): TraceKeyValue[] {
  return pairsOf(data, errorType, 0, new Set());
}

function pairsOf(data: unknown, errorType: string, depth: number, seen: Set<object>): TraceKeyValue[] {
  const out: TraceKeyValue[] = [];
  eachEntry(data, depth, seen, (key, value) => {
    out.push({ key, value: typed(value, VOCABULARY.get(key), errorType, depth + 1, seen) });
  });
  return out;
}

function typed(value: unknown, type: string | undefined, errorType: string, depth: number, seen: Set<object>): TraceValue {
  switch (typeof value) {
    case 'string':
      return {
        '@type': type === 'ip' ? 'IpAddr' : 'String',
        value: value.length > JSON_LIMITS.maxString ? value.slice(0, JSON_LIMITS.maxString) : value,
      };
    case 'number':
      if (!Number.isFinite(value)) return NULL;
      if (type === 'time') return { '@type': 'UTCDateTime', value: rfc3339(value) };
      if (type === 'duration' && value >= 0) return { '@type': 'Duration', value: Math.round(value) };
      if (Number.isInteger(value)) return { '@type': value >= 0 ? 'UnsignedInt' : 'Integer', value };
      return { '@type': 'Float', value };
    case 'boolean':
      return { '@type': 'Boolean', value };
    case 'bigint': {
      const n = Number(value);
      return Number.isSafeInteger(n)
        ? { '@type': n >= 0 ? 'UnsignedInt' : 'Integer', value: n }
        : { '@type': 'String', value: value.toString() };
    }
    case 'object':
      break;
    default:
      return NULL;
  }
  if (value === null || depth > MAX_DEPTH || seen.has(value)) return NULL;
  try {
    if (types.isDate(value)) {
      const time = Date.prototype.getTime.call(value);
      return Number.isNaN(time) ? NULL : { '@type': 'UTCDateTime', value: rfc3339(time) };
    }
    // Stalwart 0.16 writes bytes as their (lossy) UTF-8 text.
    if (types.isUint8Array(value))
      return { '@type': 'String', value: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8') };
    if (types.isNativeError(value)) {
      const message = read(value, 'message');
      const own = read(value, 'type');
      const pairs: TraceKeyValue[] =
        typeof message === 'string' && message !== '' ? [{ key: 'reason', value: { '@type': 'String', value: message } }] : [];
      return { '@type': 'Event', event: typeof own === 'string' && EVENT_NAME.test(own) ? own : errorType, value: pairs };
    }
    if (Array.isArray(value)) {
      seen.add(value);
      const length = Math.min(value.length, JSON_LIMITS.maxMembers);
      const list: TraceValue[] = [];
      for (let i = 0; i < length; i++)
        list.push(typed(value[i], type === 'strings' || type === 'numbers' ? undefined : type, errorType, depth + 1, seen));
      seen.delete(value);
      return { '@type': 'List', value: list };
    }
    const cause = value as { type?: unknown; data?: unknown };
    if (typeof cause.type === 'string')
      return { '@type': 'Event', event: cause.type, value: pairsOf(cause.data, errorType, depth, seen) };
    return { '@type': 'String', value: safeJson(value) };
  } catch {
    return NULL;
  }
}
