import { JSON_LIMITS, safeJson } from '../../base/json.js';
import { severity } from '../../base/levels.js';
import { eventJson, listJson, storableEvent } from '../json.js';
import { keyValue, ownValue, valueText } from '../query.js';
import { type StoredEventRow, type StoredTraceRow, traceQueueIds } from '../rows.js';
import type { SeriesPoint } from '../series.js';
import type { HistoryEvent, Trace } from '../types.js';
import { textSafe } from './options.js';

/**
 * Longest indexed value, in UTF-16 units: a GIN entry must fit in a third of a page. Longer values
 * are indexed by their start, and a query for one is checked on the row itself.
 */
export const INDEX_CUT = 512;

/** One event as the `events` table holds it. */
export interface EventRow {
  readonly id: number;
  readonly ts: number;
  readonly type: string;
  readonly level: number;
  readonly span: string | null;
  readonly data: string;
  /** The data JSON in lower case: a coarse filter for text queries. */
  readonly search: string;
  /** `key=value` of each indexed value, for exact matches. */
  readonly keys: readonly string[];
  /** `key=value` with the value in lower case, for substring matches. */
  readonly lkeys: readonly string[];
}

export interface TraceRow {
  readonly span: string;
  readonly type: string;
  readonly ts: number;
  readonly queueId: string | null;
  readonly sender: string | null;
  readonly recipients: string;
  readonly size: number | null;
  readonly truncated: number;
  readonly keywords: string;
  readonly messages: string;
  readonly queueIds: readonly string[];
  readonly events: string;
}

export interface PointRow {
  /** The point's id, unique for its node: a write of it again adds nothing. */
  readonly pid: number;
  readonly ts: number;
  readonly metric: string;
  readonly kind: string;
  readonly labels: string;
  readonly value: number;
  readonly count: number | null;
}

/** An index entry: the key, `=`, and the value made safe and cut. */
export function indexEntry(key: string, value: string): string {
  return `${key}=${textSafe(value).slice(0, INDEX_CUT)}`;
}

/**
 * True when an exact match on `value` must be confirmed on the row: the index holds a changed
 * (made safe) or shortened copy of it.
 */
export function indexInexact(value: string): boolean {
  return value.length >= INDEX_CUT || textSafe(value) !== value || value.includes('\uFFFD');
}

/** Reads a whole event into its row; throws for an event that cannot be stored. */
export function eventRow(event: HistoryEvent, indexKeys: ReadonlySet<string>): EventRow {
  const { id, timestamp, type, level, spanId } = event;
  const { source, json: data } = storableEvent(event);
  const keys: string[] = [];
  const lkeys: string[] = [];
  const add = (key: string, text: string | undefined) => {
    if (text === undefined) return;
    keys.push(indexEntry(key, text));
    lkeys.push(
      `${key}=${textSafe(text.length > JSON_LIMITS.maxString ? text.slice(0, JSON_LIMITS.maxString) : text).toLowerCase()}`,
    );
  };
  for (const key of indexKeys) {
    const value = keyValue(source, key);
    if (value === undefined) continue;
    if (!Array.isArray(value)) {
      add(key, valueText(value));
      continue;
    }
    const length = Math.min(value.length, JSON_LIMITS.maxMembers);
    for (let i = 0; i < length; i++) add(key, valueText(ownValue(value, String(i))));
  }
  return {
    id,
    ts: timestamp,
    type: textSafe(type),
    level: severity(level),
    span: spanId === undefined ? null : textSafe(String(spanId)),
    data,
    search: data.toLowerCase(),
    keys,
    lkeys,
  };
}

/** Every queue id of a trace, as the index holds them. */
function queueIds(trace: Trace): string[] {
  return traceQueueIds(trace).map((id) => textSafe(id).slice(0, INDEX_CUT));
}

const nullable = (text: string | undefined) => (text === undefined ? null : textSafe(text));

export function traceRow(t: Trace): TraceRow {
  if (typeof t.timestamp !== 'number' || Number.isNaN(t.timestamp)) throw new TypeError('expected a numeric trace timestamp');
  return {
    span: textSafe(String(t.id)),
    type: textSafe(String(t.type)),
    ts: t.timestamp,
    queueId: nullable(t.queueId),
    sender: nullable(t.from),
    recipients: safeJson(t.to),
    size: typeof t.size === 'number' ? t.size : null,
    truncated: Number.isSafeInteger(t.truncated) ? t.truncated : 0,
    keywords: textSafe(String(t.keywords)),
    messages: safeJson(t.messages ?? []),
    queueIds: queueIds(t),
    events: listJson(t.events, eventJson),
  };
}

export function pointRow(p: SeriesPoint, pid: number): PointRow {
  return {
    pid,
    ts: p.timestamp,
    metric: textSafe(String(p.metric)),
    kind: textSafe(String(p.kind)),
    labels: safeJson(p.labels),
    value: p.value,
    count: p.count ?? null,
  };
}

/** An `events` row as read back (bigint columns come as text). */
export interface ReadEventRow extends StoredEventRow {
  readonly seq: string;
  readonly id: string;
  readonly node: string;
}

/** A `traces` row as read back. */
export interface ReadTraceRow extends StoredTraceRow {
  readonly seq: string;
  readonly span: string;
  readonly node: string;
}
