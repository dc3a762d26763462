import type { DatabaseSync } from 'node:sqlite';
import { subsetBlock } from './block.js';
import { readBlock, replaceBlock, statement } from './write.js';

/**
 * Drops stored events of node `node` whose ids `ids` (ascending) holds: a re-appended id replaces
 * its event. Only blocks whose id range meets the batch's are read, and a process's ids only grow,
 * so an append usually finds none.
 */
export function dropReplaced(db: DatabaseSync, node: number, ids: readonly number[]): void {
  if (ids.length === 0) return;
  const rows = statement(db, 'SELECT id FROM blocks WHERE node = ? AND last_id >= ? AND first_id <= ?').all(
    node,
    ids[0] as number,
    ids.at(-1) as number,
  ) as { id: number }[];
  if (rows.length === 0) return;
  const set = new Set(ids);
  for (const { id } of rows) {
    const block = readBlock(db, id);
    if (block === undefined || !block.ids.some((e) => set.has(e))) continue;
    replaceBlock(
      db,
      id,
      subsetBlock(block, (i) => !set.has(block.ids[i] as number)),
    );
  }
}

/**
 * Retention of events, exact per event: every event up to the id of the newest one older than
 * `cut`, and every event but the newest `capacity`, go. Blocks wholly below that id are deleted,
 * and the ones across it are written again without the lines that go.
 */
export function purgeEvents(db: DatabaseSync, cut: number, capacity: number): void {
  const bound = Math.max(ageBound(db, cut), countBound(db, capacity));
  if (bound === Number.NEGATIVE_INFINITY) return;
  const across = statement(db, 'SELECT id FROM blocks WHERE first_id <= ? AND last_id > ?').all(bound, bound) as {
    id: number;
  }[];
  const deleted = statement(db, 'DELETE FROM blocks WHERE first_id <= ? AND last_id <= ?').run(bound, bound);
  for (const { id } of across) {
    const block = readBlock(db, id);
    if (block !== undefined)
      replaceBlock(
        db,
        id,
        subsetBlock(block, (i) => (block.ids[i] as number) > bound),
      );
  }
  if (Number(deleted.changes) > 0) statement(db, 'UPDATE generation SET value = value + 1').run();
}

/** The id of the newest event (by id) whose time is before `cut`. */
function ageBound(db: DatabaseSync, cut: number): number {
  let bound = Number.NEGATIVE_INFINITY;
  const rows = statement(db, 'SELECT id, last_id, ts_max FROM blocks WHERE ts_min < ?').all(cut) as {
    id: number;
    last_id: number;
    ts_max: number;
  }[];
  for (const row of rows) {
    if (row.ts_max < cut) {
      bound = Math.max(bound, row.last_id);
      continue;
    }
    const block = readBlock(db, row.id);
    if (block === undefined) continue;
    for (let i = 0; i < block.count; i++) if ((block.times[i] as number) < cut) bound = Math.max(bound, block.ids[i] as number);
  }
  return bound;
}

/** The id of the newest event past the newest `capacity` (the oldest to go), if there are more. */
function countBound(db: DatabaseSync, capacity: number): number {
  const total = Number((statement(db, 'SELECT coalesce(sum(count), 0) AS n FROM blocks').get() as { n: number }).n);
  const over = total - capacity;
  if (over <= 0) return Number.NEGATIVE_INFINITY;
  const blocks = statement(db, 'SELECT id, first_id FROM blocks ORDER BY first_id, id').all() as {
    id: number;
    first_id: number;
  }[];
  // Blocks of several nodes may interleave their ids: the oldest `over` are found among the blocks
  // that start before the over-th smallest id read so far.
  let ids: number[] = [];
  for (const { id, first_id } of blocks) {
    if (ids.length >= over) {
      ids.sort((a, b) => a - b);
      ids = ids.slice(0, over);
      if (first_id > (ids[over - 1] as number)) break;
    }
    const meta = statement(db, 'SELECT substr(meta, 1, 8 * count) AS ids FROM blocks WHERE id = ?').get(id) as
      | { ids: Uint8Array }
      | undefined;
    if (meta !== undefined) ids.push(...new Float64Array(new Uint8Array(meta.ids).buffer));
  }
  ids.sort((a, b) => a - b);
  return ids[over - 1] ?? Number.NEGATIVE_INFINITY;
}
