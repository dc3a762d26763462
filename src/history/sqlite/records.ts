import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { safeJson } from '../../base/json.js';
import { eventJson, listJson } from '../json.js';
import { encodeTraceCursor, type ResolvedTraceQuery } from '../query.js';
import { pointFromRow, type StoredPointRow, type StoredTraceRow, traceFromRow, traceQueueIds } from '../rows.js';
import type { SeriesPoint, SeriesQuery } from '../series.js';
import type { Page, Trace, TraceSummary } from '../types.js';
import { statement } from './write.js';

// Span traces and metric series: a row each, as they are records of their own, not events.

interface TraceRow extends StoredTraceRow {
  readonly seq: number;
  readonly id: string;
  readonly node: number | null;
}

/** How a store names its node numbers, and the node filter of a query (false: no record can match). */
export interface Nodes {
  name(id: number | null | undefined): string | undefined;
  filter(node: string | undefined, where: string[], args: SQLInputValue[]): boolean;
}

export function insertTrace(db: DatabaseSync, t: Trace, node: number): void {
  statement(
    db,
    `INSERT OR REPLACE INTO traces (id, type, ts, queue_id, sender, recipients, size, truncated, keywords, events, messages, queue_ids, node)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    String(t.id),
    t.type,
    t.timestamp,
    t.queueId ?? null,
    t.from ?? null,
    safeJson(t.to),
    t.size ?? null,
    t.truncated,
    t.keywords,
    listJson(t.events, eventJson),
    safeJson(t.messages ?? []),
    queueIdsText(t),
    node,
  );
}

export function insertPoint(db: DatabaseSync, p: SeriesPoint, node: number): void {
  statement(db, 'INSERT INTO series (ts, metric, kind, labels, value, count, node) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    p.timestamp,
    p.metric,
    p.kind,
    safeJson(p.labels),
    p.value,
    p.count ?? null,
    node,
  );
}

export function queryTraces(db: DatabaseSync, nodes: Nodes, q: ResolvedTraceQuery): Page<TraceSummary> {
  const where: string[] = [];
  const args: SQLInputValue[] = [];
  if (!nodes.filter(q.node, where, args)) return { items: [], total: 0 };
  timeRange(where, args, q.from, q.to);
  if (q.type !== undefined) {
    where.push('type = ?');
    args.push(q.type);
  }
  if (q.queueId !== undefined) {
    // The span's first queue id, or any of its messages'.
    where.push('(queue_id = ? OR instr(queue_ids, ?) > 0)');
    args.push(q.queueId, `\n${q.queueId}\n`);
  }
  for (const term of q.terms) {
    where.push('instr(keywords, ?) > 0');
    args.push(term);
  }
  const matching = `SELECT count(*) AS n FROM traces${clause(where)}`;
  const total = Number((db.prepare(matching).get(...args) as { n: number | bigint } | undefined)?.n ?? 0);
  if (q.after !== undefined) {
    where.push('(ts < ? OR (ts = ? AND seq < ?))');
    args.push(q.after.timestamp, q.after.timestamp, q.after.seq);
  }
  const columns = 'seq, id, type, ts, queue_id, sender, recipients, size, truncated, keywords, messages, node';
  const sql = `SELECT ${columns} FROM traces${clause(where)} ORDER BY ts DESC, seq DESC LIMIT ?`;
  const rows = db.prepare(sql).all(...args, q.limit + 1) as unknown as TraceRow[];
  const page = rows.slice(0, q.limit);
  const items = page.map((row) => {
    const { events: _events, keywords: _keywords, ...summary } = traceFromRow(row.id, row, nodes.name(row.node));
    return summary;
  });
  const last = page.at(-1);
  return rows.length > q.limit && last !== undefined
    ? { items, cursor: encodeTraceCursor({ timestamp: last.ts, seq: last.seq }), total }
    : { items, total };
}

export function readTrace(db: DatabaseSync, nodes: Nodes, id: string): Trace | undefined {
  const row = statement(db, 'SELECT * FROM traces WHERE id = ?').get(id) as unknown as TraceRow | undefined;
  return row === undefined ? undefined : traceFromRow(row.id, row, nodes.name(row.node));
}

export function querySeries(db: DatabaseSync, nodes: Nodes, query: SeriesQuery): readonly SeriesPoint[] {
  const where: string[] = [];
  const args: SQLInputValue[] = [];
  if (!nodes.filter(query.node, where, args)) return [];
  if (query.metrics !== undefined) {
    if (query.metrics.length === 0) return [];
    where.push(`metric IN (${query.metrics.map(() => '?').join(', ')})`);
    args.push(...query.metrics);
  }
  timeRange(where, args, query.from ?? Number.NEGATIVE_INFINITY, query.to ?? Number.POSITIVE_INFINITY);
  const sql = `SELECT * FROM series${clause(where)} ORDER BY ts, rowid`;
  return (db.prepare(sql).all(...args) as unknown as (StoredPointRow & { node: number | null })[]).map((row) =>
    pointFromRow(row, nodes.name(row.node)),
  );
}

/** Retention of traces and series, by age and by count. */
export function purgeRecords(
  db: DatabaseSync,
  traces: { readonly cut: number; readonly capacity: number },
  series: { readonly cut: number; readonly capacity: number },
): void {
  statement(db, 'DELETE FROM traces WHERE ts < ?').run(traces.cut);
  statement(db, 'DELETE FROM traces WHERE seq <= (SELECT seq FROM traces ORDER BY seq DESC LIMIT 1 OFFSET ?)').run(
    traces.capacity,
  );
  statement(db, 'DELETE FROM series WHERE ts < ?').run(series.cut);
  statement(db, 'DELETE FROM series WHERE rowid <= (SELECT rowid FROM series ORDER BY rowid DESC LIMIT 1 OFFSET ?)').run(
    series.capacity,
  );
}

function clause(where: readonly string[]): string {
  return where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
}

/** Every queue id of a trace, one per line between newlines, for an exact `instr` match. */
function queueIdsText(trace: Trace): string {
  const ids = traceQueueIds(trace);
  return ids.length === 0 ? '' : `\n${ids.join('\n')}\n`;
}

/** Adds the `ts` bounds of a query that has them (infinite bounds mean none). */
function timeRange(where: string[], args: SQLInputValue[], from: number, to: number): void {
  if (from !== Number.NEGATIVE_INFINITY) {
    where.push('ts >= ?');
    args.push(from);
  }
  if (to !== Number.POSITIVE_INFINITY) {
    where.push('ts <= ?');
    args.push(to);
  }
}
