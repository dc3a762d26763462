/**
 * TypeScript ports of the parser structs of Stalwart's two web admins: the fields each requires and
 * their types, and what makes serde refuse a body. Each throws, naming the path, where the admin's
 * `serde_json::from_str` would fail. Structure only; no code is copied.
 * - 0.15 admin: `stalwartlabs/webadmin` v0.1.33.
 * - 0.16 WebUI: `stalwartlabs/webui` v1.0.8.
 */
import { KEY_TYPES } from '../../src/catalog/generated.js';

class ParseError extends Error {}

function fail(path: string, expected: string, got: unknown): never {
  throw new ParseError(`${path}: expected ${expected}, got ${JSON.stringify(got)}`);
}

function object(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'an object', v);
  return v as Record<string, unknown>;
}

function string(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, 'a string', v);
  return v;
}

function optionalString(v: unknown, path: string): string | undefined {
  return v === undefined || v === null ? undefined : string(v, path);
}

/** serde's u64: a JSON integer from 0 to 2^64 - 1 (a number written with a fraction or exponent is a float). */
function u64(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(path, 'a u64', v);
  return v;
}

/** chrono's `DateTime::parse_from_rfc3339`, as `deserialize_datetime` (`webadmin:src/pages/queue/messages/mod.rs`) calls it. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
function rfc3339(v: unknown, path: string): string {
  if (typeof v !== 'string' || !RFC3339.test(v) || Number.isNaN(Date.parse(v))) fail(path, 'an RFC 3339 date-time', v);
  return v;
}

function array(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, 'an array', v);
  return v;
}

/** `HttpRequest::send::<T>` (`webadmin:src/core/http.rs`): the body's `data` member. */
export function dataOf(body: unknown): unknown {
  const o = object(body, 'body');
  if (!('data' in o)) fail('body.data', 'present', undefined);
  return o.data;
}

/** `webadmin:src/pages/enterprise/tracing/event.rs` `Key`: a closed enum of 66 camelCase names. */
export const KEYS_015: ReadonlySet<string> = new Set(Object.keys(KEY_TYPES));

/** `event.rs` `Value`, untagged: String | Int(u64) | Float(f64) | Bool | Event(SubEvent) | Array(Vec<Value>). */
function value015(v: unknown, path: string): void {
  if (typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') return; // u64, else f64
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      value015(item, `${path}[${i}]`);
    });
    return;
  }
  if (typeof v === 'object' && v !== null) {
    subEvent015(v, path);
    return;
  }
  fail(path, 'a string, number, boolean, sub-event or array (untagged Value)', v);
}

function data015(v: unknown, path: string): void {
  const o = object(v, path);
  for (const [key, value] of Object.entries(o)) {
    if (!KEYS_015.has(key)) fail(`${path}.${key}`, 'one of the 66 keys of Key', key);
    value015(value, `${path}.${key}`);
  }
}

/** `event.rs` `SubEvent { type: String, text?, details?, data: map<Key, Value> }`. */
function subEvent015(v: unknown, path: string): void {
  const o = object(v, path);
  string(o.type, `${path}.type`);
  optionalString(o.text, `${path}.text`);
  optionalString(o.details, `${path}.details`);
  data015(o.data, `${path}.data`);
}

/** `event.rs` `Event { type, text?, details?, createdAt (RFC 3339), data: map<Key, Value> }`. */
export function parseEvent015(v: unknown, path = 'event'): { type: string; createdAt: string; data: Record<string, unknown> } {
  const o = object(v, path);
  const type = string(o.type, `${path}.type`);
  optionalString(o.text, `${path}.text`);
  optionalString(o.details, `${path}.details`);
  const createdAt = rfc3339(o.createdAt, `${path}.createdAt`);
  data015(o.data, `${path}.data`);
  return { type, createdAt, data: o.data as Record<string, unknown> };
}

/** `webadmin:src/pages/enterprise/dashboard.rs` `LiveMetric`, tagged by `type` (camelCase). */
export function parseLiveMetric015(v: unknown, path = 'metric'): { id: string; type: string } {
  const o = object(v, path);
  const id = string(o.id, `${path}.id`);
  if (o.type === 'counter' || o.type === 'gauge') u64(o.value, `${path}.value`);
  else if (o.type === 'histogram') {
    u64(o.count, `${path}.count`);
    u64(o.sum, `${path}.sum`);
  } else fail(`${path}.type`, 'counter, gauge or histogram', o.type);
  return { id, type: o.type };
}

