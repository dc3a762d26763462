/**
 * `npx tsx bench/sqlite-insert-ab.ts [rounds]`: the sqlite history store's insert cost per event
 * against what bounds it from below, all in one process on the same fresh event records (SMTP
 * sessions of six events, the records a subscriber receives, their data JSON not yet written), in
 * 1024-event appends (the records of `historySqliteInsert`), alternating the cases round after round:
 *
 * - `store`: this build's `SqliteHistoryStore` (`dist/`);
 * - `old store`: another build's, when `OLD_DIST` names its `dist/` directory. The store before
 *   blocks (one row per event) is commit a7f97dd: `git worktree add ../old a7f97dd`, then
 *   `npm ci && npm run build` there and `OLD_DIST=../old/dist`;
 * - `floor: own JSON`: no store at all, each event's own keys as JSON (`JSON.stringify`) and its id
 *   and time, 256 to a row of a table with two indexes, one transaction per append;
 * - `floor: no payload`: the same rows with empty text, what reading the events and inserting
 *   costs by itself.
 *
 * The floors keep no type, level, span or index: any store that answers the same queries costs
 * more than they do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import type { HistoryEvent } from '../dist/index.js';
import { SqliteHistoryStore } from '../dist/sqlite.js';
import { sessionRecords } from './history.bench.js';
import { median } from './stats.js';

type Store = { append(records: { events: readonly HistoryEvent[] }): unknown; close(): void };
type StoreClass = new (options: { path: string; indexKeys: readonly string[] }) => Store;

const KEYS = ['queueId', 'remoteIp', 'from', 'to', 'accountName', 'domain', 'hostname', 'messageId'];
const SESSIONS = 20_000;
const BATCH = 1024;
const ROW = 256;

function storeCase(Store: StoreClass): (events: readonly HistoryEvent[], file: string) => void {
  return (events, file) => {
    const store = new Store({ path: file, indexKeys: KEYS });
    for (let i = 0; i < events.length; i += BATCH) store.append({ events: events.slice(i, i + BATCH) });
    store.close();
  };
}

function floorCase(payload: (event: HistoryEvent) => string): (events: readonly HistoryEvent[], file: string) => void {
  return (events, file) => {
    const db = new DatabaseSync(file);
    db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
      CREATE TABLE rows (id INTEGER PRIMARY KEY, first REAL, last REAL, meta BLOB, data TEXT);
      CREATE INDEX rows_first ON rows (first); CREATE INDEX rows_last ON rows (last);`);
    const insert = db.prepare('INSERT INTO rows (first, last, meta, data) VALUES (?, ?, ?, ?)');
    for (let i = 0; i < events.length; i += BATCH) {
      const end = Math.min(events.length, i + BATCH);
      db.exec('BEGIN');
      for (let start = i; start < end; start += ROW) {
        const n = Math.min(ROW, end - start);
        const meta = new Float64Array(2 * n);
        const lines: string[] = [];
        for (let k = 0; k < n; k++) {
          const event = events[start + k] as HistoryEvent;
          meta[k] = event.id;
          meta[n + k] = event.timestamp;
          lines.push(payload(event));
        }
        insert.run(meta[0] as number, meta[n - 1] as number, new Uint8Array(meta.buffer), lines.join('\n'));
      }
      db.exec('COMMIT');
    }
    db.close();
  };
}

const cases: [string, (events: readonly HistoryEvent[], file: string) => void][] = [
  ['store', storeCase(SqliteHistoryStore as unknown as StoreClass)],
  ['floor: own JSON', floorCase((event) => JSON.stringify((event as { own?: object }).own ?? event.data))],
  ['floor: no payload', floorCase(() => '')],
];
if (process.env.OLD_DIST !== undefined) {
  const old = (await import(pathToFileURL(join(resolve(process.env.OLD_DIST), 'sqlite.js')).href)) as {
    SqliteHistoryStore: StoreClass;
  };
  cases.unshift(['old store', storeCase(old.SqliteHistoryStore)]);
}

const rounds = Number(process.argv[2] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'mail-telemetry-sqlite-ab-'));
const results = new Map<string, number[]>(cases.map(([name]) => [name, []]));
try {
  for (let r = 0; r < rounds; r++) {
    // Each round in another order, so no case always runs after the same one.
    const order = r % 2 === 0 ? cases : [...cases].reverse();
    for (const [name, run] of order) {
      const events = await sessionRecords(SESSIONS);
      const start = process.hrtime.bigint();
      run(events, join(dir, `${r}-${name.replace(/\W+/g, '-')}.db`));
      const us = Number(process.hrtime.bigint() - start) / 1000 / events.length;
      results.get(name)?.push(us);
      console.log(`round ${r + 1}: ${name.padEnd(18)} ${us.toFixed(2)} µs/event`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const reference = results.get('old store');
console.log('\n| case | µs per event (median) | the old store ÷ this |');
console.log('| --- | ---: | ---: |');
for (const [name, values] of results) {
  const ratio = reference === undefined ? '' : `${(median(reference) / median(values)).toFixed(1)}×`;
  console.log(`| ${name} | ${median(values).toFixed(2)} | ${ratio} |`);
}
console.log(
  `\n${rounds} rounds of ${SESSIONS.toLocaleString('en-US')} sessions (${SESSIONS * 6} events); wall time of the appends.`,
);
