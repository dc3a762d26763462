import * as types from 'node:util/types';
import { dateText, JSON_LIMITS } from '../base/json.js';
import { isLevel, type Level, severity } from '../base/levels.js';
import { EventRecord } from '../core/event.js';
import { currentName, currentPatterns } from '../stalwart/names.js';
import type { SeriesQuery } from './series.js';
import type { EventQuery, HistoryEvent, KeyMatch, TraceQuery } from './types.js';

/** A query the history cannot run; the HTTP handler answers it with 400. */
export class HistoryQueryError extends Error {
  override readonly name = 'HistoryQueryError';
  /** The query field or parameter at fault. */
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;
const PATTERN = /^[a-z0-9.*-]+$/;
const KEY_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const EVENT_QUERY_KEYS = new Set(['types', 'from', 'to', 'level', 'keys', 'text', 'spanId', 'node', 'limit', 'cursor']);
const TRACE_QUERY_KEYS = new Set(['type', 'queueId', 'keywords', 'from', 'to', 'node', 'limit', 'cursor']);

/** One key condition, values lower-cased for substring matches. */
export interface KeyCondition {
  readonly key: string;
  /** Exact value, as text (numbers and booleans in their `String()` form). */
  readonly exact?: string;
  /** Lower-case substring. */
  readonly contains?: string;
}

/** A validated event query, as stores receive it. */
export interface ResolvedEventQuery {
  readonly types: readonly string[] | undefined;
  readonly from: number;
  readonly to: number;
  /** Numeric severity: trace 0 ... error 4. */
  readonly minLevel: number;
  readonly keys: readonly KeyCondition[];
  /** Lower-case text to find in some value. */
  readonly text: string | undefined;
  /** The span id as text. */
  readonly spanId: string | undefined;
  /** Only this node's events. */
  readonly node?: string | undefined;
  readonly limit: number;
  /** Only events with an id below this (the cursor). */
  readonly before: number | undefined;
  /**
   * The store's own row number of the cursor's event, when the store that made the cursor keeps
   * several events with one id (a fleet's shared store): only events below `(before, beforeSeq)`.
   * Stores whose ids are unique never set it in their cursors, and may ignore it.
   */
  readonly beforeSeq?: number | undefined;
}

/** A validated trace query, as stores receive it. */
export interface ResolvedTraceQuery {
  readonly type: string | undefined;
  readonly queueId: string | undefined;
  /** Lower-case terms and phrases, all required. */
  readonly terms: readonly string[];
  readonly from: number;
  readonly to: number;
  /** Only this node's traces. */
  readonly node?: string | undefined;
  readonly limit: number;
  /** Only traces after this position in newest-first order (the cursor). */
  readonly after: TraceCursor | undefined;
}

/** A position in newest-first trace order. */
export interface TraceCursor {
  readonly timestamp: number;
  readonly seq: number;
}

export function resolveEventQuery(query: EventQuery | undefined): ResolvedEventQuery {
  const q = object(query ?? {}, 'query') as EventQuery;
  known(q, EVENT_QUERY_KEYS);
  let types: string[] | undefined;
  if (q.types !== undefined) {
    if (!Array.isArray(q.types)) throw new HistoryQueryError('types', 'expected an array of event names or wildcards');
    for (const t of q.types as unknown[])
      if (typeof t !== 'string' || !PATTERN.test(t))
        throw new HistoryQueryError('types', `expected event names or wildcards such as "smtp.*", got ${show(t)}`);
    // Stalwart 0.15's names of renamed events, and wildcards over them, select the 0.16 events.
    types = q.types.length === 0 ? undefined : currentPatterns(q.types);
  }
  if (q.level !== undefined && !isLevel(q.level))
    throw new HistoryQueryError('level', `expected trace, debug, info, warn or error, got ${show(q.level)}`);
  const keys: KeyCondition[] = [];
  if (q.keys !== undefined) {
    object(q.keys, 'keys');
    for (const [key, match] of Object.entries(q.keys)) keys.push(keyCondition(key, match));
  }
  if (q.text !== undefined && (typeof q.text !== 'string' || q.text === ''))
    throw new HistoryQueryError('text', 'expected a non-empty string');
  if (q.spanId !== undefined && typeof q.spanId !== 'number' && typeof q.spanId !== 'string')
    throw new HistoryQueryError('spanId', `expected a span id, got ${show(q.spanId)}`);
  const [from, to] = range(q.from, q.to);
  return {
    types,
    from,
    to,
    minLevel: q.level === undefined ? 0 : severity(q.level as Level),
    keys,
    text: q.text?.toLowerCase(),
    spanId: q.spanId === undefined ? undefined : String(q.spanId),
    node: node(q.node),
    limit: limit(q.limit),
    ...eventCursor(q.cursor),
  };
}

export function resolveTraceQuery(query: TraceQuery | undefined): ResolvedTraceQuery {
  const q = object(query ?? {}, 'query') as TraceQuery;
  known(q, TRACE_QUERY_KEYS);
  if (q.type !== undefined && (typeof q.type !== 'string' || !PATTERN.test(q.type) || q.type.includes('*')))
    throw new HistoryQueryError('type', `expected a span start event name such as "smtp.connection-start", got ${show(q.type)}`);
  if (q.queueId !== undefined && typeof q.queueId !== 'string' && typeof q.queueId !== 'number')
    throw new HistoryQueryError('queueId', `expected a queue id, got ${show(q.queueId)}`);
  if (q.keywords !== undefined && typeof q.keywords !== 'string')
    throw new HistoryQueryError('keywords', `expected a string, got ${show(q.keywords)}`);
  const [from, to] = range(q.from, q.to);
  return {
    type: q.type === undefined ? undefined : currentName(q.type),
    queueId: q.queueId === undefined ? undefined : String(q.queueId),
    terms: q.keywords === undefined ? [] : parseKeywords(q.keywords),
    from,
    to,
    node: node(q.node),
    limit: limit(q.limit),
    after: q.cursor === undefined ? undefined : decodeTraceCursor(q.cursor),
  };
}

const SERIES_QUERY_KEYS = new Set(['metrics', 'from', 'to', 'node']);

/** Checks a series query: metric names and a time range. */
export function resolveSeriesQuery(query: SeriesQuery | undefined): SeriesQuery {
  const q = object(query ?? {}, 'query') as SeriesQuery;
  known(q, SERIES_QUERY_KEYS);
  if (q.metrics !== undefined && (!Array.isArray(q.metrics) || q.metrics.some((m) => typeof m !== 'string' || m === '')))
    throw new HistoryQueryError('metrics', 'expected an array of metric names');
  const [from, to] = range(q.from, q.to);
  const only = node(q.node);
  return {
    ...(q.metrics === undefined ? {} : { metrics: [...q.metrics] }),
    ...(only === undefined ? {} : { node: only }),
    ...(from === Number.NEGATIVE_INFINITY ? {} : { from }),
    ...(to === Number.POSITIVE_INFINITY ? {} : { to }),
  };
}

/** Whitespace-separated terms, `"quoted phrases"` kept whole, lower-cased. An unclosed quote runs to the end. */
export function parseKeywords(text: string): string[] {
  const terms: string[] = [];
  const re = /"([^"]*)"?|(\S+)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const term = (m[1] ?? m[2] ?? '').trim().toLowerCase();
    if (term !== '') terms.push(term);
  }
  return terms;
}

