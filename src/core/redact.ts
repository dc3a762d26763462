import * as types from 'node:util/types';
import { JSON_LIMITS, safeCopy } from '../base/json.js';
import type { TelemetryEvent } from '../catalog/types.js';
import { EventRecord } from './event.js';

/** The value written in place of a sensitive key. */
export const REDACTED = '[redacted]';

type Data = Readonly<Record<string, unknown>>;
const EMPTY: Data = Object.freeze({});

/**
 * The batch with `keys` redacted, at any depth; events that carry none of them pass through as
 * they are. Own keys only: an inherited value is never read, and a `__proto__` key stays a plain
 * key of the copy, never its prototype.
 */
export function redactBatch(batch: readonly TelemetryEvent[], keys: ReadonlySet<string>): readonly TelemetryEvent[] {
  return batch.map((event) => {
    // The event's own keys and its span's are redacted apart, so sinks still tell them apart.
    const record = event instanceof EventRecord ? event : undefined;
    const own = record === undefined ? readData(event) : record.own;
    const span = record?.spanKeys;
    const ownCopy = redacted(own, keys);
    const spanCopy = span === undefined ? undefined : redacted(span, keys);
    if (ownCopy === own && spanCopy === span) return event;
    return new EventRecord(
      event.id,
      event.type,
      event.typeId,
      event.level,
      event.timestamp,
      event.spanId,
      ownCopy,
      spanCopy,
      undefined,
    );
  });
}

/** A foreign event's data; one whose getter throws has none that can be read. */
function readData(event: TelemetryEvent): Data {
  try {
    return event.data;
  } catch {
    return EMPTY;
  }
}

/** `data` itself when it holds none of `keys`, else a copy with their values redacted. */
function redacted(data: Data, keys: ReadonlySet<string>): Data {
  let names: string[];
  try {
    names = Object.keys(data);
  } catch {
    // Keys that cannot be listed cannot be checked, nor written by any sink.
    return EMPTY;
  }
  let hit = false;
  for (let i = 0; i < names.length && !hit; i++) {
    const key = names[i] as string;
    const value = read(data, key);
    hit = value !== undefined && (keys.has(key) || holds(value, keys, 0, undefined));
  }
  if (!hit) return data;
  const copy: Record<string, unknown> = {};
  for (const key of names) {
    const value = read(data, key);
    if (value === undefined) continue;
    define(copy, key, keys.has(key) ? REDACTED : holds(value, keys, 0, undefined) ? scrubbed(value, keys) : value);
  }
  return copy;
}

/** A key's value; a throwing getter counts as a value (so a sensitive key is still redacted). */
function read(data: Data, key: string): unknown {
  try {
    return data[key];
  } catch {
    return null;
  }
}

/** True when `value` holds one of `keys` in a nested object or array. */
function holds(value: unknown, keys: ReadonlySet<string>, depth: number, seen: Set<object> | undefined): boolean {
  if (typeof value !== 'object' || value === null || types.isDate(value) || value instanceof Uint8Array) return false;
  if (depth >= JSON_LIMITS.maxDepth || seen?.has(value)) return false;
  let names: string[];
  try {
    names = Object.keys(value);
  } catch {
    return false;
  }
  // The cycle guard is made only when there is a nested object to enter.
  let visited = seen;
  const limit = Math.min(names.length, JSON_LIMITS.maxMembers);
  for (let i = 0; i < limit; i++) {
    const key = names[i] as string;
    const item = read(value as Data, key);
    if (item === undefined) continue;
    if (keys.has(key)) return true;
    if (typeof item === 'object' && item !== null) {
      visited ??= new Set<object>();
      visited.add(value);
      if (holds(item, keys, depth + 1, visited)) return true;
    }
  }
  return false;
}

/** A plain-JSON copy of `value` (no cycles, no getters) with `keys` redacted at every depth. */
function scrubbed(value: unknown, keys: ReadonlySet<string>): unknown {
  const copy = safeCopy(value);
  scrub(copy, keys);
  return copy;
}

function scrub(value: unknown, keys: ReadonlySet<string>): void {
  if (typeof value !== 'object' || value === null) return;
  for (const key of Object.keys(value)) {
    const record = value as Record<string, unknown>;
    if (keys.has(key)) define(record, key, REDACTED);
    else scrub(record[key], keys);
  }
}

/** Sets an own data key; `__proto__` included, which plain assignment would take as the prototype. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
