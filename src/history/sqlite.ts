import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { describeError } from '../base/errors.js';
import { dataJson, JSON_LIMITS, safeJson } from '../base/json.js';
import { isLevel, LEVELS, type Level, severity } from '../base/levels.js';
import type { SpanId } from '../catalog/keys.js';
import { EventRecord } from '../core/event.js';
import { eventJson, listJson } from './json.js';
import { DEFAULT_INDEX_KEYS } from './options.js';
import {
  encodeEventCursor,
  encodeTraceCursor,
  type KeyCondition,
  keySource,
  keyValue,
  matchesKey,
  matchesText,
  ownValue,
  type ResolvedEventQuery,
  type ResolvedTraceQuery,
  valueText,
} from './query.js';
import type { SeriesPoint, SeriesQuery } from './series.js';
import type { AppendResult, HistoryRecords, HistoryStore, RetentionPolicy } from './store.js';
import type { HistoryEvent, Page, Trace, TraceMessage, TraceSummary } from './types.js';

/** Options of {@link SqliteHistoryStore}. */
export interface SqliteHistoryStoreOptions {
  /** The database file, created if missing; `':memory:'` for a throwaway database. */
  readonly path: string;
  /**
   * Keys indexed for exact and substring queries; other keys are matched by reading candidate rows.
   * @default ['queueId', 'remoteIp', 'from', 'to', 'accountName', 'domain', 'hostname', 'messageId']
   */
  readonly indexKeys?: readonly string[];
}