function keyCondition(key: string, match: KeyMatch): KeyCondition {
  if (!KEY_NAME.test(key)) throw new HistoryQueryError(`keys.${key}`, 'expected a key name such as "remoteIp"');
  if (typeof match === 'string' || typeof match === 'number' || typeof match === 'boolean') return { key, exact: String(match) };
  if (typeof match === 'object' && match !== null && typeof match.contains === 'string' && match.contains !== '')
    return { key, contains: match.contains.toLowerCase() };
  throw new HistoryQueryError(`keys.${key}`, 'expected a string, number, boolean or { contains: "non-empty text" }');
}

/** A node name to filter by: any non-empty text. */
function node(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new HistoryQueryError('node', `expected a node name, got ${show(value)}`);
  return value;
}

function range(from: unknown, to: unknown): [number, number] {
  if (from !== undefined && (typeof from !== 'number' || Number.isNaN(from)))
    throw new HistoryQueryError('from', `expected epoch milliseconds, got ${show(from)}`);
  if (to !== undefined && (typeof to !== 'number' || Number.isNaN(to)))
    throw new HistoryQueryError('to', `expected epoch milliseconds, got ${show(to)}`);
  const lo = (from as number | undefined) ?? Number.NEGATIVE_INFINITY;
  const hi = (to as number | undefined) ?? Number.POSITIVE_INFINITY;
  if (lo > hi) throw new HistoryQueryError('from', 'must not be after `to`');
  return [lo, hi];
}

function limit(value: unknown): number {
  if (value === undefined) return DEFAULT_LIMIT;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_LIMIT)
    throw new HistoryQueryError('limit', `expected an integer from 1 to ${MAX_LIMIT}, got ${show(value)}`);
  return value;
}

/** An events cursor: the last event's id, and the store's row number where ids are not unique. */
export function encodeEventCursor(id: number, seq?: number): string {
  return Buffer.from(seq === undefined ? `e${id}` : `e${id}.${seq}`).toString('base64url');
}

function eventCursor(cursor: unknown): { before: number | undefined; beforeSeq?: number } {
  if (cursor === undefined) return { before: undefined };
  const text = typeof cursor === 'string' ? Buffer.from(cursor, 'base64url').toString() : '';
  const m = /^e(\d{1,17})(?:\.(\d{1,17}))?$/.exec(text);
  const id = m === null ? Number.NaN : Number(m[1]);
  const seq = m?.[2] === undefined ? undefined : Number(m[2]);
  if (!Number.isSafeInteger(id) || (seq !== undefined && !Number.isSafeInteger(seq)))
    throw new HistoryQueryError('cursor', 'expected the cursor of a previous events page');
  return seq === undefined ? { before: id } : { before: id, beforeSeq: seq };
}

