/**
 * The postgres history store against a real PostgreSQL (Debian's `postgresql`, started by the test
 * in a temp directory on 127.0.0.1): a fleet of processes writing one history, restarts, an outage
 * under load, hostile values, options and schema versions. The query answers themselves are
 * checked against the other stores by test/history/conformance.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TelemetryConfigError } from '../../src/base/errors.js';
import { resolveEventQuery, resolveTraceQuery } from '../../src/history/query.js';
import { traceOf } from '../../src/history/traces.js';
import type { HistoryEvent } from '../../src/index.js';
import { PostgresHistoryStore } from '../../src/postgres.js';
import { hostileScalars, hostileValue } from '../support/hostile.js';
import { importsOf } from '../support/imports.js';
import { needsProgram } from '../support/needs-program.js';
import { type PostgresServer, startPostgres } from '../support/postgres.js';
import { make } from '../support/telemetry.js';
import { freshSchema } from './conformance/stores.js';
import { commitCut } from './support/commit-cut.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mail-telemetry-postgres-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const postgres = needsProgram('postgres');
let server: PostgresServer;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function count(schema: string, where = 'true'): Promise<number> {
  const client = new pg.Client(server.connection());
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.events WHERE ${where}`);
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('PostgresHistoryStore options', () => {
  it('are validated, naming the option path', () => {
    const bad: [unknown, string][] = [
      [{ schema: 'Bad-Name' }, 'PostgresHistoryStore(options).schema'],
      [{ node: '' }, 'PostgresHistoryStore(options).node'],
      [{ nodes: [] }, 'PostgresHistoryStore(options).nodes'],
      [{ nodes: ['a', 3] }, 'PostgresHistoryStore(options).nodes[1]'],
      [{ maxPending: -1 }, 'PostgresHistoryStore(options).maxPending'],
      [{ retryInterval: 'soon' }, 'PostgresHistoryStore(options).retryInterval'],
      [{ indexKeys: ['re mote'] }, 'PostgresHistoryStore(options).indexKeys'],
      [{ connection: 42 }, 'PostgresHistoryStore(options).connection'],
      [{ pool: {} }, 'PostgresHistoryStore(options).pool'],
      [{ purge: 'yes' }, 'PostgresHistoryStore(options).purge'],
      [{ conection: 'postgres://x' }, 'PostgresHistoryStore(options).conection'],
      [{ pool: new pg.Pool(), connection: 'postgres://x' }, 'PostgresHistoryStore(options).connection'],
    ];
    for (const [options, path] of bad) {
      const error = (() => {
        try {
          new PostgresHistoryStore(options as never);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, path).toBeInstanceOf(TelemetryConfigError);
      expect((error as TelemetryConfigError).path).toBe(path);
    }
  });

  it('name the node after the host and process by default', async () => {
    const store = new PostgresHistoryStore('postgres://nobody@127.0.0.1:1/none');
    expect(store.node).toMatch(new RegExp(`:${process.pid}$`));
    await store.close();
  });
});

describe('the main entry', () => {
  it('never imports pg (only mail-telemetry/postgres does)', () => {
    expect(importsOf(join(root, 'src/index.ts'), 'pg').importers).toEqual([]);
    expect(importsOf(join(root, 'src/postgres.ts'), 'pg').importers.length).toBeGreaterThan(0);
  });
});

postgres.describe('PostgresHistoryStore on a real PostgreSQL', () => {
  beforeAll(async () => {
    server = await startPostgres(postgres.path);
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  });

  it('two processes write one history, and a third reads both', async () => {
    const schema = freshSchema();
    const script = join(dir, 'fleet.mts');
    writeFileSync(
      script,
      `
import { createTelemetry } from ${JSON.stringify(join(root, 'src/index.ts'))};
import { PostgresHistoryStore } from ${JSON.stringify(join(root, 'src/postgres.ts'))};
const [url, schema, node] = process.argv.slice(2);
const store = new PostgresHistoryStore({ connection: url, schema, node });
const telemetry = createTelemetry({ history: { store } });
for (let i = 0; i < 50; i++) telemetry.emit('auth.success', { accountName: node + '-' + i, remoteIp: '192.0.2.7' });
const span = telemetry.span('smtp.connection-start', { remoteIp: '192.0.2.7', remotePort: 1, listenerId: 'mx', localPort: 25 });
span.emit('smtp.mail-from', { from: node + '@example.org' });
span.emit('queue.message-queued', { queueId: 'q-' + node, size: 512 });
span.end();
await telemetry.shutdown();
console.log(JSON.stringify({ pid: process.pid, span: span.id, node: store.node }));
`,
    );
    const write = async (node: string) =>
      JSON.parse(
        (await run(process.execPath, [tsx, script, server.url(), schema, node], { cwd: root, timeout: 30_000 })).stdout,
      ) as {
        pid: number;
        span: number;
        node: string;
      };
    const [a, b] = await Promise.all([write('mx-a'), write('mx-b')]);
    expect(a.pid).not.toBe(b.pid);

    const store = new PostgresHistoryStore({ connection: server.connection(), schema, node: 'reader' });
    const telemetry = make({ history: { store } });
    const events = await telemetry.history.events({ types: ['auth.success'], limit: 10_000 });
    expect(events.items).toHaveLength(100);
    expect(new Set(events.items.map((e) => String(e.data.accountName).split('-').slice(0, 2).join('-')))).toEqual(
      new Set(['mx-a', 'mx-b']),
    );
    // Newest first across nodes, and pages of one never skip or repeat an event, even where ids collide.
    const paged: HistoryEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await telemetry.history.events({
        types: ['auth.success'],
        limit: 7,
        ...(cursor === undefined ? {} : { cursor }),
      });
      paged.push(...page.items);
      cursor = page.cursor;
    } while (cursor !== undefined);
    expect(paged.map((e) => e.data.accountName)).toEqual(events.items.map((e) => e.data.accountName));
    for (const node of ['mx-a', 'mx-b']) {
      const traces = await telemetry.history.traces({ queueId: `q-${node}` });
      expect(traces.items).toHaveLength(1);
      const trace = await telemetry.history.trace(traces.items[0]?.id as number);
      expect(trace).toMatchObject({ queueId: `q-${node}`, from: `${node}@example.org`, size: 512, node });
      // A query's node filter: one node's records, each naming it, from the reader's store.
      const own = await telemetry.history.events({ types: ['auth.success'], node, limit: 10_000 });
      expect(own.items).toHaveLength(50);
      expect(own.items.every((e) => e.node === node && String(e.data.accountName).startsWith(`${node}-`))).toBe(true);
      const listed = await telemetry.history.traces({ node });
      expect(listed.items.map((t) => [t.queueId, t.node])).toEqual([[`q-${node}`, node]]);
      expect(listed.total).toBe(1);
    }
    expect((await telemetry.history.traces({})).items).toHaveLength(2);
    expect((await telemetry.history.events({ node: 'reader' })).items).toEqual([]);
    expect(new Set(events.items.map((e) => e.node))).toEqual(new Set(['mx-a', 'mx-b']));
    // A store can read one node's records alone.
    const only = new PostgresHistoryStore({ connection: server.connection(), schema, nodes: ['mx-b'] });
    const mine = await only.events(resolveEventQuery({ limit: 1000 }));
    expect(mine.items.length).toBeGreaterThanOrEqual(50);
    expect(mine.items.every((e) => e.type !== 'auth.success' || String(e.data.accountName).startsWith('mx-b'))).toBe(true);
    expect((await only.traces(resolveTraceQuery({}))).items.map((t) => t.queueId)).toEqual(['q-mx-b']);
    await only.close();
  }, 90_000);

  it('events of several nodes with one id page without loss (cursor holds the row number)', async () => {
    const schema = freshSchema();
    const stores = ['n1', 'n2', 'n3'].map((node) => new PostgresHistoryStore({ connection: server.connection(), schema, node }));
    for (const [n, store] of stores.entries())
      await store.append({
        events: [1, 2, 3].map((id) => ({ id, type: 'auth.success', level: 'info' as const, timestamp: id, data: { n } })),
      });
    const reader = stores[0] as PostgresHistoryStore;
    const seen: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await reader.events(resolveEventQuery({ limit: 1, ...(cursor === undefined ? {} : { cursor }) }));
      seen.push(...page.items.map((e) => `${e.id}/${String(e.data.n)}`));
      cursor = page.cursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(['3/2', '3/1', '3/0', '2/2', '2/1', '2/0', '1/2', '1/1', '1/0']);
    for (const store of stores) await store.close();
  });

  it('keeps its data across a restart of PostgreSQL, and its pool reconnects', async () => {
    const schema = freshSchema();
    const store = new PostgresHistoryStore({ connection: server.connection(), schema, node: 'mx' });
    const telemetry = make({ history: { store } });
    for (let i = 0; i < 20; i++) telemetry.emit('auth.success', { accountName: `before-${i}` });
    await telemetry.flush();
    expect((await telemetry.history.events({})).items).toHaveLength(20);
    await server.stop();
    await server.start();
    for (let i = 0; i < 5; i++) telemetry.emit('auth.success', { accountName: `after-${i}` });
    await telemetry.flush();
    await until(() => store.stats().pending === 0, 'the held events to be written');
    expect((await telemetry.history.events({ limit: 100 })).items).toHaveLength(25);
    const fresh = new PostgresHistoryStore({ connection: server.connection(), schema });
    expect((await fresh.events(resolveEventQuery({ keys: { accountName: 'before-3' } }))).items).toHaveLength(1);
    await fresh.close();
  }, 60_000);

  for (const mode of ['holds every event', 'drops the oldest past maxPending, counted'] as const) {
    it(`an outage under load: the store ${mode}; everything not counted as lost is there`, async () => {
      const schema = freshSchema();
      const holdAll = mode === 'holds every event';
      const store = new PostgresHistoryStore({
        connection: { ...server.connection(), connectionTimeoutMillis: 2000 },
        schema,
        node: 'mx',
        maxPending: holdAll ? 100_000 : 40,
        retryInterval: 100,
      });
      const telemetry = make({ history: { store, traces: false, series: false } });
      const reports: string[] = [];
      telemetry.on('telemetry.subscriber-error', (e) => {
        reports.push(String(e.data.reason));
      });
      let emitted = 0;
      let emitting = true;
      const load = (async () => {
        while (emitting) {
          for (let i = 0; i < 5; i++) telemetry.emit('auth.success', { accountName: `load-${emitted++}`, remoteIp: '192.0.2.9' });
          await sleep(5);
        }
      })();
      await until(() => emitted > 200, 'load before the outage');
      await until(async () => (await count(schema).catch(() => 0)) > 0, 'a first write');
      await server.stop();
      const down = emitted;
      await until(() => emitted > down + 300 && reports.length > 0, 'load during the outage');
      expect(store.stats().pending).toBeGreaterThan(0);
      await server.start();
      const up = emitted;
      await until(() => emitted > up + 200, 'load after the outage');
      emitting = false;
      await load;
      await telemetry.flush();
      await until(() => store.stats().pending === 0, 'the held events to be written');
      // An append after the outage reports the events dropped during it to the history.
      telemetry.emit('auth.success', { accountName: `load-${emitted++}` });
      await telemetry.flush();
      const stats = store.stats();
      const dropped = telemetry.stats().subscribers.find((s) => s.id === 'history.events')?.dropped ?? 0;
      const stored = await count(schema);
      expect(reports.some((r) => /held to be written when the database answers/.test(r))).toBe(true);
      expect(stats.rejectedEvents).toBe(0);
      expect(stored).toBe(emitted - stats.lostEvents - dropped);
      if (holdAll) {
        expect(stats.lostEvents).toBe(0);
        expect(dropped).toBe(0);
      } else {
        expect(stats.lostEvents).toBeGreaterThan(0);
        expect(telemetry.history.stats().rejectedEvents).toBe(stats.lostEvents);
        expect(reports.some((r) => /dropped unwritten/.test(r))).toBe(true);
      }
      // Every event that is there is there once.
      expect(await count(schema, "data LIKE '%load-%'")).toBe(stored);
    }, 90_000);
  }

  it('close() while the database is down counts what it could not write, and rejects', async () => {
    const schema = freshSchema();
    const store = new PostgresHistoryStore({ connection: server.connection(), schema, node: 'mx', retryInterval: 60_000 });
    await store.append({ events: [{ id: 1, type: 'auth.success', level: 'info', timestamp: 1, data: {} }] });
    await server.stop();
    try {
      await expect(
        store.append({ events: [{ id: 2, type: 'auth.success', level: 'info', timestamp: 2, data: {} }] }),
      ).rejects.toThrow(/1 record\(s\) held/);
      await expect(store.close()).rejects.toThrow(/1 record\(s\) could not be written/);
      expect(store.stats()).toMatchObject({ pending: 0, lostEvents: 1, written: 1 });
    } finally {
      await server.start();
    }
  }, 60_000);

  it('hostile event values never break the store: each costs at most itself', async () => {
    const schema = freshSchema();
    const store = new PostgresHistoryStore({ connection: server.connection(), schema, node: 'mx\u0000\uD800' });
    // Through a telemetry: whatever the host emits.
    const telemetry = make({ history: { store, level: 'trace' } });
    const scalars = hostileScalars();
    for (const value of scalars) {
      telemetry.emit('auth.success', { accountName: value as string, remoteIp: value as string, details: 'hostile' });
      telemetry.emit('auth.success', { to: [value, 'ok@x.test'] as unknown as string[] });
    }
    telemetry.emit('auth.success', { remoteIp: `\u0000${'y'.repeat(5000)}`, accountName: 'long' });
    await telemetry.flush();
    const stored = await telemetry.history.events({ types: ['auth.success'], limit: 1000 });
    expect(stored.items).toHaveLength(scalars.length * 2 + 1);
    expect(telemetry.history.stats().rejectedEvents).toBe(0);
    expect((await telemetry.history.events({ keys: { to: 'ok@x.test' } })).items).toHaveLength(scalars.length);
    expect((await telemetry.history.events({ keys: { remoteIp: `\u0000${'y'.repeat(5000)}` } })).items).toHaveLength(1);
    expect((await telemetry.history.events({ keys: { remoteIp: `\uFFFD${'y'.repeat(5000)}` } })).items).toHaveLength(0);
    expect((await telemetry.history.events({ text: 'line\nbreak' })).items).toHaveLength(2);
    // Straight into the store: random hostile data, types, span ids and keys.
    let id = 1_000_000;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            data: hostileValue(),
            type: fc.oneof(fc.constant('auth.success'), fc.string()),
            spanId: fc.option(fc.oneof(fc.string(), fc.integer()), { nil: undefined }),
            remoteIp: hostileValue(),
          }),
          { maxLength: 8 },
        ),
        async (drafts) => {
          const events = drafts.map((d) => ({
            id: id++,
            type: d.type,
            level: 'info' as const,
            timestamp: id,
            ...(d.spanId === undefined ? {} : { spanId: d.spanId }),
            // The hostile value as the data itself when it is an object, and as a key's value besides.
            data: (typeof d.data === 'object' && d.data !== null ? d.data : { nested: d.data, remoteIp: d.remoteIp }) as Record<
              string,
              unknown
            >,
          }));
          const result = await store.append({ events });
          expect(result?.rejected ?? 0).toBe(0);
          if (events.length === 0) return;
          const range = { from: events[0]?.timestamp as number, to: events.at(-1)?.timestamp as number };
          const page = await store.events(resolveEventQuery({ ...range, limit: 100 }));
          expect(page.items).toHaveLength(events.length);
        },
      ),
      { numRuns: 60 },
    );
    // An event that is not one (no numeric id) is refused alone.
    const result = await store.append({
      events: [
        { id: Number.NaN, type: 'x', level: 'info', timestamp: 1, data: {} },
        { id: 9, type: 'auth.success', level: 'info', timestamp: 1, data: {} },
      ],
    });
    expect(result).toMatchObject({ rejected: 1 });
    expect((await store.events(resolveEventQuery({ to: 1 }))).items.map((e) => e.id)).toEqual([9]);
  }, 120_000);

  it('creates its schema once, records its version, and refuses a newer one', async () => {
    const schema = freshSchema();
    const stores = [1, 2, 3].map(() => new PostgresHistoryStore({ connection: server.connection(), schema }));
    await Promise.all(stores.map((s) => s.events(resolveEventQuery({}))));
    const client = new pg.Client(server.connection());
    await client.connect();
    try {
      expect((await client.query(`SELECT version FROM ${schema}.schema_version ORDER BY version`)).rows).toEqual([
        { version: 1 },
        { version: 2 },
      ]);
      const indexes = (
        await client.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = $1', [schema])
      ).rows;
      expect(indexes.map((r) => r.indexname)).toEqual(
        expect.arrayContaining([
          'events_order',
          'events_ts',
          'events_type',
          'events_span',
          'events_keys',
          'traces_order',
          'traces_queue',
          'series_point',
        ]),
      );
      await client.query(`INSERT INTO ${schema}.schema_version VALUES (99)`);
      const newer = new PostgresHistoryStore({ connection: server.connection(), schema });
      await expect(newer.events(resolveEventQuery({}))).rejects.toThrow(/version 99, newer/);
      await newer.close();
    } finally {
      await client.end();
      for (const store of stores) await store.close();
    }
  });

  it('a batch written again after a lost COMMIT acknowledgement stores nothing twice (events, points, traces)', async () => {
    const schema = freshSchema();
    const relay = await commitCut(server.port);
    const store = new PostgresHistoryStore({
      connection: { ...server.connection(), port: relay.port },
      schema,
      node: 'mx',
      retryInterval: 50,
    });
    const point = (timestamp: number, value: number) => ({
      metric: 'queue.count',
      kind: 'gauge' as const,
      labels: {},
      timestamp,
      value,
    });
    const event = (id: number) => ({
      id,
      type: 'auth.success',
      level: 'info' as const,
      timestamp: id,
      data: { accountName: `a${id}` },
    });
    const client = new pg.Client(server.connection());
    await client.connect();
    try {
      await store.append({ events: [event(1)], series: [point(1, 1)] });
      relay.arm();
      const lost = await store
        .append({
          events: [event(2), event(3)],
          series: [point(2, 2), point(2, 3)],
          traces: [traceOf(7, 'delivery.attempt-start', 2, [], 0)],
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(relay.cut).toBe(1);
      expect(String(lost)).toMatch(/held to be written/);
      // The commit went through: the rows are there once, while the store still holds them.
      expect(store.stats().pending).toBe(5);
      await until(() => store.stats().pending === 0, 'the retry');
      const rows = async (table: string) =>
        Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.${table}`)).rows[0]?.n);
      expect(await rows('events')).toBe(3);
      expect(await rows('series')).toBe(3);
      expect(await rows('traces')).toBe(1);
      expect((await store.series({})).map((p) => p.value)).toEqual([1, 2, 3]);
      // Written again without a conflict: nothing refused, nothing counted as lost.
      expect(store.stats()).toMatchObject({ rejectedEvents: 0, lostEvents: 0, lostRecords: 0 });
    } finally {
      await client.end();
      await store.close();
      await relay.close();
    }
  });

  it('migrates a version 1 database: its points stay, new points are unique', async () => {
    const schema = freshSchema();
    const first = new PostgresHistoryStore({ connection: server.connection(), schema, node: 'mx' });
    await first.append({ series: [{ metric: 'queue.count', kind: 'gauge', labels: {}, timestamp: 1, value: 1 }] });
    await first.close();
    const client = new pg.Client(server.connection());
    await client.connect();
    try {
      // Back to version 1, as an older mail-telemetry left it.
      await client.query(`DROP INDEX ${schema}.series_point; ALTER TABLE ${schema}.series DROP COLUMN pid`);
      await client.query(`DELETE FROM ${schema}.schema_version WHERE version = 2`);
      const store = new PostgresHistoryStore({ connection: server.connection(), schema, node: 'mx' });
      await store.append({ series: [{ metric: 'queue.count', kind: 'gauge', labels: {}, timestamp: 2, value: 2 }] });
      expect((await store.series({})).map((p) => p.value)).toEqual([1, 2]);
      const versions = await client.query(`SELECT version FROM ${schema}.schema_version ORDER BY version`);
      expect(versions.rows).toEqual([{ version: 1 }, { version: 2 }]);
      const pids = await client.query<{ pid: string | null }>(`SELECT pid FROM ${schema}.series ORDER BY ts`);
      expect(pids.rows[0]?.pid).toBeNull();
      expect(pids.rows[1]?.pid).not.toBeNull();
      await store.close();
    } finally {
      await client.end();
    }
  });

  it('a store whose database is unreachable reports through the history and never throws to an emitter', async () => {
    const store = new PostgresHistoryStore({ connection: 'postgres://nobody@127.0.0.1:1/none', retryInterval: 50 });
    const telemetry = make({ history: { store } });
    const reports: string[] = [];
    telemetry.on('telemetry.subscriber-error', (e) => {
      reports.push(String(e.data.reason));
    });
    expect(() => telemetry.emit('auth.success', { accountName: 'x' })).not.toThrow();
    await telemetry.flush();
    await until(() => reports.length > 0, 'the report');
    expect(reports[0]).toMatch(/ECONNREFUSED|connect/);
    await expect(telemetry.history.events({})).rejects.toThrow();
    expect(store.stats().pending).toBe(1);
  });
});
