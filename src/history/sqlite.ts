import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { describeError } from '../base/errors.js';
import { JSON_LIMITS, safeJson } from '../base/json.js';
import { severity } from '../base/levels.js';
import type { SpanId } from '../catalog/keys.js';
import { eventJson, listJson, storableEvent } from './json.js';
import { nodeOption } from './node.js';
import { DEFAULT_INDEX_KEYS } from './options.js';
import {
  encodeEventCursor,
  encodeTraceCursor,
  type KeyCondition,
  keyValue,
  matchesKey,
  matchesText,
  ownValue,
  type ResolvedEventQuery,
  type ResolvedTraceQuery,
  valueText,
} from './query.js';
import {
  eventFromRow,
  pointFromRow,
  type StoredEventRow,
  type StoredPointRow,
  type StoredTraceRow,
  traceFromRow,
  traceQueueIds,
} from './rows.js';
import type { SeriesPoint, SeriesQuery } from './series.js';
import type { AppendResult, HistoryRecords, HistoryStore, RetentionPolicy } from './store.js';
import type { HistoryEvent, Page, Trace, TraceSummary } from './types.js';

/** Options of {@link SqliteHistoryStore}. */
export interface SqliteHistoryStoreOptions {
  /** The database file, created if missing; `':memory:'` for a throwaway database. */
  readonly path: string;
  /**
   * Keys indexed for exact and substring queries; other keys are matched by reading candidate rows.
   * @default ['queueId', 'remoteIp', 'from', 'to', 'accountName', 'domain', 'hostname', 'messageId']
   */
  readonly indexKeys?: readonly string[];
  /**
   * The node name written with every record (as a number of the file's `nodes` table), given back
   * in query results and matched by a query's `node`. A file outlives its process: give a stable
   * name to read one process's records after a restart under the same name.
   * @default `${os.hostname()}:${process.pid}`
   */
  readonly node?: string;
}

const SCHEMA = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -65536;
PRAGMA temp_store = MEMORY;
PRAGMA wal_autocheckpoint = 8192;
CREATE TABLE IF NOT EXISTS nodes (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, ts REAL NOT NULL, type TEXT NOT NULL, level INTEGER NOT NULL, span TEXT, data TEXT NOT NULL,
  node INTEGER);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE INDEX IF NOT EXISTS events_type ON events (type, id);
