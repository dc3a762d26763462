import type { DatabaseSync } from 'node:sqlite';
import type { StoredEventRow } from '../rows.js';
import { hashValues, type IndexKeys, SPAN_SEED } from './batch.js';
import { addEvent, BLOCK_EVENTS, type EventColumns, emptyColumns, encodeBlock, valueHash } from './block.js';
import { insertBlock } from './write.js';

/** The schema version in `PRAGMA user_version`: 2 stores events in blocks; files without one kept a row per event. */
export const SCHEMA_VERSION = 2;

const PRAGMAS = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -65536;
PRAGMA temp_store = MEMORY;
PRAGMA wal_autocheckpoint = 8192;
PRAGMA mmap_size = 268435456;
`;

const TABLES = `
CREATE TABLE IF NOT EXISTS nodes (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS blocks (
  id INTEGER PRIMARY KEY AUTOINCREMENT, node INTEGER NOT NULL, first_id INTEGER NOT NULL, last_id INTEGER NOT NULL,
  ts_min REAL NOT NULL, ts_max REAL NOT NULL, count INTEGER NOT NULL, levels INTEGER NOT NULL, types TEXT NOT NULL,
  keyset TEXT NOT NULL, hashes BLOB NOT NULL, postings BLOB NOT NULL, meta BLOB NOT NULL, spans TEXT NOT NULL,
  data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS blocks_node ON blocks (node, last_id);
CREATE INDEX IF NOT EXISTS blocks_first ON blocks (first_id);
CREATE INDEX IF NOT EXISTS blocks_ts ON blocks (ts_min);
CREATE TABLE IF NOT EXISTS generation (value INTEGER NOT NULL);
INSERT INTO generation (value) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM generation);
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

/**
 * Opens a file at the current schema: creates what is missing, adds the columns of later versions
 * to a file written by an earlier one, and moves the events of a file that kept a row per event
 * into blocks (one transaction: a crash leaves the old file as it was).
 */
export function openSchema(db: DatabaseSync, keys: IndexKeys): void {
  db.exec(PRAGMAS);
  const version = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
  if (version > SCHEMA_VERSION)
    throw new Error(`SqliteHistoryStore: the file has schema version ${version}; this version reads up to ${SCHEMA_VERSION}`);
  if (version === SCHEMA_VERSION) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(TABLES);
    addColumns(db);
    if (tableExists(db, 'events')) migrateEvents(db, keys);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}

function tableExists(db: DatabaseSync, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** Adds the columns of later versions to the tables of a file written by an earlier one. */
function addColumns(db: DatabaseSync): void {
  const columns = (table: string) =>
    new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
  const traces = columns('traces');
  if (!traces.has('messages')) db.exec('ALTER TABLE traces ADD COLUMN messages TEXT');
  if (!traces.has('queue_ids')) db.exec("ALTER TABLE traces ADD COLUMN queue_ids TEXT NOT NULL DEFAULT ''");
  if (!traces.has('node')) db.exec('ALTER TABLE traces ADD COLUMN node INTEGER');
  if (!columns('series').has('node')) db.exec('ALTER TABLE series ADD COLUMN node INTEGER');
}

/** A row of the per-event table of schema versions before 2. */
interface OldEventRow extends StoredEventRow {
  readonly node: number | null;
}

/**
 * Moves the rows of the old `events` table into blocks, one node's rows at a time in id order,
 * their index hashes made from their stored data, then drops the old tables.
 */
function migrateEvents(db: DatabaseSync, keys: IndexKeys): void {
  const hasNode = (db.prepare('PRAGMA table_info(events)').all() as { name: string }[]).some((c) => c.name === 'node');
  const read = db.prepare(
    `SELECT id, ts, type, level, span, data, ${hasNode ? 'node' : 'NULL AS node'} FROM events WHERE id > ? ORDER BY id LIMIT ?`,
  );
  const open = new Map<number, EventColumns>();
  const flush = (node: number, columns: EventColumns) => {
    insertBlock(
      db,
      encodeBlock(
        columns,
        columns.ids.map((_, i) => i),
        node,
        keys.keyset,
      ),
    );
    open.delete(node);
  };
  for (let after = Number.NEGATIVE_INFINITY; ; ) {
    const rows = read.all(after, BLOCK_EVENTS * 8) as unknown as OldEventRow[];
    for (const row of rows) {
      const node = row.node ?? 0;
      let columns = open.get(node);
      if (columns === undefined) {
        columns = emptyColumns();
        open.set(node, columns);
      }
      let data: unknown;
      try {
        data = JSON.parse(row.data);
      } catch {
        data = {};
      }
      hashValues(data, keys, columns.hashes);
      if (row.span !== null) columns.hashes.push(valueHash(SPAN_SEED, row.span));
      addEvent(columns, Number(row.id), row.ts, row.level, row.type, row.span ?? undefined, row.data);
      if (columns.ids.length === BLOCK_EVENTS) flush(node, columns);
    }
    if (rows.length === 0) break;
    after = Number((rows.at(-1) as OldEventRow).id);
  }
  for (const [node, columns] of open) flush(node, columns);
  db.exec('DROP TABLE events; DROP TABLE IF EXISTS event_keys');
}