export function encodeTraceCursor(c: TraceCursor): string {
  return Buffer.from(`t${c.timestamp}:${c.seq}`).toString('base64url');
}

function decodeTraceCursor(cursor: unknown): TraceCursor {
  const text = typeof cursor === 'string' ? Buffer.from(cursor, 'base64url').toString() : '';
  const m = /^t(-?\d{1,16}(?:\.\d+)?):(\d{1,16})$/.exec(text);
  if (m === null) throw new HistoryQueryError('cursor', 'expected the cursor of a previous traces page');
  return { timestamp: Number(m[1]), seq: Number(m[2]) };
}

/** True when trace position `a` comes after `b` in newest-first order. */
export function traceAfter(a: TraceCursor, b: TraceCursor): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.seq < b.seq);
}

/** A value as the text queries compare: strings as is, numbers and booleans by `String`, dates in ISO form. */
export function valueText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      return types.isDate(value) ? dateText(value) : undefined;
  }
}

/**
 * What an event's keys are read from: an event record itself, whose keys are read one by one (its
 * own, then its span's) with no merged copy, or the data of an event made elsewhere. Reading
 * `data` may throw.
 */
export function keySource(event: HistoryEvent): unknown {
  return event instanceof EventRecord ? event : event.data;
}

/** One key of an event's merged data, read from its {@link keySource}. */
export function keyValue(source: unknown, key: string): unknown {
  return source instanceof EventRecord ? source.value(key) : ownValue(source, key);
}

/**
 * The own value of `key` in `data`, or undefined: inherited keys (a `__proto__` set by a merge, a
 * polluted prototype) are never read, and a throwing getter or proxy reads as absent.
 */
export function ownValue(data: unknown, key: string): unknown {
  if (typeof data !== 'object' || data === null) return undefined;
  try {
    return Object.hasOwn(data, key) ? (data as Record<string, unknown>)[key] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when `value` (or, for an array, one of its items) satisfies `condition`. Arrays are looked
 * into one level deep, so a circular or deeply nested array costs one pass over its items.
 */
export function matchesKey(value: unknown, condition: KeyCondition): boolean {
  if (!Array.isArray(value)) return matchesScalar(value, condition);
  try {
    const length = Math.min(value.length, JSON_LIMITS.maxMembers);
    for (let i = 0; i < length; i++) if (matchesScalar(value[i], condition)) return true;
  } catch {
    // An unreadable item (a getter, a proxy) matches nothing.
  }
  return false;
}

function matchesScalar(value: unknown, condition: KeyCondition): boolean {
  const text = valueText(value);
  if (text === undefined) return false;
  return condition.exact !== undefined ? text === condition.exact : text.toLowerCase().includes(condition.contains ?? '');
}

/** Most values one text search reads in one event: a wide circular object cannot make it run away. */
const TEXT_BUDGET = 10_000;

/**
 * True when some value of `data` (own keys only, nested objects and arrays included) contains
 * lower-case `text`. Bounded in depth and in values read; cycles are read once; a value that throws
 * when read matches nothing.
 */
export function matchesText(data: unknown, text: string): boolean {
  const search = { text, budget: TEXT_BUDGET, seen: undefined as Set<object> | undefined };
  try {
    return containsText(data, search, 0);
  } catch {
    return false;
  }
}

interface TextSearch {
  readonly text: string;
  budget: number;
  seen: Set<object> | undefined;
}

function containsText(value: unknown, search: TextSearch, depth: number): boolean {
  if (--search.budget < 0) return false;
  if (typeof value !== 'object' || value === null || types.isDate(value))
    return valueText(value)?.toLowerCase().includes(search.text) ?? false;
  if (depth >= JSON_LIMITS.maxDepth) return false;
  if (depth > 0) {
    // The common flat event never allocates the set.
    search.seen ??= new Set();
    if (search.seen.has(value)) return false;
    search.seen.add(value);
  }
  if (types.isNativeError(value)) return containsText(ownValue(value, 'message'), search, depth + 1);
  if (Array.isArray(value)) {
    const length = Math.min(value.length, JSON_LIMITS.maxMembers);
    for (let i = 0; i < length; i++) if (containsText(ownValue(value, String(i)), search, depth + 1)) return true;
    return false;
  }
  for (const key of Object.keys(value)) if (containsText(ownValue(value, key), search, depth + 1)) return true;
  return false;
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HistoryQueryError(field, `expected an object, got ${show(value)}`);
  return value as Record<string, unknown>;
}

function known(q: object, keys: Set<string>): void {
  for (const key of Object.keys(q))
    if (!keys.has(key)) throw new HistoryQueryError(key, `unknown query field; known: ${[...keys].join(', ')}`);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