CREATE INDEX IF NOT EXISTS events_span ON events (span, id) WHERE span IS NOT NULL;
CREATE TABLE IF NOT EXISTS event_keys (
  key TEXT NOT NULL, value TEXT NOT NULL, event INTEGER NOT NULL, PRIMARY KEY (key, value, event)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS event_keys_event ON event_keys (event);
CREATE TABLE IF NOT EXISTS traces (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, ts REAL NOT NULL,
  queue_id TEXT, sender TEXT, recipients TEXT NOT NULL, size REAL, truncated INTEGER NOT NULL,
  keywords TEXT NOT NULL, events TEXT NOT NULL, messages TEXT, queue_ids TEXT NOT NULL DEFAULT '', node INTEGER);
CREATE INDEX IF NOT EXISTS traces_ts ON traces (ts, seq);
CREATE INDEX IF NOT EXISTS traces_type ON traces (type, ts);
CREATE INDEX IF NOT EXISTS traces_queue ON traces (queue_id) WHERE queue_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS series (
  ts REAL NOT NULL, metric TEXT NOT NULL, kind TEXT NOT NULL, labels TEXT NOT NULL, value REAL NOT NULL, count REAL,
  node INTEGER);
CREATE INDEX IF NOT EXISTS series_metric ON series (metric, ts);
CREATE INDEX IF NOT EXISTS series_ts ON series (ts);
`;

interface EventRow extends StoredEventRow {
  readonly id: number;
  readonly node: number | null;
}

interface TraceRow extends StoredTraceRow {
  readonly seq: number;
  readonly id: string;
  readonly node: number | null;
}

/**
 * A persistent history store on Node's built-in `node:sqlite` (Node ≥ 22.13, or 22.5 with
 * `--experimental-sqlite`). One file holds events, span traces and metric series, indexed for the
 * history's queries; `purge` applies retention. Writes are synchronous, one transaction per batch,
 * its events in multi-row inserts through statements prepared once per store.
 * Data round-trips through JSON: dates come back as ISO strings, byte arrays as base64.
 *
 * Durability: the file is in WAL mode with `synchronous = NORMAL`. A committed append survives a
 * crash of the process; a crash of the machine (power loss, kernel panic) may lose the last
 * transactions committed before it, never the file's consistency. The WAL grows to about 32 MiB
 * (8192 pages) before it is copied back into the database file.
 */
export class SqliteHistoryStore implements HistoryStore {
  /** The node name written with this store's records. */
  readonly node: string;
  readonly #db: DatabaseSync;
  /** This store's node, as the number its rows carry. */
  readonly #nodeId: number;
  /** Node numbers of the file, with their names. */
  readonly #nodeNames = new Map<number, string>();
  readonly #indexKeys: ReadonlySet<string>;
  /** Multi-row inserts of `2 ** i` rows at index `i`, prepared on first use and kept. */
  readonly #insertEvents: StatementSync[] = [];
  readonly #insertKeys: StatementSync[] = [];
  readonly #insertTrace: StatementSync;
  readonly #insertPoint: StatementSync;
  readonly #getTrace: StatementSync;
  #open = true;
  #rejected = 0;

  constructor(options: SqliteHistoryStoreOptions | string) {
    const o = typeof options === 'string' ? { path: options } : options;
    if (typeof o.path !== 'string' || o.path === '') throw new TypeError('SqliteHistoryStore: expected a database path');
    this.#indexKeys = new Set(o.indexKeys ?? DEFAULT_INDEX_KEYS);
    this.node = nodeOption(o.node, 'SqliteHistoryStore(options).node');
    this.#db = new DatabaseSync(o.path);
    this.#db.exec(SCHEMA);
    migrate(this.#db);
    this.#db.prepare('INSERT OR IGNORE INTO nodes (name) VALUES (?)').run(this.node);
    this.#nodeId = this.#nodeNumber(this.node) as number;
    this.#insertTrace = this.#db.prepare(
      `INSERT OR REPLACE INTO traces (id, type, ts, queue_id, sender, recipients, size, truncated, keywords, events, messages, queue_ids, node)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#insertPoint = this.#db.prepare(
      'INSERT INTO series (ts, metric, kind, labels, value, count, node) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#getTrace = this.#db.prepare('SELECT * FROM traces WHERE id = ?');
  }

  /** Events refused since the store was opened (unreadable, or rejected by the database). */
  get rejected(): number {
    return this.#rejected;
  }

  /**
   * One transaction per append. Events go in as multi-row inserts of up to 64 rows (each
   * chunk under a savepoint), their index keys likewise. Event data is written with `dataJson` (an
   * event record's shared copy, so nothing is serialised twice), so values JSON cannot hold become
   * markers. An event that cannot be read costs itself alone; a chunk the database refuses is
   * rolled back and written again one event at a time, so a refused event too costs itself alone.
   * Either is counted in the result, never its batch. Traces and series are written as before: a
   * failure there fails (and rolls back) the whole append.
   */
  append(records: HistoryRecords): AppendResult | undefined {
    const refused: Refused = { rejected: 0, reason: undefined };
    this.#transaction(() => {
      const events = records.events;
      if (events !== undefined) this.#appendEvents(events, refused);
      for (const t of records.traces ?? []) {
        this.#insertTrace.run(
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
          this.#nodeId,
        );
      }
      for (const p of records.series ?? [])
        this.#insertPoint.run(p.timestamp, p.metric, p.kind, safeJson(p.labels), p.value, p.count ?? null, this.#nodeId);
    });
    const { rejected, reason } = refused;
    if (rejected === 0) return undefined;
    this.#rejected += rejected;
    return { rejected, reason: reason as string };
  }

  events(q: ResolvedEventQuery): Page<HistoryEvent> {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (!this.#nodeFilter(q.node, where, args)) return { items: [] };
    if (q.before !== undefined) {
      where.push('id < ?');
      args.push(q.before);
    }
    timeRange(where, args, q.from, q.to);
    if (q.minLevel > 0) {
      where.push('level >= ?');
      args.push(q.minLevel);
    }
    if (q.types !== undefined) {
      // Patterns hold only [a-z0-9.*-], so they are GLOB patterns as they stand.
      where.push(`(${q.types.map(() => 'type GLOB ?').join(' OR ')})`);
      args.push(...q.types);
    }
    if (q.spanId !== undefined) {
      where.push('span = ?');
      args.push(q.spanId);
    }
    const later: KeyCondition[] = [];
    for (const c of q.keys) {
      if (!this.#indexKeys.has(c.key)) {
        later.push(c);
        continue;
      }
      if (c.exact !== undefined) {
        where.push('id IN (SELECT event FROM event_keys WHERE key = ? AND value = ?)');
        args.push(c.key, c.exact);
      } else {
        where.push('id IN (SELECT event FROM event_keys WHERE key = ? AND instr(lower(value), ?) > 0)');
        args.push(c.key, c.contains ?? '');
      }
    }
    if (q.text !== undefined) {
      // A coarse filter on the JSON text; the exact check runs on the parsed data below.
      where.push('instr(lower(data), ?) > 0');
      args.push(q.text);
    }
    const sql = `SELECT * FROM events${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ? OFFSET ?`;
    const statement = this.#db.prepare(sql);
    const refine = later.length > 0 || q.text !== undefined;
    const chunk = refine ? Math.max(256, q.limit * 4) : q.limit + 1;
    const items: HistoryEvent[] = [];
    for (let offset = 0; ; offset += chunk) {
      const rows = statement.all(...args, chunk, offset) as unknown as EventRow[];
      for (const row of rows) {
        const event = eventFromRow(row, this.#nodeName(row.node));
        if (refine && !later.every((c) => matchesKey(ownValue(event.data, c.key), c))) continue;
        if (q.text !== undefined && !matchesText(event.data, q.text)) continue;
        if (items.length === q.limit) return { items, cursor: encodeEventCursor((items.at(-1) as HistoryEvent).id) };
        items.push(event);
      }
      if (rows.length < chunk) return { items };
    }
  }

  traces(q: ResolvedTraceQuery): Page<TraceSummary> {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (!this.#nodeFilter(q.node, where, args)) return { items: [], total: 0 };
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
    const matching = `SELECT count(*) AS n FROM traces${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
    const total = Number((this.#db.prepare(matching).get(...args) as { n: number | bigint } | undefined)?.n ?? 0);
    if (q.after !== undefined) {
      where.push('(ts < ? OR (ts = ? AND seq < ?))');
      args.push(q.after.timestamp, q.after.timestamp, q.after.seq);
    }
    const columns = 'seq, id, type, ts, queue_id, sender, recipients, size, truncated, keywords, messages, node';
    const sql = `SELECT ${columns} FROM traces${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ts DESC, seq DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...args, q.limit + 1) as unknown as TraceRow[];
    const page = rows.slice(0, q.limit);
    const items = page.map((row) => {
      const { events: _events, keywords: _keywords, ...summary } = traceFromRow(row.id, row, this.#nodeName(row.node));
      return summary;
    });
    const last = page.at(-1);
    return rows.length > q.limit && last !== undefined
      ? { items, cursor: encodeTraceCursor({ timestamp: last.ts, seq: last.seq }), total }
      : { items, total };
  }

  trace(id: SpanId): Trace | undefined {
    const row = this.#getTrace.get(String(id)) as unknown as TraceRow | undefined;
    return row === undefined ? undefined : traceFromRow(row.id, row, this.#nodeName(row.node));
  }

  series(query: SeriesQuery): readonly SeriesPoint[] {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (!this.#nodeFilter(query.node, where, args)) return [];
    if (query.metrics !== undefined) {
      if (query.metrics.length === 0) return [];
      where.push(`metric IN (${query.metrics.map(() => '?').join(', ')})`);
      args.push(...query.metrics);
    }
    timeRange(where, args, query.from ?? Number.NEGATIVE_INFINITY, query.to ?? Number.POSITIVE_INFINITY);
    const sql = `SELECT * FROM series${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ts, rowid`;
    return (this.#db.prepare(sql).all(...args) as unknown as (StoredPointRow & { node: number | null })[]).map((row) =>
      pointFromRow(row, this.#nodeName(row.node)),
    );
  }

  purge(retention: RetentionPolicy, now: number): void {
    this.#transaction(() => {
      const db = this.#db;
      const cut = db.prepare('SELECT max(id) AS id FROM events WHERE ts < ?').get(now - retention.events.maxAge) as {
        id: number | null;
      };
      const over = db.prepare('SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?').get(retention.events.capacity) as
        | { id: number }
        | undefined;
      const bound = Math.max(cut.id ?? Number.NEGATIVE_INFINITY, over?.id ?? Number.NEGATIVE_INFINITY);
      if (bound !== Number.NEGATIVE_INFINITY) {
        db.prepare('DELETE FROM events WHERE id <= ?').run(bound);
        db.prepare('DELETE FROM event_keys WHERE event <= ?').run(bound);
      }
      db.prepare('DELETE FROM traces WHERE ts < ?').run(now - retention.traces.maxAge);
      db.prepare('DELETE FROM traces WHERE seq <= (SELECT seq FROM traces ORDER BY seq DESC LIMIT 1 OFFSET ?)').run(
        retention.traces.capacity,
      );
      db.prepare('DELETE FROM series WHERE ts < ?').run(now - retention.series.maxAge);
      db.prepare('DELETE FROM series WHERE rowid <= (SELECT rowid FROM series ORDER BY rowid DESC LIMIT 1 OFFSET ?)').run(
        retention.series.capacity,
      );
    });
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#db.close();
  }

  /**
   * Reads every event into flat parameter lists (7 values per event row, 3 per index row), then
   * writes them chunk by chunk.
   */
  #appendEvents(events: readonly HistoryEvent[], refused: Refused): void {
    const rows: SQLInputValue[] = [];
    const keys: SQLInputValue[] = [];
    /** Where each read event's index rows end in `keys`. */
    const keyEnds: number[] = [];
    const spans: SpanText = { id: undefined, text: null };
    for (const event of events) {
      const rowsLength = rows.length;
      const keysLength = keys.length;
      try {
        this.#readEvent(event, rows, keys, spans);
        keyEnds.push(keys.length);
      } catch (error) {
        rows.length = rowsLength;
        keys.length = keysLength;
        refused.rejected++;
        refused.reason ??= describeError(error);
      }
    }
    const count = keyEnds.length;
    for (let start = 0; start < count; start += ROWS) {
      const end = Math.min(count, start + ROWS);
      const keysFrom = start === 0 ? 0 : (keyEnds[start - 1] as number);
      const keysTo = keyEnds[end - 1] as number;
      this.#db.exec('SAVEPOINT chunk');
      try {
        this.#insertRows(this.#insertEvents, EVENT_SQL, EVENT_WIDTH, rows, start * EVENT_WIDTH, end * EVENT_WIDTH);
        this.#insertRows(this.#insertKeys, KEY_SQL, 3, keys, keysFrom, keysTo);
        this.#db.exec('RELEASE chunk');
        continue;
      } catch {
        this.#db.exec('ROLLBACK TO chunk');
        this.#db.exec('RELEASE chunk');
      }
      // One event at a time, so that the one the database refuses costs itself alone.
      for (let i = start; i < end; i++) {
        this.#db.exec('SAVEPOINT one');
        try {
          this.#insertRows(this.#insertEvents, EVENT_SQL, EVENT_WIDTH, rows, i * EVENT_WIDTH, (i + 1) * EVENT_WIDTH);
          this.#insertRows(this.#insertKeys, KEY_SQL, 3, keys, i === 0 ? 0 : (keyEnds[i - 1] as number), keyEnds[i] as number);
          this.#db.exec('RELEASE one');
        } catch (error) {
          this.#db.exec('ROLLBACK TO one');
          this.#db.exec('RELEASE one');
          refused.rejected++;
          refused.reason ??= describeError(error);
        }
      }
    }
  }

  /**
   * Reads one whole event and appends its row to `rows` and its index rows to `keys`; throws,
   * having appended part of them, when it cannot be read (the caller cuts the lists back).
   */
  #readEvent(event: HistoryEvent, rows: SQLInputValue[], keys: SQLInputValue[], spans: SpanText): void {
    const { id, timestamp, type, level, spanId } = event;
    const { source, json } = storableEvent(event);
    for (const key of this.#indexKeys) {
      const value = keyValue(source, key);
      if (value === undefined) continue;
      if (!Array.isArray(value)) {
        const text = valueText(value);
        if (text !== undefined) keys.push(key, text, id);
        continue;
      }
      const length = Math.min(value.length, JSON_LIMITS.maxMembers);
      for (let i = 0; i < length; i++) {
        const text = valueText(ownValue(value, String(i)));
        if (text !== undefined) keys.push(key, text, id);
      }
    }
    // The events of one span come in runs: its id is written as text once per run.
    if (spanId !== spans.id) {
      spans.id = spanId;
      spans.text = spanId === undefined ? null : String(spanId);
    }
    rows.push(id as number, timestamp, type, severity(level), spans.text, json, this.#nodeId);
  }

  /**
   * Inserts the rows whose parameters are `values[from..to)`, `width` per row, in multi-row
   * statements of the largest power of two of rows up to `ROWS` (64) that fits what is left.
   */
  #insertRows(
    statements: StatementSync[],
    sql: (rows: number) => string,
    width: number,
    values: readonly SQLInputValue[],
    from: number,
    to: number,
  ): void {
    let at = from;
    while (at < to) {
      const left = (to - at) / width;
      const power = left >= ROWS ? ROWS_LOG2 : 31 - Math.clz32(left);
      let statement = statements[power];
      if (statement === undefined) {
        statement = this.#db.prepare(sql(2 ** power));
        statements[power] = statement;
      }
      const next = at + width * 2 ** power;
      statement.run(...values.slice(at, next));
      at = next;
    }
  }

  /** Adds a query's node filter; false when no record can match (a node this file never saw). */
  #nodeFilter(node: string | undefined, where: string[], args: SQLInputValue[]): boolean {
    if (node === undefined) return true;
    const id = this.#nodeNumber(node);
    if (id === undefined) return false;
    where.push('node = ?');
    args.push(id);
    return true;
  }

  /** The number of node `name` in this file, if it has one. */
  #nodeNumber(name: string): number | undefined {
    const row = this.#db.prepare('SELECT id FROM nodes WHERE name = ?').get(name) as { id: number } | undefined;
    return row?.id;
  }

  /** The name of node number `id` (another process may have added it since this one looked). */
  #nodeName(id: number | null | undefined): string | undefined {
    if (id === null || id === undefined) return undefined;
    let name = this.#nodeNames.get(id);
    if (name === undefined) {
      const row = this.#db.prepare('SELECT name FROM nodes WHERE id = ?').get(id) as { name: string } | undefined;
      name = row?.name;
      if (name !== undefined) this.#nodeNames.set(id, name);
    }
    return name;
  }

  #transaction(work: () => void): void {
    this.#db.exec('BEGIN');
    try {
      work();
      this.#db.exec('COMMIT');
    } catch (error) {
      // Some errors (a full disk, I/O) end the transaction themselves: the error to report is the first.
      try {
        this.#db.exec('ROLLBACK');
      } catch {
        // nothing left to roll back
      }
      throw error;
    }
  }
}