const SCHEMA = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -65536;
PRAGMA temp_store = MEMORY;
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, ts REAL NOT NULL, type TEXT NOT NULL, level INTEGER NOT NULL, span TEXT, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE INDEX IF NOT EXISTS events_type ON events (type, id);
CREATE INDEX IF NOT EXISTS events_span ON events (span, id) WHERE span IS NOT NULL;
CREATE TABLE IF NOT EXISTS event_keys (
  key TEXT NOT NULL, value TEXT NOT NULL, event INTEGER NOT NULL, PRIMARY KEY (key, value, event)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS event_keys_event ON event_keys (event);
CREATE TABLE IF NOT EXISTS traces (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, ts REAL NOT NULL,
  queue_id TEXT, sender TEXT, recipients TEXT NOT NULL, size REAL, truncated INTEGER NOT NULL,
  keywords TEXT NOT NULL, events TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS traces_ts ON traces (ts, seq);
CREATE INDEX IF NOT EXISTS traces_type ON traces (type, ts);
CREATE INDEX IF NOT EXISTS traces_queue ON traces (queue_id) WHERE queue_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS series (
  ts REAL NOT NULL, metric TEXT NOT NULL, kind TEXT NOT NULL, labels TEXT NOT NULL, value REAL NOT NULL, count REAL);
CREATE INDEX IF NOT EXISTS series_metric ON series (metric, ts);
CREATE INDEX IF NOT EXISTS series_ts ON series (ts);
`;

interface EventRow {
  id: number;
  ts: number;
  type: string;
  level: number;
  span: string | null;
  data: string;
}

interface TraceRow {
  seq: number;
  id: string;
  type: string;
  ts: number;
  queue_id: string | null;
  sender: string | null;
  recipients: string;
  size: number | null;
  truncated: number;
  keywords: string;
  /** The trace's messages as JSON; null in files written before messages were kept. */
  messages: string | null;
  events?: string;
}

/**
 * A persistent history store on Node's built-in `node:sqlite` (Node ≥ 22.13, or 22.5 with
 * `--experimental-sqlite`). One file holds events, span traces and metric series, indexed for the
 * history's queries; `purge` applies retention. Writes are synchronous, one transaction per batch.
 * Data round-trips through JSON: dates come back as ISO strings, byte arrays as base64.
 */
export class SqliteHistoryStore implements HistoryStore {
  readonly #db: DatabaseSync;
  readonly #indexKeys: ReadonlySet<string>;
  readonly #insertEvent: StatementSync;
  readonly #insertKey: StatementSync;
  readonly #insertTrace: StatementSync;
  readonly #insertPoint: StatementSync;
  readonly #getTrace: StatementSync;
  readonly #deleteEvent: StatementSync;
  readonly #deleteKeys: StatementSync;
  #open = true;
  #rejected = 0;

  constructor(options: SqliteHistoryStoreOptions | string) {
    const o = typeof options === 'string' ? { path: options } : options;
    if (typeof o.path !== 'string' || o.path === '') throw new TypeError('SqliteHistoryStore: expected a database path');
    this.#indexKeys = new Set(o.indexKeys ?? DEFAULT_INDEX_KEYS);
    this.#db = new DatabaseSync(o.path);
    this.#db.exec(SCHEMA);
    migrate(this.#db);
    this.#insertEvent = this.#db.prepare(
      'INSERT OR REPLACE INTO events (id, ts, type, level, span, data) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#insertKey = this.#db.prepare('INSERT OR IGNORE INTO event_keys (key, value, event) VALUES (?, ?, ?)');
    this.#insertTrace = this.#db.prepare(
      `INSERT OR REPLACE INTO traces (id, type, ts, queue_id, sender, recipients, size, truncated, keywords, events, messages, queue_ids)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#insertPoint = this.#db.prepare('INSERT INTO series (ts, metric, kind, labels, value, count) VALUES (?, ?, ?, ?, ?, ?)');
    this.#getTrace = this.#db.prepare('SELECT * FROM traces WHERE id = ?');
    this.#deleteEvent = this.#db.prepare('DELETE FROM events WHERE id = ?');
    this.#deleteKeys = this.#db.prepare('DELETE FROM event_keys WHERE event = ?');
  }

  /** Events refused since the store was opened (unreadable, or rejected by the database). */
  get rejected(): number {
    return this.#rejected;
  }

  /**
   * One transaction per append. Event data is written with `dataJson`, so values JSON cannot hold
   * become markers; an event that still cannot be written costs itself alone and is counted in the
   * result, never its batch.
   */
  append(records: HistoryRecords): AppendResult | undefined {
    let rejected = 0;
    let reason: string | undefined;
    this.#transaction(() => {
      for (const event of records.events ?? []) {
        try {
          this.#appendEvent(event);
        } catch (error) {
          rejected++;
          reason ??= describeError(error);
        }
      }
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
        );
      }
      for (const p of records.series ?? [])
        this.#insertPoint.run(p.timestamp, p.metric, p.kind, safeJson(p.labels), p.value, p.count ?? null);
    });
    if (rejected === 0) return undefined;
    this.#rejected += rejected;
    return { rejected, reason: reason as string };
  }

  events(q: ResolvedEventQuery): Page<HistoryEvent> {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
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
        const event = eventOf(row);
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
    if (q.after !== undefined) {
      where.push('(ts < ? OR (ts = ? AND seq < ?))');
      args.push(q.after.timestamp, q.after.timestamp, q.after.seq);
    }
    const columns = 'seq, id, type, ts, queue_id, sender, recipients, size, truncated, keywords, messages';
    const sql = `SELECT ${columns} FROM traces${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ts DESC, seq DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...args, q.limit + 1) as unknown as TraceRow[];
    const page = rows.slice(0, q.limit);
    const items = page.map((row) => {
      const { events: _events, keywords: _keywords, ...summary } = traceOf(row);
      return summary;
    });
    const last = page.at(-1);
    return rows.length > q.limit && last !== undefined
      ? { items, cursor: encodeTraceCursor({ timestamp: last.ts, seq: last.seq }) }
      : { items };
  }

  trace(id: SpanId): Trace | undefined {
    const row = this.#getTrace.get(String(id)) as unknown as TraceRow | undefined;
    return row === undefined ? undefined : traceOf(row);
  }

  series(query: SeriesQuery): readonly SeriesPoint[] {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (query.metrics !== undefined) {
      if (query.metrics.length === 0) return [];
      where.push(`metric IN (${query.metrics.map(() => '?').join(', ')})`);
      args.push(...query.metrics);
    }
    timeRange(where, args, query.from ?? Number.NEGATIVE_INFINITY, query.to ?? Number.POSITIVE_INFINITY);
    const sql = `SELECT * FROM series${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ts, rowid`;
    const rows = this.#db.prepare(sql).all(...args) as unknown as {
      ts: number;
      metric: string;
      kind: SeriesPoint['kind'];
      labels: string;
      value: number;
      count: number | null;
    }[];
    return rows.map((r) => {
      const point = {
        metric: r.metric,
        kind: r.kind,
        labels: JSON.parse(r.labels) as Record<string, string>,
        timestamp: r.ts,
        value: r.value,
      };
      return r.count === null ? point : { ...point, count: r.count };
    });
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

  /** Reads the whole event, then writes it; a failed index row takes its event row back out. */
  #appendEvent(event: HistoryEvent): void {
    const { id, timestamp, type, level, spanId } = event;
    if (!Number.isSafeInteger(id)) throw new TypeError('expected an event id that is a safe integer');
    if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) throw new TypeError('expected a numeric timestamp');
    if (typeof type !== 'string' || !isLevel(level)) throw new TypeError('expected an event type and level');
    if (spanId !== undefined && typeof spanId !== 'number' && typeof spanId !== 'string')
      throw new TypeError('expected a span id that is a number or a string');
    // A record's JSON is the one the tracers, webhooks and live streams write (made once, shared).
    const source = keySource(event);
    const json =
      source instanceof EventRecord ? source.dataJson : typeof source === 'object' && source !== null ? dataJson(source) : '{}';
    const rows: [string, string][] = [];
    for (const key of this.#indexKeys) {
      const value = keyValue(source, key);
      if (value === undefined) continue;
      if (!Array.isArray(value)) {
        const text = valueText(value);
        if (text !== undefined) rows.push([key, text]);
        continue;
      }
      const length = Math.min(value.length, JSON_LIMITS.maxMembers);
      for (let i = 0; i < length; i++) {
        const text = valueText(ownValue(value, String(i)));
        if (text !== undefined) rows.push([key, text]);
      }
    }
    this.#insertEvent.run(id, timestamp, type, severity(level), spanId === undefined ? null : String(spanId), json);
    try {
      for (const [key, text] of rows) this.#insertKey.run(key, text, id);
    } catch (error) {
      this.#deleteEvent.run(id);
      this.#deleteKeys.run(id);
      throw error;
    }
  }

  #transaction(work: () => void): void {
    this.#db.exec('BEGIN');
    try {
      work();
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }
}

function eventOf(row: EventRow): HistoryEvent {
  const event = {
    id: row.id,
    type: row.type,
    level: LEVELS[row.level] as Level,
    timestamp: row.ts,
    data: JSON.parse(row.data) as Record<string, unknown>,
  };
  return row.span === null ? event : { ...event, spanId: spanId(row.span) };
}

/** Adds the columns of later versions to a file written by an earlier one. */
function migrate(db: DatabaseSync): void {
  const columns = new Set((db.prepare('PRAGMA table_info(traces)').all() as { name: string }[]).map((c) => c.name));
  if (!columns.has('messages')) db.exec('ALTER TABLE traces ADD COLUMN messages TEXT');
  if (!columns.has('queue_ids')) db.exec("ALTER TABLE traces ADD COLUMN queue_ids TEXT NOT NULL DEFAULT ''");
}

/** Every queue id of a trace, one per line between newlines, for an exact `instr` match. */
function queueIdsText(trace: Trace): string {
  const ids = new Set<string>();
  if (trace.queueId !== undefined) ids.add(trace.queueId);
  for (const message of trace.messages ?? []) ids.add(message.queueId);
  return ids.size === 0 ? '' : `\n${[...ids].join('\n')}\n`;
}

function spanId(text: string): SpanId {
  const n = Number(text);
  return Number.isSafeInteger(n) && String(n) === text ? n : text;
}

function traceOf(row: TraceRow): Trace {
  return {
    id: spanId(row.id),
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
