/**
 * The sqlite store's block storage: appends larger than a block, cursors across blocks, retention
 * across a block, a refused event inside a block, two nodes writing one file, and files written by
 * the previous schema (a row per event) opened and migrated.
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventRecord } from '../../src/core/event.js';
import { resolveEventQuery } from '../../src/history/query.js';
import { type EventQuery, type HistoryEvent, MemoryHistoryStore } from '../../src/index.js';
import { SqliteHistoryStore } from '../../src/sqlite.js';
import { keySets } from './support/hostile-keys.js';
import { KEEP_ALL, KEYS, plain, sqliteFolder } from './support/sqlite-files.js';

const dir = sqliteFolder('sqlite-blocks');

/** `count` events from id `first`, in five-event sessions, one a second apart. */
function events(count: number, first = 1): HistoryEvent[] {
  return Array.from({ length: count }, (_, n) => {
    const id = first + n;
    const session = Math.floor(id / 5);
    return {
      id,
      type: id % 5 === 0 ? 'smtp.connection-start' : 'smtp.rcpt-to',
      level: id % 9 === 0 ? 'warn' : 'info',
      timestamp: 1000 * id,
      spanId: session,
      data: { remoteIp: `192.0.2.${session % 200}`, to: [`r${id % 7}@x.test`], note: `line ${id}` },
    };
  });
}

function readAll(store: SqliteHistoryStore | MemoryHistoryStore, query: EventQuery = {}, limit = 1000) {
  const items: HistoryEvent[] = [];
  const pages: number[] = [];
  let cursor: string | undefined;
  do {
    const page = store.events(resolveEventQuery({ ...query, limit, ...(cursor === undefined ? {} : { cursor }) }));
    items.push(...page.items);
    pages.push(page.items.length);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return { items, pages };
}

function ids(store: SqliteHistoryStore | MemoryHistoryStore, query: EventQuery = {}, limit = 1000): number[] {
  return readAll(store, query, limit).items.map((e) => e.id);
}

const descending = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => to - i);