/** Events refused by one append, and why the first was. */
interface Refused {
  rejected: number;
  reason: string | undefined;
}

/** The last span id seen in a batch and its text. */
interface SpanText {
  id: SpanId | undefined;
  text: string | null;
}

/** Most rows in one INSERT (64 events × 7 values stays far under SQLite's 32,766 parameters). */
const ROWS = 64;
const ROWS_LOG2 = 6;

/** Values per event row. */
const EVENT_WIDTH = 7;
const EVENT_SQL = (rows: number) =>
  `INSERT OR REPLACE INTO events (id, ts, type, level, span, data, node) VALUES ${values(rows, '(?, ?, ?, ?, ?, ?, ?)')}`;
const KEY_SQL = (rows: number) => `INSERT OR IGNORE INTO event_keys (key, value, event) VALUES ${values(rows, '(?, ?, ?)')}`;

function values(rows: number, row: string): string {
  return new Array<string>(rows).fill(row).join(', ');
}

/** Adds the columns of later versions to a file written by an earlier one. */
function migrate(db: DatabaseSync): void {
  const columns = (table: string) =>
    new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
  const traces = columns('traces');
  if (!traces.has('messages')) db.exec('ALTER TABLE traces ADD COLUMN messages TEXT');
  if (!traces.has('queue_ids')) db.exec("ALTER TABLE traces ADD COLUMN queue_ids TEXT NOT NULL DEFAULT ''");
  if (!traces.has('node')) db.exec('ALTER TABLE traces ADD COLUMN node INTEGER');
  if (!columns('events').has('node')) db.exec('ALTER TABLE events ADD COLUMN node INTEGER');
  if (!columns('series').has('node')) db.exec('ALTER TABLE series ADD COLUMN node INTEGER');
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
