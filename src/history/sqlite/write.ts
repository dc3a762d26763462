import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { type BlockRecord, type BlockRow, decodeBlock, type StoredBlock } from './block.js';

/** Statements prepared once per database, by their text. */
const prepared = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

export function statement(db: DatabaseSync, sql: string): StatementSync {
  let statements = prepared.get(db);
  if (statements === undefined) {
    statements = new Map();
    prepared.set(db, statements);
  }
  let s = statements.get(sql);
  if (s === undefined) {
    s = db.prepare(sql);
    statements.set(sql, s);
  }
  return s;
}

const INSERT = `INSERT INTO blocks (node, first_id, last_id, ts_min, ts_max, count, levels, types, keyset, hashes, postings, meta, spans, data)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Writes one block; its id is new, above every block's the file ever had. */
export function insertBlock(db: DatabaseSync, b: BlockRow): void {
  statement(db, INSERT).run(
    b.node,
    b.first,
    b.last,
    b.tsMin,
    b.tsMax,
    b.count,
    b.levels,
    b.types,
    b.keyset,
    b.hashes,
    b.postings,
    b.meta,
    b.spans,
    b.data,
  );
}

const COLUMNS = 'id, node, count, types, keyset, hashes, postings, meta, spans, data';

export function readBlock(db: DatabaseSync, id: number): StoredBlock | undefined {
  const row = statement(db, `SELECT ${COLUMNS} FROM blocks WHERE id = ?`).get(id) as unknown as BlockRecord | undefined;
  return row === undefined ? undefined : decodeBlock(row);
}

/**
 * Replaces a block by what is left of it (nothing: it goes). The rest gets a new id, and the file's
 * generation moves on, so that every reader's cache of block summaries sees the change.
 */
export function replaceBlock(db: DatabaseSync, id: number, rest: BlockRow | undefined): void {
  statement(db, 'DELETE FROM blocks WHERE id = ?').run(id);
  if (rest !== undefined) insertBlock(db, rest);
  statement(db, 'UPDATE generation SET value = value + 1').run();
}