/** `dashboard.rs` `Metric`: `LiveMetric` plus `timestamp: DateTime<Utc>`. */
export function parseMetric015(v: unknown, path = 'metric'): { id: string; type: string; timestamp: string } {
  const parsed = parseLiveMetric015(v, path);
  return { ...parsed, timestamp: rfc3339(object(v, path).timestamp, `${path}.timestamp`) };
}

/** `webadmin:src/pages/mod.rs` `List<T> { items: Vec<T>, total: u64 }`. */
export function parseList015<T>(v: unknown, item: (v: unknown, path: string) => T, path = 'list'): { items: T[]; total: number } {
  const o = object(v, path);
  const items = array(o.items, `${path}.items`).map((x, i) => item(x, `${path}.items[${i}]`));
  return { items, total: u64(o.total, `${path}.total`) };
}

/** `webadmin:src/pages/manage/logs.rs` `LogEntry { timestamp (RFC 3339), level, event, event_id, details }`. */
export function parseLogEntry015(v: unknown, path = 'log'): { level: string; event: string; event_id: string; details: string } {
  const o = object(v, path);
  rfc3339(o.timestamp, `${path}.timestamp`);
  return {
    level: string(o.level, `${path}.level`),
    event: string(o.event, `${path}.event`),
    event_id: string(o.event_id, `${path}.event_id`),
    details: string(o.details, `${path}.details`),
  };
}

/** `webui:src/features/tracing/types.ts` `TraceValue`, tagged by `@type`. */
function traceValue016(v: unknown, path: string): void {
  const o = object(v, path);
  switch (o['@type']) {
    case 'String':
    case 'UTCDateTime':
    case 'IpAddr':
      string(o.value, `${path}.value`);
      return;
    case 'UnsignedInt':
    case 'Duration':
      u64(o.value, `${path}.value`);
      return;
    case 'Integer':
      if (typeof o.value !== 'number' || !Number.isInteger(o.value)) fail(`${path}.value`, 'an i64', o.value);
      return;
    case 'Float':
      if (typeof o.value !== 'number') fail(`${path}.value`, 'a number', o.value);
      return;
    case 'Boolean':
      if (typeof o.value !== 'boolean') fail(`${path}.value`, 'a boolean', o.value);
      return;
    case 'List':
      array(o.value, `${path}.value`).forEach((x, i) => {
        traceValue016(x, `${path}.value[${i}]`);
      });
      return;
    case 'Event':
      string(o.event, `${path}.event`);
      array(o.value, `${path}.value`).forEach((x, i) => {
        keyValue016(x, `${path}.value[${i}]`);
      });
      return;
    case 'Null':
      return;
    default:
      fail(`${path}.@type`, 'a TraceValue tag', o['@type']);
  }
}

function keyValue016(v: unknown, path: string): void {
  const o = object(v, path);
  string(o.key, `${path}.key`);
  traceValue016(o.value, `${path}.value`);
}

/** `webui:src/features/tracing/types.ts` `TraceEvent { event, timestamp, keyValues: TraceKeyValue[] }`. */
export function parseTraceEvent016(v: unknown, path = 'event'): { event: string; timestamp: string; keyValues: unknown[] } {
  const o = object(v, path);
  const event = string(o.event, `${path}.event`);
  const timestamp = rfc3339(o.timestamp, `${path}.timestamp`);
  const keyValues = array(o.keyValues, `${path}.keyValues`);
  keyValues.forEach((x, i) => {
    keyValue016(x, `${path}.keyValues[${i}]`);
  });
  return { event, timestamp, keyValues };
}

/** `webui:src/features/dashboard/stores/liveMetricsStore.ts`: `{metric, "@type", count, sum?}`. */
export function parseLiveMetric016(v: unknown, path = 'metric'): { metric: string } {
  const o = object(v, path);
  const metric = string(o.metric, `${path}.metric`);
  if (o['@type'] !== 'Counter' && o['@type'] !== 'Gauge' && o['@type'] !== 'Histogram')
    fail(`${path}.@type`, 'Counter, Gauge or Histogram', o['@type']);
  if (typeof o.count !== 'number') fail(`${path}.count`, 'a number', o.count);
  return { metric };
}
