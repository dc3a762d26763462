import {
  encodeEventCursor,
  encodeTraceCursor,
  type KeyCondition,
  matchesKey,
  matchesText,
  ownValue,
  type ResolvedEventQuery,
  type ResolvedTraceQuery,
} from '../query.js';
import { eventFromRow, pointFromRow, type StoredPointRow, traceFromRow } from '../rows.js';
import type { SeriesPoint, SeriesQuery } from '../series.js';
import type { HistoryEvent, Page, Trace, TraceSummary } from '../types.js';
import { textSafe } from './options.js';
import { indexEntry, indexInexact, type ReadEventRow, type ReadTraceRow } from './rows.js';
import type { Queryable } from './write.js';

/** Where conditions and their parameters, numbered as they are added. */
class Where {
  readonly parts: string[] = [];
  readonly args: unknown[] = [];

  /** Adds `sql`, where each `?` is the next of `values`. */
  add(sql: string, ...values: unknown[]): void {
    let i = 0;
    this.parts.push(sql.replace(/\?/g, () => `$${this.args.push(values[i++])}`));
  }

  /** Adds the `ts` bounds of a query that has them (infinite bounds mean none). */
  range(from: number, to: number): void {
    if (from !== Number.NEGATIVE_INFINITY) this.add('ts >= ?', from);
    if (to !== Number.POSITIVE_INFINITY) this.add('ts <= ?', to);
  }

  nodes(nodes: readonly string[] | undefined): void {
    if (nodes !== undefined) this.add('node = ANY(?::text[])', nodes);
  }

  /** One node, a query's own filter. */
  node(node: string | undefined): void {
    if (node !== undefined) this.add('node = ?', textSafe(node));
  }

  get sql(): string {
    return this.parts.length === 0 ? '' : ` WHERE ${this.parts.join(' AND ')}`;
  }
}

/** Characters JSON writes escaped: a needle holding one is not found in the JSON text as it is. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes
const JSON_ESCAPED = /["\\\u0000-\u001f\uD800-\uDFFF]/;

/** Chunk size of a query whose rows are checked after they are read. */
const REFINE_CHUNK = 512;

export async function readEvents(
  db: Queryable,
  schema: string,
  nodes: readonly string[] | undefined,
  indexKeys: ReadonlySet<string>,
  q: ResolvedEventQuery,
): Promise<Page<HistoryEvent>> {
  const where = new Where();
  where.nodes(nodes);
  where.node(q.node);
  where.range(q.from, q.to);
  if (q.minLevel > 0) where.add('level >= ?', q.minLevel);
  // Patterns hold only [a-z0-9.*-]: with `*` as `%`, they are LIKE patterns as they stand.
  if (q.types !== undefined)
    where.add(
      'type LIKE ANY(?::text[])',
      q.types.map((t) => t.replaceAll('*', '%')),
    );
  if (q.spanId !== undefined) where.add('span = ?', textSafe(q.spanId));
  const later: KeyCondition[] = [];
  for (const c of q.keys) {
    if (!indexKeys.has(c.key)) {
      later.push(c);
      continue;
    }
    if (c.exact !== undefined) {
      where.add('keys @> ARRAY[?::text]', indexEntry(c.key, c.exact));
      if (indexInexact(c.exact)) later.push(c);
    } else {
      where.add(
        'EXISTS (SELECT 1 FROM unnest(lkeys) AS k WHERE starts_with(k, ?) AND strpos(substr(k, ?), ?) > 0)',
        `${c.key}=`,
        c.key.length + 2,
        textSafe(c.contains ?? ''),
      );
    }
  }
  // A coarse filter on the lower-case JSON text; the exact check runs on the parsed data below.
  if (q.text !== undefined && !JSON_ESCAPED.test(q.text)) where.add('strpos(search, ?) > 0', q.text);
  const refine = later.length > 0 || q.text !== undefined;
  const chunk = refine ? Math.max(REFINE_CHUNK, q.limit * 4) : q.limit + 1;
  const items: HistoryEvent[] = [];
  let last: { id: number; seq: number } | undefined;
  let before: { id: number; seq: number | undefined } | undefined =
    q.before === undefined ? undefined : { id: q.before, seq: q.beforeSeq };
  for (;;) {
    const page = new Where();
    page.parts.push(...where.parts);
    page.args.push(...where.args);
    if (before !== undefined) {
      if (before.seq === undefined) page.add('id < ?', before.id);
      else page.add('(id, seq) < (?::bigint, ?::bigint)', before.id, before.seq);
    }
    const sql = `SELECT seq, node, id, ts, type, level, span, data FROM ${schema}.events${page.sql} ORDER BY id DESC, seq DESC LIMIT ${chunk}`;
    const rows = (await db.query<ReadEventRow>(sql, page.args)).rows;
    for (const row of rows) {
      const event = eventFromRow(row, row.node);
      if (refine) {
        if (!later.every((c) => matchesKey(ownValue(event.data, c.key), c))) continue;
        if (q.text !== undefined && !matchesText(event.data, q.text)) continue;
      }
      if (items.length === q.limit) return { items, cursor: encodeEventCursor((last as { id: number }).id, last?.seq) };
      items.push(event);
      last = { id: event.id, seq: Number(row.seq) };
    }
    const end = rows.at(-1);
    if (rows.length < chunk || end === undefined) return { items };
    before = { id: Number(end.id), seq: Number(end.seq) };
  }
}