describe('sqlite blocks', () => {
  it('stores appends larger than a block, and pages across blocks like the memory store', () => {
    const sqlite = new SqliteHistoryStore({ path: ':memory:', indexKeys: KEYS });
    const memory = new MemoryHistoryStore({ events: 10_000, indexKeys: KEYS });
    // 2500 events: several full blocks and a part, then small appends beside them.
    for (const batch of [events(2500), events(3, 2501), events(1, 2504), events(1100, 2505)]) {
      sqlite.append({ events: batch });
      memory.append({ events: batch });
    }
    const queries: EventQuery[] = [
      {},
      { keys: { remoteIp: '192.0.2.7' } },
      { keys: { to: 'r3@x.test' }, level: 'warn' },
      { spanId: 205 },
      { text: 'line 102' },
      { types: ['smtp.connection-start'], from: 500_000, to: 2_600_000 },
    ];
    for (const query of queries)
      for (const limit of [1, 7, 1000]) {
        const got = readAll(sqlite, query, limit);
        expect(plain(got), `${JSON.stringify(query)} limit ${limit}`).toEqual(plain(readAll(memory, query, limit)));
      }
    expect(ids(sqlite)).toEqual(descending(1, 3604));
    // A cursor made at a block's edge: the next page starts in the block before.
    const first = sqlite.events(resolveEventQuery({ limit: 1104 }));
    expect(first.items.at(-1)?.id).toBe(2501);
    const next = sqlite.events(resolveEventQuery({ limit: 2, cursor: first.cursor as string }));
    expect(next.items.map((e) => e.id)).toEqual([2500, 2499]);
    sqlite.close();
  });

  it('two nodes appending ids in any order, with purges between: every query sees all of them, newest first (model test)', () => {
    // Blocks arrive newer and older than the ones a reader has already seen, and go with purges.
    const step = fc.oneof(
      fc.record({
        node: fc.integer({ min: 0, max: 1 }),
        at: fc.integer({ min: 1, max: 400 }),
        count: fc.integer({ min: 1, max: 300 }),
      }),
      fc.record({ purge: fc.integer({ min: 1, max: 500 }) }),
    );
    let file = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), (steps) => {
        const path = join(dir, `model-${++file}.db`);
        const nodes = ['a', 'b'].map((node) => new SqliteHistoryStore({ path, indexKeys: KEYS, node }));
        const reader = nodes[0] as SqliteHistoryStore;
        let stored: number[] = [];
        try {
          for (const s of steps) {
            if ('purge' in s) {
              // By age: every event older than the cut goes, whichever node wrote it.
              const cut = s.purge * 10_000;
              reader.purge({ ...KEEP_ALL, events: { ...KEEP_ALL.events, maxAge: 0 } }, cut);
              stored = stored.filter((id) => id * 1000 >= cut);
            } else {
              const batch = events(s.count, s.at * 10).filter((e) => !stored.includes(e.id));
              (nodes[s.node] as SqliteHistoryStore).append({ events: batch });
              stored.push(...batch.map((e) => e.id));
            }
            const newestFirst = [...stored].sort((a, b) => b - a);
            expect(ids(reader, {}, 97)).toEqual(newestFirst);
            const ip = newestFirst.filter((id) => Math.floor(id / 5) % 200 === 7);
            expect(ids(reader, { keys: { remoteIp: '192.0.2.7' } }, 97)).toEqual(ip);
          }
        } finally {
          for (const store of nodes) store.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('indexes event records as the memory store does: own keys over span keys, unreadable ones left out (fast-check)', () => {
    const names = ['remoteIp', 'to', 'queueId'] as const;
    const values = ['192.0.2.1', 'a@x.test', 'q7', undefined] as const;
    const keys = keySets(names, values, 'to');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keys, fc.constantFrom(0, 1)), { maxLength: 20 }),
        fc.array(keys, { minLength: 2, maxLength: 2 }),
        (rows, spans) => {
          const sqlite = new SqliteHistoryStore({ path: ':memory:', indexKeys: [...names] });
          const memory = new MemoryHistoryStore({ events: 100, indexKeys: [...names] });
          const records = rows.map(
            ([own, span], i) =>
              new EventRecord(100 + i, 'smtp.rcpt-to', 0, 'info', 1000 + i, 7 + span, own, spans[span], undefined),
          );
          sqlite.append({ events: records });
          memory.append({ events: records });
          for (const key of names)
            for (const value of values)
              if (value !== undefined)
                expect(ids(sqlite, { keys: { [key]: value } }), `${key}=${value}`).toEqual(
                  ids(memory, { keys: { [key]: value } }),
                );
          sqlite.close();
        },
      ),
      { numRuns: 200 },
    );
  });

  it('purges by age and by count exactly, rewriting the block across the bound', () => {
    const sqlite = new SqliteHistoryStore({ path: ':memory:', indexKeys: KEYS });
    sqlite.append({ events: events(2500) });
    // Everything before event 1500's time goes: 1499 events, the block across 1499/1500 rewritten.
    sqlite.purge({ ...KEEP_ALL, events: { maxAge: 1000 * 1000, capacity: 1e9 } }, 1000 * 2500);
    expect(ids(sqlite)).toEqual(descending(1500, 2500));
    expect(ids(sqlite, { spanId: 299 })).toEqual([]);
    expect(ids(sqlite, { spanId: 300 })).toEqual([1504, 1503, 1502, 1501, 1500]);
    expect(ids(sqlite, { keys: { remoteIp: '192.0.2.99' } })).toEqual(descending(2495, 2499));
    // By count: the newest 700 stay, cut inside a block.
    sqlite.purge({ ...KEEP_ALL, events: { maxAge: 1e12, capacity: 700 } }, 1000 * 2500);
    expect(ids(sqlite)).toEqual(descending(1801, 2500));
    expect(ids(sqlite, { spanId: 360 })).toEqual([1804, 1803, 1802, 1801]);
    sqlite.purge({ ...KEEP_ALL, events: { maxAge: 1e12, capacity: 0 } }, 1000 * 2500);
    expect(ids(sqlite)).toEqual([]);
    sqlite.close();
  });

  it('a refused event in the middle of a block costs itself alone', () => {
    const sqlite = new SqliteHistoryStore({ path: ':memory:', indexKeys: KEYS });
    const batch: unknown[] = events(300);
    batch.splice(150, 0, { id: 'not a number', type: 'smtp.ehlo', level: 'info', timestamp: 1, data: {} });
    const result = sqlite.append({ events: batch as HistoryEvent[] });
    expect(result).toEqual({ rejected: 1, reason: expect.any(String) });
    expect(ids(sqlite)).toEqual(descending(1, 300));
    sqlite.close();
  });

  it('two nodes on one file interleave their appends and read each other’s events', () => {
    const path = join(dir, 'two-nodes.db');
    const mx1 = new SqliteHistoryStore({ path, indexKeys: KEYS, node: 'mx1' });
    const mx2 = new SqliteHistoryStore({ path, indexKeys: KEYS, node: 'mx2' });
    // Their ids interleave, and both use ids 1..5 (two processes may share an id).
    mx1.append({ events: events(5) });
    mx2.append({ events: events(5) });
    for (let round = 0; round < 4; round++) {
      mx1.append({ events: events(300, 10 + round * 600) });
      mx2.append({ events: events(300, 310 + round * 600) });
    }
    for (const reader of [mx1, mx2]) {
      const all = readAll(reader, {}, 7).items;
      expect(all).toHaveLength(2410);
      // Newest first by id; of two events with one id, one node's then the other's, none skipped across pages.
      expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort((a, b) => b - a));
      expect(all.filter((e) => e.id === 3).map((e) => e.node)).toEqual(['mx2', 'mx1']);
      expect(ids(reader, { node: 'mx1' })).toHaveLength(1205);
      expect(readAll(reader, { node: 'mx2', keys: { remoteIp: '192.0.2.70' } }).items.map((e) => [e.id, e.node])).toEqual(
        [...descending(2350, 2354), ...descending(350, 354)].map((id) => [id, 'mx2']),
      );
    }
    // Each store replaces only its own events when an id comes again.
    mx1.append({ events: [{ ...(events(1, 3)[0] as HistoryEvent), type: 'smtp.quit' }] });
    expect(readAll(mx2, { types: ['smtp.quit'] }).items.map((e) => [e.id, e.node])).toEqual([[3, 'mx1']]);
    expect(
      readAll(mx2, {})
        .items.filter((e) => e.id === 3)
        .map((e) => [e.type, e.node]),
    ).toEqual([
      ['smtp.rcpt-to', 'mx2'],
      ['smtp.quit', 'mx1'],
    ]);
    mx1.close();
    mx2.close();
  });
});

