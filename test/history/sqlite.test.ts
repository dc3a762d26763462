import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveEventQuery, resolveTraceQuery } from '../../src/history/query.js';
import { traceOf } from '../../src/history/traces.js';
import { type EventQuery, type HistoryEvent, MemoryHistoryStore, type SeriesPoint, type TraceQuery } from '../../src/index.js';
import { SqliteHistoryStore } from '../../src/sqlite.js';
import { importsOf } from '../support/imports.js';
import { make } from '../support/telemetry.js';
import { sampleEvents } from './conformance/data.js';
import { KEEP_ALL, KEYS, sqliteFolder } from './support/sqlite-files.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
const dir = sqliteFolder('history');

function stores() {
  const memory = new MemoryHistoryStore({ events: 1000, traces: 100, series: 1000, indexKeys: KEYS });
  const sqlite = new SqliteHistoryStore({ path: ':memory:', indexKeys: KEYS });
  return { memory, sqlite };
}

/** Plain JSON, so a record and its parsed copy compare equal. */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('SqliteHistoryStore answers like the memory store', () => {
  const eventQueries: EventQuery[] = [
    {},
    { limit: 2 },
    { types: ['smtp.*'] },
    { types: ['*.failed', 'queue.message-queued'], level: 'info' },
    { level: 'warn' },
    { from: 11_000, to: 11_004 },
    { keys: { remoteIp: '192.0.2.7' } },
    { keys: { remoteIp: { contains: '192.0.2.7' } } },
    { keys: { to: 'b1@y.test' } },
    { keys: { to: { contains: 'Y.TEST' }, remoteIp: '198.51.100.1' } },
    { keys: { from: { contains: 'example.ORG' } } },
    { keys: { queueId: 2 } },
    { keys: { accountName: 'acct1' } },
    { keys: { details: { contains: 'PASSWORD 2' } } },
    { text: 'bad password' },
    { text: 'b2@y' },
    { spanId: 501 },
    { spanId: '502', types: ['smtp.rcpt-to'] },
  ];

  it.each(eventQueries.map((q) => [JSON.stringify(q), q] as const))('events %s, across pages', async (_name, query) => {
    const { memory, sqlite } = stores();
    memory.append({ events: sampleEvents() });
    sqlite.append({ events: sampleEvents() });
    for (const limit of [1, 3, 100]) {
      const read = (store: typeof memory | typeof sqlite) => {
        const all: HistoryEvent[] = [];
        let cursor: string | undefined;
        do {
          const page = store.events(resolveEventQuery({ ...query, limit, ...(cursor === undefined ? {} : { cursor }) }));
          all.push(...page.items);
          cursor = page.cursor;
        } while (cursor !== undefined);
        return all;
      };
      const expected = plain(read(memory));
      expect(plain(read(sqlite))).toEqual(expected);
    }
    sqlite.close();
  });

  it('agrees on random key and text queries (property test)', () => {
    const { memory, sqlite } = stores();
    memory.append({ events: sampleEvents() });
    sqlite.append({ events: sampleEvents() });
    const query = fc.record(
      {
        keys: fc.dictionary(
          fc.constantFrom('remoteIp', 'to', 'from', 'queueId', 'accountName'),
          fc.oneof(
            fc.constantFrom('192.0.2.7', 'a@x.test', 'b0@y.test', 'user1@Example.org', '1', 'acct2'),
            fc.record({ contains: fc.constantFrom('192', 'x.t', 'EXAMPLE', '2', 'acct') }),
          ),
          { maxKeys: 2 },
        ),
        text: fc.constantFrom('password', '198.51', 'user'),
        level: fc.constantFrom('debug' as const, 'info' as const, 'warn' as const),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(query, (q) => {
        const resolved = resolveEventQuery(q);
        expect(plain(sqlite.events(resolved))).toEqual(plain(memory.events(resolved)));
      }),
      { numRuns: 200 },
    );
    sqlite.close();
  });

  it('stores traces and series and answers their queries alike', () => {
    const { memory, sqlite } = stores();
    const events = sampleEvents();
    const traces = [500, 501, 502].map((span, i) =>
      traceOf(
        span,
        i === 1 ? 'delivery.attempt-start' : 'smtp.connection-start',
        10_000 + i * 1000,
        events.filter((e) => e.spanId === span),
        i,
      ),
    );
    const series: SeriesPoint[] = [
      { metric: 'queue.count', kind: 'gauge', labels: {}, timestamp: 1, value: 3 },
      { metric: 'app.hits', kind: 'counter', labels: { route: 'a' }, timestamp: 1, value: 2 },
      { metric: 'smtp.request-time', kind: 'histogram', labels: {}, timestamp: 2, value: 40, count: 2 },
    ];
    for (const store of [memory, sqlite]) store.append({ traces, series });
    const queries: TraceQuery[] = [
      {},
      { type: 'delivery.attempt-start' },
      { queueId: 2 },
      { keywords: '"b0@y.test"' },
      { keywords: 'a@x.test 198.51' },
      { from: 10_500 },
      { limit: 1 },
    ];
    for (const q of queries)
      expect(plain(sqlite.traces(resolveTraceQuery(q))), JSON.stringify(q)).toEqual(plain(memory.traces(resolveTraceQuery(q))));
    const page = sqlite.traces(resolveTraceQuery({ limit: 2 }));
    expect(sqlite.traces(resolveTraceQuery({ limit: 2, cursor: page.cursor as string })).items.map((t) => t.id)).toEqual([500]);
    expect(plain(sqlite.trace(501))).toEqual(plain(memory.trace(501)));
    expect(sqlite.trace(999)).toBeUndefined();
    expect(sqlite.series({})).toEqual(memory.series({}));
    expect(sqlite.series({ metrics: ['app.hits'], from: 1, to: 1 })).toEqual([{ ...series[1], node: sqlite.node }]);
    expect(sqlite.series({ metrics: [] })).toEqual([]);
    sqlite.close();
  });

  it('purges by age and by count', () => {
    const sqlite = new SqliteHistoryStore(':memory:');
    const events = sampleEvents();
    sqlite.append({ events });
    sqlite.purge({ ...KEEP_ALL, events: { maxAge: 1000, capacity: 1e9 } }, 12_500);
    const left = sqlite.events(resolveEventQuery({}));
    expect(left.items.map((e) => e.timestamp)).toEqual([12_004, 12_003, 12_002, 12_001, 12_000]);
    sqlite.purge({ ...KEEP_ALL, events: { maxAge: 1e12, capacity: 2 } }, 12_500);
    expect(sqlite.events(resolveEventQuery({})).items.map((e) => e.id)).toEqual([1014, 1013]);
    expect(sqlite.events(resolveEventQuery({ keys: { remoteIp: '198.51.100.1' } })).items.map((e) => e.id)).toEqual([1013]);
    sqlite.append({
      series: [1, 2, 3].map((t) => ({ metric: 'queue.count', kind: 'gauge' as const, labels: {}, timestamp: t, value: t })),
    });
    sqlite.purge({ ...KEEP_ALL, series: { maxAge: 1e12, capacity: 2 } }, 10);
    expect(sqlite.series({}).map((p) => p.value)).toEqual([2, 3]);
    sqlite.purge({ ...KEEP_ALL, series: { maxAge: 7.5, capacity: 10 } }, 10);
    expect(sqlite.series({}).map((p) => p.value)).toEqual([3]);
    const traces = [1, 2, 3].map((n) => traceOf(n, 'delivery.attempt-start', n * 100, [], 0));
    sqlite.append({ traces: [traces[2], traces[0], traces[1]].filter((t) => t !== undefined) });
    sqlite.purge({ ...KEEP_ALL, traces: { maxAge: 1e12, capacity: 2 } }, 1000);
    // Capacity keeps the last stored; age goes by span start.
    expect(sqlite.traces(resolveTraceQuery({})).items.map((t) => t.id)).toEqual([2, 1]);
    sqlite.purge({ ...KEEP_ALL, traces: { maxAge: 850, capacity: 10 } }, 1000);
    expect(sqlite.traces(resolveTraceQuery({})).items.map((t) => t.id)).toEqual([2]);
    sqlite.close();
    sqlite.close(); // twice is harmless
  });
});

describe('nodes in a sqlite file', () => {
  it('names each record after the store that wrote it, and a query keeps one node', () => {
    const path = join(dir, 'nodes.db');
    const events = sampleEvents();
    const first = new SqliteHistoryStore({ path, indexKeys: KEYS, node: 'mx1' });
    first.append({
      events: events.slice(0, 5),
      series: [{ metric: 'queue.count', kind: 'gauge', labels: {}, timestamp: 1, value: 1 }],
    });
    first.append({ traces: [traceOf(1, 'delivery.attempt-start', 100, [], 0)] });
    first.close();
    // The same file after a restart under another name.
    const second = new SqliteHistoryStore({ path, indexKeys: KEYS, node: 'mx2' });
    second.append({
      events: events.slice(5),
      series: [{ metric: 'queue.count', kind: 'gauge', labels: {}, timestamp: 2, value: 2 }],
    });
    second.append({ traces: [traceOf(2, 'delivery.attempt-start', 200, [], 0)] });
    const all = second.events(resolveEventQuery({ limit: 100 }));
    expect(all.items).toHaveLength(events.length);
    expect(all.items.map((e) => e.node)).toEqual([...Array(events.length - 5).fill('mx2'), ...Array(5).fill('mx1')]);
    const mx1 = second.events(resolveEventQuery({ node: 'mx1', keys: { remoteIp: '192.0.2.7' } }));
    expect(mx1.items.map((e) => e.id)).toEqual(
      events
        .slice(0, 4)
        .map((e) => e.id)
        .reverse(),
    );
    expect(second.events(resolveEventQuery({ node: 'nobody' }))).toEqual({ items: [] });
    expect(second.traces(resolveTraceQuery({ node: 'mx1' })).items.map((t) => [t.id, t.node])).toEqual([[1, 'mx1']]);
    expect(second.traces(resolveTraceQuery({ node: 'nobody' }))).toEqual({ items: [], total: 0 });
    expect(second.trace(2)?.node).toBe('mx2');
    expect(second.series({ node: 'mx2' }).map((p) => [p.value, p.node])).toEqual([[2, 'mx2']]);
    expect(second.series({}).map((p) => p.node)).toEqual(['mx1', 'mx2']);
    second.close();
    expect(() => new SqliteHistoryStore({ path, node: '' })).toThrow(/SqliteHistoryStore\(options\)\.node/);
  });
});

describe('history on a sqlite file', () => {
  it('survives a process restart: one process writes, another reads', () => {
    const path = join(dir, 'restart.db');
    const script = join(dir, 'restart.mts');
    writeFileSync(
      script,
      `
import { createTelemetry } from ${JSON.stringify(join(root, 'src/index.ts'))};
import { SqliteHistoryStore } from ${JSON.stringify(join(root, 'src/sqlite.ts'))};
const telemetry = createTelemetry({ history: { store: new SqliteHistoryStore({ path: ${JSON.stringify(path)} }) } });
if (process.argv[2] === 'write') {
  const span = telemetry.span('smtp.connection-start', { remoteIp: '192.0.2.7', remotePort: 1, listenerId: 'mx', localPort: 25 });
  span.emit('smtp.mail-from', { from: 'alice@example.org' });
  span.emit('queue.message-queued', { queueId: 42, size: 512 });
  span.end();
  telemetry.metrics.gauge('queue.count').set(9);
  await telemetry.flush();
  await telemetry.history.snapshot();
  console.log(JSON.stringify({ pid: process.pid, span: span.id }));
} else {
  const events = await telemetry.history.events({ keys: { remoteIp: '192.0.2.7' } });
  const traces = await telemetry.history.traces({ queueId: 42 });
  const trace = await telemetry.history.trace(traces.items[0].id);
  const series = await telemetry.history.series({ metrics: ['queue.count'] });
  console.log(JSON.stringify({ pid: process.pid, events: events.items.map((e) => e.type), trace, series }));
}
await telemetry.shutdown();
`,
    );
    const run = (mode: string) =>
      JSON.parse(execFileSync(process.execPath, [tsx, script, mode], { cwd: root, encoding: 'utf8', timeout: 20_000 })) as Record<
        string,
        unknown
      >;
    const written = run('write');
    const read = run('read');
    expect(read.pid).not.toBe(written.pid);
    expect(read.events).toEqual(['queue.message-queued', 'smtp.mail-from']);
    expect(read.trace).toMatchObject({ id: written.span, queueId: '42', from: 'alice@example.org', size: 512 });
    expect((read.trace as { events: unknown[] }).events).toHaveLength(4);
    expect(read.series).toEqual([expect.objectContaining({ metric: 'queue.count', kind: 'gauge', value: 9 })]);
  });

  it('works as the store of a telemetry, closed on shutdown', async () => {
    const store = new SqliteHistoryStore({ path: join(dir, 'live.db') });
    const telemetry = make({ history: { store, level: 'debug' } });
    telemetry.emit('smtp.ehlo', { domain: 'x.test' });
    await telemetry.flush();
    expect((await telemetry.history.events({ types: ['smtp.ehlo'] })).items[0]?.data).toEqual({ domain: 'x.test' });
    await telemetry.shutdown();
    expect(() => store.events(resolveEventQuery({}))).toThrow();
  });
});

describe('the main entry', () => {
  it('never imports node:sqlite (only mail-telemetry/sqlite does)', () => {
    const main = importsOf(join(root, 'src/index.ts'), 'node:sqlite');
    expect(main.importers).toEqual([]);
    expect(main.reached).toBeGreaterThan(20);
    const sqlite = importsOf(join(root, 'src/sqlite.ts'), 'node:sqlite').importers;
    expect(sqlite).toContain(join(root, 'src/history/sqlite/store.ts'));
    expect(sqlite.every((file) => file.startsWith(join(root, 'src/history/sqlite/')))).toBe(true);
  });
});