const TRACE_COLUMNS = 'seq, node, span, type, ts, queue_id, sender, recipients, size, truncated, keywords, messages';

export async function readTraces(
  db: Queryable,
  schema: string,
  nodes: readonly string[] | undefined,
  q: ResolvedTraceQuery,
): Promise<Page<TraceSummary>> {
  const where = new Where();
  where.nodes(nodes);
  where.node(q.node);
  where.range(q.from, q.to);
  if (q.type !== undefined) where.add('type = ?', q.type);
  if (q.queueId !== undefined) where.add('queue_ids @> ARRAY[?::text]', indexEntry('', q.queueId).slice(1));
  for (const term of q.terms) where.add('strpos(keywords, ?) > 0', textSafe(term));
  const counted = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.traces${where.sql}`, where.args);
  const total = Number(counted.rows[0]?.n ?? 0);
  if (q.after !== undefined) where.add('(ts < ? OR (ts = ? AND seq < ?))', q.after.timestamp, q.after.timestamp, q.after.seq);
  const sql = `SELECT ${TRACE_COLUMNS} FROM ${schema}.traces${where.sql} ORDER BY ts DESC, seq DESC LIMIT ${q.limit + 1}`;
  const rows = (await db.query<ReadTraceRow>(sql, where.args)).rows;
  const page = rows.slice(0, q.limit);
  const items = page.map((row) => {
    const { events: _events, keywords: _keywords, ...summary } = traceFromRow(row.span, row, row.node);
    return summary;
  });
  const last = page.at(-1);
  return rows.length > q.limit && last !== undefined
    ? { items, cursor: encodeTraceCursor({ timestamp: last.ts, seq: Number(last.seq) }), total }
    : { items, total };
}

/** The trace of span `id`; of several nodes' spans with that id, the one stored last. */
export async function readTrace(
  db: Queryable,
  schema: string,
  nodes: readonly string[] | undefined,
  id: string,
): Promise<Trace | undefined> {
  const where = new Where();
  where.add('span = ?', textSafe(id));
  where.nodes(nodes);
  const sql = `SELECT ${TRACE_COLUMNS}, events FROM ${schema}.traces${where.sql} ORDER BY seq DESC LIMIT 1`;
  const row = (await db.query<ReadTraceRow>(sql, where.args)).rows[0];
  return row === undefined ? undefined : traceFromRow(row.span, row, row.node);
}

export async function readSeries(
  db: Queryable,
  schema: string,
  nodes: readonly string[] | undefined,
  query: SeriesQuery,
): Promise<readonly SeriesPoint[]> {
  const where = new Where();
  where.nodes(nodes);
  where.node(query.node);
  if (query.metrics !== undefined) {
    if (query.metrics.length === 0) return [];
    where.add('metric = ANY(?::text[])', query.metrics.map(textSafe));
  }
  where.range(query.from ?? Number.NEGATIVE_INFINITY, query.to ?? Number.POSITIVE_INFINITY);
  const sql = `SELECT node, ts, metric, kind, labels, value, count FROM ${schema}.series${where.sql} ORDER BY ts, seq`;
  return (await db.query<StoredPointRow & { node: string }>(sql, where.args)).rows.map((row) => pointFromRow(row, row.node));
}