describe('a file written by the previous schema (a row per event)', () => {
  /** The previous version's tables, as its SCHEMA wrote them, with a few rows. */
  function oldFile(path: string): void {
    const db = new DatabaseSync(path);
    db.exec(`
      PRAGMA journal_mode = WAL;
      CREATE TABLE nodes (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
      CREATE TABLE events (
        id INTEGER PRIMARY KEY, ts REAL NOT NULL, type TEXT NOT NULL, level INTEGER NOT NULL, span TEXT, data TEXT NOT NULL,
        node INTEGER);
      CREATE INDEX events_ts ON events (ts);
      CREATE INDEX events_type ON events (type, id);
      CREATE INDEX events_span ON events (span, id) WHERE span IS NOT NULL;
      CREATE TABLE event_keys (
        key TEXT NOT NULL, value TEXT NOT NULL, event INTEGER NOT NULL, PRIMARY KEY (key, value, event)) WITHOUT ROWID;
      CREATE INDEX event_keys_event ON event_keys (event);
      CREATE TABLE traces (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, ts REAL NOT NULL,
        queue_id TEXT, sender TEXT, recipients TEXT NOT NULL, size REAL, truncated INTEGER NOT NULL,
        keywords TEXT NOT NULL, events TEXT NOT NULL, messages TEXT, queue_ids TEXT NOT NULL DEFAULT '', node INTEGER);
      CREATE TABLE series (
        ts REAL NOT NULL, metric TEXT NOT NULL, kind TEXT NOT NULL, labels TEXT NOT NULL, value REAL NOT NULL, count REAL,
        node INTEGER);
      INSERT INTO nodes (id, name) VALUES (1, 'old-mx');
      INSERT INTO series (ts, metric, kind, labels, value, count, node) VALUES (5, 'queue.count', 'gauge', '{}', 3, NULL, 1);
    `);
    const insert = db.prepare('INSERT INTO events (id, ts, type, level, span, data, node) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const key = db.prepare('INSERT INTO event_keys (key, value, event) VALUES (?, ?, ?)');
    for (let id = 1; id <= 2100; id++) {
      const ip = `198.51.100.${id % 50}`;
      // Rows of a file older than nodes have none.
      insert.run(
        id,
        id * 10,
        id % 2 === 0 ? 'smtp.ehlo' : 'auth.failed',
        id % 3 === 0 ? 3 : 2,
        id % 4 === 0 ? `s${id % 8}` : null,
        JSON.stringify({ remoteIp: ip, accountName: `a${id % 10}`, details: `Try ${id}` }),
        id <= 100 ? null : 1,
      );
      key.run('remoteIp', ip, id);
    }
    db.close();
  }

  it('opens, moves its events into blocks, and answers as before', () => {
    const path = join(dir, 'old.db');
    oldFile(path);
    const store = new SqliteHistoryStore({ path, indexKeys: KEYS, node: 'new-mx' });
    expect(ids(store)).toEqual(descending(1, 2100));
    expect(ids(store, { keys: { remoteIp: '198.51.100.7' } })).toEqual(descending(1, 2100).filter((id) => id % 50 === 7));
    expect(ids(store, { keys: { accountName: 'a3' }, level: 'warn' })).toEqual(
      descending(1, 2100).filter((id) => id % 10 === 3 && id % 3 === 0),
    );
    expect(ids(store, { spanId: 's4', types: ['smtp.*'] })).toEqual(descending(1, 2100).filter((id) => id % 8 === 4));
    expect(ids(store, { text: 'try 1999' })).toEqual([1999]);
    const newest = store.events(resolveEventQuery({ limit: 1 })).items[0];
    expect(newest).toEqual({
      id: 2100,
      type: 'smtp.ehlo',
      level: 'warn',
      timestamp: 21_000,
      data: { remoteIp: '198.51.100.0', accountName: 'a0', details: 'Try 2100' },
      spanId: 's4',
      node: 'old-mx',
    });
    expect(store.events(resolveEventQuery({ to: 50 })).items.every((e) => e.node === undefined)).toBe(true);
    expect(store.series({}).map((p) => [p.value, p.node])).toEqual([[3, 'old-mx']]);
    store.append({ events: events(3, 5000) });
    expect(store.events(resolveEventQuery({ limit: 4 })).items.map((e) => e.id)).toEqual([5002, 5001, 5000, 2100]);
    store.close();
    // The old tables are gone, the version is set, and a second opening changes nothing.
    const db = new DatabaseSync(path);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name IN ('events', 'event_keys')").all()).toEqual([]);
    expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: 2 });
    db.close();
    const again = new SqliteHistoryStore({ path, indexKeys: KEYS });
    expect(ids(again)).toHaveLength(2103);
    again.close();
  });

  it('refuses a file of a later schema rather than misread it', () => {
    const path = join(dir, 'later.db');
    const db = new DatabaseSync(path);
    db.exec('PRAGMA user_version = 3');
    db.close();
    expect(() => new SqliteHistoryStore({ path })).toThrow(/schema version 3/);
  });
});
