import { LEVELS, type Level } from '../base/levels.js';
import type { SpanId } from '../catalog/keys.js';
import type { SeriesPoint } from './series.js';
import type { HistoryEvent, Trace, TraceMessage } from './types.js';

// What the SQL stores (sqlite, PostgreSQL) read back from their rows: one reading for both, so
// that the stores answer alike.

/** A span id as it was written: a number when its text is one. */
export function spanIdOf(text: string): SpanId {
  const n = Number(text);
  return Number.isSafeInteger(n) && String(n) === text ? n : text;
}

/** An event row as read back (a bigint id may come as text). */
export interface StoredEventRow {
  readonly id: number | string;
  readonly ts: number;
  readonly type: string;
  readonly level: number;
  readonly span: string | null;
  readonly data: string;
}

/** The node a row was written by, when the store knows it (rows of files older than nodes have none). */
type RowNode = string | null | undefined;

export function eventFromRow(row: StoredEventRow, node: RowNode): HistoryEvent {
  const event = {
    id: Number(row.id),
    type: row.type,
    level: LEVELS[row.level] as Level,
    timestamp: row.ts,
    data: JSON.parse(row.data) as Record<string, unknown>,
    ...(node == null ? {} : { node }),
  };
  return row.span === null ? event : { ...event, spanId: spanIdOf(row.span) };
}

/** A trace row as read back, its span id aside (the stores name that column differently). */
export interface StoredTraceRow {
  readonly type: string;
  readonly ts: number;
  readonly queue_id: string | null;
  readonly sender: string | null;
  readonly recipients: string;
  readonly size: number | null;
  readonly truncated: number;
  readonly keywords: string;
  /** The trace's messages as JSON; null in sqlite files written before messages were kept. */
  readonly messages: string | null;
  readonly events?: string;
}

export function traceFromRow(span: string, row: StoredTraceRow, node: RowNode): Trace {
  return {
    ...(node == null ? {} : { node }),
    id: spanIdOf(span),
    type: row.type,
    timestamp: row.ts,
    ...(row.queue_id === null ? {} : { queueId: row.queue_id }),
    ...(row.sender === null ? {} : { from: row.sender }),
    to: JSON.parse(row.recipients) as string[],
    ...(row.size === null ? {} : { size: row.size }),
    messages: row.messages === null ? [] : (JSON.parse(row.messages) as TraceMessage[]),
    truncated: row.truncated,
    keywords: row.keywords,
    events: row.events === undefined ? [] : (JSON.parse(row.events) as HistoryEvent[]),
  };
}

/** Every queue id of a trace: its first, and each of its messages', once each. */
export function traceQueueIds(trace: Trace): string[] {
  const ids = new Set<string>();
  if (trace.queueId !== undefined) ids.add(trace.queueId);
  for (const message of trace.messages ?? []) ids.add(message.queueId);
  return [...ids];
}

/** A series row as read back. */
export interface StoredPointRow {
  readonly ts: number;
  readonly metric: string;
  readonly kind: SeriesPoint['kind'];
  readonly labels: string;
  readonly value: number;
  readonly count: number | null;
}

export function pointFromRow(r: StoredPointRow, node: RowNode): SeriesPoint {
  const point = {
    metric: r.metric,
    kind: r.kind,
    labels: JSON.parse(r.labels) as Record<string, string>,
    timestamp: r.ts,
    value: r.value,
    ...(node == null ? {} : { node }),
  };
  return r.count === null ? point : { ...point, count: r.count };
}
