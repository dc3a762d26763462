import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { resolveEventQuery, resolveTraceQuery } from '../../src/history/query.js';
import { traceOf } from '../../src/history/traces.js';
import { type HistoryEvent, MemoryHistoryStore } from '../../src/index.js';
import { SqliteHistoryStore } from '../../src/sqlite.js';
import { KEYS, plain, sqliteFolder } from './support/sqlite-files.js';

const dir = sqliteFolder('sqlite-batch');

/** `count` events in spans of five, each with an indexed key or two (one of them an array). */
function batch(count: number, first = 1): HistoryEvent[] {
  return Array.from({ length: count }, (_, n) => {
    const i = first + n;
    const span = Math.floor(i / 5);
    return {
      id: i,
      type: i % 5 === 0 ? 'smtp.connection-start' : 'smtp.rcpt-to',
      level: i % 7 === 0 ? 'warn' : 'info',
      timestamp: 1000 + i,
      ...(i % 11 === 0 ? {} : { spanId: span }),
      data: { remoteIp: `192.0.2.${span % 256}`, ...(i % 5 === 2 ? { to: [`a${i}@x.test`, `b${i % 3}@y.test`] } : {}) },
    };
  });
}

function readAll(store: SqliteHistoryStore | MemoryHistoryStore, query = {}): HistoryEvent[] {
  const all: HistoryEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = store.events(resolveEventQuery({ ...query, limit: 1000, ...(cursor === undefined ? {} : { cursor }) }));
    all.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return all;
}

