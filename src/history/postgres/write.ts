import type { QueryResult, QueryResultRow } from 'pg';
import type { EventRow, PointRow, TraceRow } from './rows.js';

/** What the queries need of a pool or a client. */
export interface Queryable {
  query<R extends QueryResultRow>(sql: string, args?: unknown[]): Promise<QueryResult<R>>;
}

/** A record waiting to be written: the rows of an append, in order. */
export type PendingRow =
  | { readonly kind: 'event'; readonly row: EventRow }
  | { readonly kind: 'trace'; readonly row: TraceRow }
  | { readonly kind: 'point'; readonly row: PointRow };

/**
 * Rows per INSERT statement: PostgreSQL takes at most 65,535 parameters in one, and events have
 * eleven each.
 */
const ROWS_PER_STATEMENT = 2000;

/** Writes rows in multi-row INSERTs, in the caller's transaction. */
export async function insertRows(db: Queryable, schema: string, node: string, rows: readonly PendingRow[]): Promise<void> {
  const events: EventRow[] = [];
  // A span stored twice in one statement would be updated twice, which PostgreSQL refuses: the last wins.
  const traces = new Map<string, TraceRow>();
  const points: PointRow[] = [];
  for (const r of rows) {
    if (r.kind === 'event') events.push(r.row);
    else if (r.kind === 'trace') {
      traces.delete(r.row.span);
      traces.set(r.row.span, r.row);
    } else points.push(r.row);
  }
  for (let i = 0; i < events.length; i += ROWS_PER_STATEMENT) {
    const part = events.slice(i, i + ROWS_PER_STATEMENT);
    await insert(
      db,
      `${schema}.events (node, id, ts, type, level, span, data, search, keys, lkeys)`,
      ['text', 'bigint', 'float8', 'text', 'int2', 'text', 'text', 'text', 'text[]', 'text[]'],
      part.map((e) => [node, e.id, e.ts, e.type, e.level, e.span, e.data, e.search, e.keys, e.lkeys]),
      // A retried batch whose first attempt was committed after all adds nothing twice.
      'ON CONFLICT (node, id) DO NOTHING',
    );
  }
  const traceRows = [...traces.values()];
  for (let i = 0; i < traceRows.length; i += ROWS_PER_STATEMENT) {
    const part = traceRows.slice(i, i + ROWS_PER_STATEMENT);
    await insert(
      db,
      `${schema}.traces (node, span, type, ts, queue_id, sender, recipients, size, truncated, keywords, messages, queue_ids, events)`,
      ['text', 'text', 'text', 'float8', 'text', 'text', 'text', 'float8', 'int4', 'text', 'text', 'text[]', 'text'],
      part.map((t) => [
        node,
        t.span,
        t.type,
        t.ts,
        t.queueId,
        t.sender,
        t.recipients,
        t.size,
        t.truncated,
        t.keywords,
        t.messages,
        t.queueIds,
        t.events,
      ]),
      // A span stored again replaces the earlier trace and takes a new place in the order, as in memory.
      `ON CONFLICT (node, span) DO UPDATE SET seq = EXCLUDED.seq, type = EXCLUDED.type, ts = EXCLUDED.ts,
       queue_id = EXCLUDED.queue_id, sender = EXCLUDED.sender, recipients = EXCLUDED.recipients, size = EXCLUDED.size,
       truncated = EXCLUDED.truncated, keywords = EXCLUDED.keywords, messages = EXCLUDED.messages,
       queue_ids = EXCLUDED.queue_ids, events = EXCLUDED.events`,
    );
  }
  for (let i = 0; i < points.length; i += ROWS_PER_STATEMENT) {
    const part = points.slice(i, i + ROWS_PER_STATEMENT);
    await insert(
      db,
      `${schema}.series (node, pid, ts, metric, kind, labels, value, count)`,
      ['text', 'int8', 'float8', 'text', 'text', 'text', 'float8', 'float8'],
      part.map((p) => [node, p.pid, p.ts, p.metric, p.kind, p.labels, p.value, p.count]),
      // Points too: a retried batch whose first attempt was committed adds none twice.
      'ON CONFLICT (node, pid) DO NOTHING',
    );
  }
}

async function insert(
  db: Queryable,
  target: string,
  types: readonly string[],
  rows: unknown[][],
  conflict: string,
): Promise<void> {
  if (rows.length === 0) return;
  const args: unknown[] = [];
  const values = rows.map((row) => `(${row.map((value, i) => `$${args.push(value)}::${types[i]}`).join(', ')})`);
  await db.query(`INSERT INTO ${target} VALUES ${values.join(', ')} ${conflict}`, args);
}

/**
 * True when an error says the rows themselves are at fault (SQLSTATE class 22, data exception; 23,
 * integrity; 54, a limit such as an index entry too large), so that writing them again cannot help.
 * Anything else (a connection refused or cut, a server shutting down, a timeout) is the database's
 * state, and the rows are held and written again.
 */
export function isRowError(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

/** True when the error says the store's tables are missing (dropped, or a database restored without them). */
export function isMissingTable(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === '42P01' || code === '3F000';
}