describe('SqliteHistoryStore batches', () => {
  it('writes large and odd-sized batches (multi-row chunks and their remainders) like the memory store', () => {
    const sqlite = new SqliteHistoryStore({ path: ':memory:', indexKeys: KEYS });
    const memory = new MemoryHistoryStore({ events: 100_000, indexKeys: KEYS });
    let first = 1;
    for (const size of [5000, 1, 63, 64, 65, 127, 1024, 3]) {
      const events = batch(size, first);
      first += size;
      expect(sqlite.append({ events })).toBeUndefined();
      memory.append({ events });
    }
    expect(readAll(sqlite)).toHaveLength(first - 1);
    for (const query of [
      {},
      { keys: { remoteIp: '192.0.2.9' } },
      { keys: { to: 'b2@y.test' } },
      { spanId: 300 },
      { level: 'warn' },
    ])
      expect(plain(readAll(sqlite, query)), JSON.stringify(query)).toEqual(plain(readAll(memory, query)));
    sqlite.close();
  });

  it('a re-appended id replaces its event, within one batch and across batches', () => {
    const sqlite = new SqliteHistoryStore({ path: ':memory:', indexKeys: KEYS });
    const events = batch(100);
    const again = { ...(events[50] as HistoryEvent), type: 'smtp.ehlo' };
    sqlite.append({ events: [...events, again] });
    sqlite.append({ events: [{ ...(events[10] as HistoryEvent), type: 'smtp.quit' }] });
    const all = readAll(sqlite);
    expect(all).toHaveLength(100);
    expect(all.find((e) => e.id === 51)?.type).toBe('smtp.ehlo');
    expect(all.find((e) => e.id === 11)?.type).toBe('smtp.quit');
    sqlite.close();
  });

  it('hostile events in a batch cost themselves alone, wherever they are in it', () => {
    const sqlite = new SqliteHistoryStore({ path: ':memory:', indexKeys: KEYS });
    const circular: Record<string, unknown> = { remoteIp: '198.51.100.1' };
    circular.self = circular;
    const throwing = Object.defineProperty({}, 'data', {
      get() {
        throw new Error('no data for you');
      },
    });
    const good = batch(300);
    const bad: unknown[] = [
      { ...good[0], id: 2 ** 60 },
      { ...good[0], id: 'x' },
      { ...good[0], timestamp: Number.NaN },
      { ...good[0], level: 'loud' },
      { ...good[0], spanId: { no: 1 } },
      Object.assign(throwing, { id: 9001, type: 'smtp.ehlo', level: 'info', timestamp: 1 }),
      null,
    ];
    const events = [...good];
    // Spread through the batch: first, inside a 64-row chunk, at a chunk's end, last.
    bad.forEach((event, n) => {
      events.splice([0, 30, 64, 128, 200, 250, events.length][n] as number, 0, event as HistoryEvent);
    });
    // Odd but storable: circular data, a __proto__ key, a huge string, a BigInt.
    const odd: HistoryEvent[] = [
      { id: 5001, type: 'smtp.ehlo', level: 'info', timestamp: 1, data: circular },
      {
        id: 5002,
        type: 'smtp.ehlo',
        level: 'info',
        timestamp: 1,
        data: JSON.parse('{"__proto__":{"x":1},"remoteIp":"1.2.3.4"}'),
      },
      { id: 5003, type: 'smtp.ehlo', level: 'info', timestamp: 1, data: { from: 'x'.repeat(2_000_000) } },
      { id: 5004, type: 'smtp.ehlo', level: 'info', timestamp: 1, data: { queueId: 12n } },
    ];
    events.splice(100, 0, ...odd);
    const result = sqlite.append({ events });
    expect(result?.rejected).toBe(bad.length);
    expect(typeof result?.reason).toBe('string');
    expect(sqlite.rejected).toBe(bad.length);
    expect(readAll(sqlite)).toHaveLength(good.length + odd.length);
    expect(readAll(sqlite, { keys: { remoteIp: '198.51.100.1' } }).map((e) => e.id)).toEqual([5001]);
    expect(readAll(sqlite, { keys: { remoteIp: '1.2.3.4' } }).map((e) => e.id)).toEqual([5002]);
    expect(readAll(sqlite, { keys: { queueId: '12' } }).map((e) => e.id)).toEqual([5004]);
    sqlite.close();
  });

  it('an event the database refuses costs itself alone; its block is written again one event at a time', () => {
    const path = join(dir, 'refuse.db');
    const sqlite = new SqliteHistoryStore({ path, indexKeys: KEYS });
    const other = new DatabaseSync(path);
    // Refuses every block that holds event 40, 77 or 129: the whole block first, then that event's own.
    other.exec(`CREATE TRIGGER refuse_block BEFORE INSERT ON blocks
      WHEN (NEW.first_id <= 40 AND NEW.last_id >= 40) OR (NEW.first_id <= 77 AND NEW.last_id >= 77) OR (NEW.first_id <= 129 AND NEW.last_id >= 129)
      BEGIN SELECT RAISE(ABORT, 'block refused'); END;`);
    other.close();
    const result = sqlite.append({ events: batch(200) });
    expect(result).toEqual({ rejected: 3, reason: expect.stringContaining('block refused') });
    const ids = readAll(sqlite).map((e) => e.id);
    expect(ids).toHaveLength(197);
    expect(ids).not.toContain(40);
    expect(ids).not.toContain(77);
    expect(ids).not.toContain(129);
    // The refused event's index entries went with it; its neighbours' stayed.
    expect(readAll(sqlite, { keys: { to: 'b2@y.test' } }).map((e) => e.id)).not.toContain(77);
    expect(readAll(sqlite, { keys: { to: 'b2@y.test' } }).length).toBeGreaterThan(0);
    expect(readAll(sqlite, { keys: { remoteIp: '192.0.2.15' } }).map((e) => e.id)).toEqual([79, 78, 76, 75]);
    sqlite.close();
  });

  it('an append that fails half-way (a trace the database refuses) throws and leaves nothing of itself', () => {
    const path = join(dir, 'half.db');
    const sqlite = new SqliteHistoryStore({ path, indexKeys: KEYS });
    sqlite.append({ events: batch(10) });
    const other = new DatabaseSync(path);
    other.exec(`CREATE TRIGGER refuse_trace BEFORE INSERT ON traces BEGIN SELECT RAISE(ABORT, 'trace refused'); END;`);
    other.close();
    const trace = traceOf(7, 'smtp.connection-start', 5, [], 0);
    expect(() => sqlite.append({ events: batch(500, 11), traces: trace === undefined ? [] : [trace] })).toThrow(/trace refused/);
    expect(readAll(sqlite).map((e) => e.id)).toEqual(
      batch(10)
        .map((e) => e.id)
        .reverse(),
    );
    expect(readAll(sqlite, { keys: { remoteIp: '192.0.2.50' } })).toEqual([]);
    expect(sqlite.traces(resolveTraceQuery({})).items).toEqual([]);
    // The store is still usable afterwards.
    expect(sqlite.append({ events: batch(5, 11) })).toBeUndefined();
    expect(readAll(sqlite)).toHaveLength(15);
    sqlite.close();
  });
});
