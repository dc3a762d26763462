/**
 * One conformance suite for every history store: the memory store (the reference), the sqlite
 * store and the postgres store (on a real PostgreSQL, started by the test) get the same records
 * and the same queries, and must give the same answers, page by page.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveTraceQuery } from '../../src/history/query.js';
import { traceOf } from '../../src/history/traces.js';
import type { EventQuery, HistoryEvent, TraceQuery } from '../../src/index.js';
import { needsProgram } from '../support/needs-program.js';
import { type PostgresServer, startPostgres } from '../support/postgres.js';
import { eventQueryArbitrary, eventsArbitrary, sampleEvents, sampleSeries, sampleTraces } from './conformance/data.js';
import { closeAll, makeStores, type NamedStore, NODE, plain, readAllEvents, readAllTraces } from './conformance/stores.js';

const postgres = needsProgram('postgres');
let server: PostgresServer;

async function sameEvents(stores: readonly NamedStore[], query: EventQuery): Promise<void> {
  const [reference, ...others] = stores as [NamedStore, ...NamedStore[]];
  const expected = plain(await readAllEvents(reference.store, query));
  for (const { name, store } of others)
    expect(plain(await readAllEvents(store, query)), `${name}: ${JSON.stringify(query)}`).toEqual(expected);
}

async function sameTraces(stores: readonly NamedStore[], query: TraceQuery): Promise<void> {
  const [reference, ...others] = stores as [NamedStore, ...NamedStore[]];
  const all = await readAllTraces(reference.store, query);
  // Every page's `total` counts all the matches, the cursor aside.
  expect(new Set(all.totals), JSON.stringify(query)).toEqual(new Set([all.items.length]));
  const expected = plain(all);
  for (const { name, store } of others)
    expect(plain(await readAllTraces(store, query)), `${name}: ${JSON.stringify(query)}`).toEqual(expected);
}

postgres.describe('every history store answers like the memory store', () => {
  beforeAll(async () => {
    server = await startPostgres(postgres.path);
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  });

  const eventQueries: EventQuery[] = [
    {},
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
    { keys: { domain: { contains: 'über' } } },
    { text: 'bad password' },
    { text: 'b2@y' },
    { text: 'über' },
    { spanId: 501 },
    { spanId: '502', types: ['smtp.rcpt-to'] },
    { node: NODE },
    { node: NODE, keys: { remoteIp: '192.0.2.7' } },
    { node: 'elsewhere' },
  ];

  it('events: fixed queries, across pages of 1, 3 and 100', async () => {
    const stores = makeStores(server);
    try {
      for (const { store } of stores) await store.append({ events: sampleEvents() });
      for (const query of eventQueries) for (const limit of [1, 3, 100]) await sameEvents(stores, { ...query, limit });
      // Every event a store gives back names its node.
      for (const { name, store } of stores)
        expect(
          (await readAllEvents(store, {})).items.every((e) => e.node === NODE),
          name,
        ).toBe(true);
    } finally {
      await closeAll(stores);
    }
  });

  it('traces, trace and series: fixed queries', async () => {
    const stores = makeStores(server);
    try {
      const traces = sampleTraces(sampleEvents());
      for (const { store } of stores) await store.append({ traces, series: sampleSeries });
      const queries: TraceQuery[] = [
        {},
        { type: 'delivery.attempt-start' },
        { queueId: 2 },
        { queueId: '0' },
        { keywords: '"b0@y.test"' },
        { keywords: 'a@x.test 198.51' },
        { keywords: 'über' },
        { from: 10_500 },
        { limit: 1 },
        { limit: 2, to: 12_000 },
        { node: NODE },
        { node: NODE, queueId: 2 },
        { node: 'elsewhere' },
      ];
      for (const q of queries) await sameTraces(stores, q);

      const [memory, ...others] = stores as [NamedStore, ...NamedStore[]];
      for (const { name, store } of others) {
        expect(plain(await store.trace(501)), name).toEqual(plain(await memory.store.trace(501)));
        expect(await store.trace(999), name).toBeUndefined();
        expect(await store.series({}), name).toEqual(await memory.store.series({}));
        expect(await store.series({ metrics: ['app.hits'], from: 1, to: 2 }), name).toEqual([{ ...sampleSeries[1], node: NODE }]);
        expect(await store.series({ metrics: [] }), name).toEqual([]);
        expect(await store.series({ node: NODE }), name).toEqual(await memory.store.series({}));
        expect(await store.series({ node: 'elsewhere' }), name).toEqual([]);
        expect((await store.trace(501))?.node, name).toBe(NODE);
      }
      for (const { name, store } of stores) {
        expect(
          (await readAllTraces(store, {})).items.every((t) => t.node === NODE),
          name,
        ).toBe(true);
        expect(
          (await store.series({})).every((p) => p.node === NODE),
          name,
        ).toBe(true);
      }
    } finally {
      await closeAll(stores);
    }
  });

  it('a span stored again replaces its trace and moves to the front', async () => {
    const stores = makeStores(server);
    try {
      const first = traceOf(7, 'delivery.attempt-start', 100, [], 0);
      const other = traceOf(8, 'delivery.attempt-start', 100, [], 0);
      const again = { ...traceOf(7, 'delivery.attempt-start', 100, [], 0), truncated: 3 };
      for (const { store } of stores) {
        await store.append({ traces: [first, other] });
        await store.append({ traces: [again] });
      }
      await sameTraces(stores, {});
      await sameTraces(stores, { limit: 1 });
    } finally {
      await closeAll(stores);
    }
  });

  it('purges by age alike; by count, as the persistent stores do', async () => {
    const stores = makeStores(server);
    const RETENTION = {
      events: { maxAge: 1e12, capacity: 1e9 },
      traces: { maxAge: 1e12, capacity: 1e9 },
      series: { maxAge: 1e12, capacity: 1e9 },
    };
    const [memory, sqlite, pg] = stores as [NamedStore, NamedStore, NamedStore];
    try {
      const events = sampleEvents();
      const traces = [1, 2, 3].map((n) => traceOf(n, 'delivery.attempt-start', n * 100, [], 0));
      const series = [1, 2, 3].map((t) => ({
        metric: 'queue.count',
        kind: 'gauge' as const,
        labels: {},
        timestamp: t,
        value: t,
      }));
      const stored = [traces[2], traces[0], traces[1]].flatMap((t) => (t === undefined ? [] : [t]));
      for (const { store } of stores) await store.append({ events, traces: stored, series });
      // By age: every store, the memory store included.
      const early = { ...RETENTION, traces: { maxAge: 850, capacity: 1e9 }, series: { maxAge: 999, capacity: 1e9 } };
      for (const { store } of stores) await store.purge(early, 1001);
      for (const { store } of stores) await store.purge({ ...RETENTION, events: { maxAge: 1000, capacity: 1e9 } }, 12_500);
      await sameEvents(stores, {});
      await sameEvents(stores, { keys: { remoteIp: '198.51.100.1' } });
      await sameTraces(stores, {});
      expect(await pg.store.series({})).toEqual(await memory.store.series({}));
      expect((await memory.store.series({})).map((p) => p.value)).toEqual([2, 3]);
      // By count: the memory store's capacities are fixed when it is made, so the persistent stores answer alike.
      for (const store of [sqlite.store, pg.store])
        await store.purge(
          { events: { maxAge: 1e12, capacity: 2 }, traces: { maxAge: 1e12, capacity: 1 }, series: { maxAge: 1e12, capacity: 1 } },
          12_500,
        );
      const persistent = [sqlite, pg];
      await sameEvents(persistent, {});
      expect((await readAllEvents(pg.store, {})).items.map((e) => e.id)).toEqual([1014, 1013]);
      await sameTraces(persistent, {});
      expect((await readAllTraces(pg.store, {})).items.map((t) => t.id)).toEqual([2]);
      expect(await pg.store.series({})).toEqual(await sqlite.store.series({}));
      expect((await pg.store.series({})).map((p) => p.value)).toEqual([3]);
    } finally {
      await closeAll(stores);
    }
  });

  it('agrees with the memory store on random events and queries (model test)', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArbitrary,
        fc.array(eventQueryArbitrary, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 4 }),
        async (events: HistoryEvent[], queries: EventQuery[], batches: number) => {
          const stores = makeStores(server);
          try {
            // The same events, appended in one batch or several.
            const size = Math.ceil(events.length / batches) || 1;
            for (let i = 0; i < events.length; i += size)
              for (const { store } of stores) await store.append({ events: events.slice(i, i + size) });
            for (const query of queries) await sameEvents(stores, query);
            const spans = [1, 2, 3, 'text-span'] as const;
            const traces = spans.map((span, i) =>
              traceOf(
                span,
                'smtp.connection-start',
                100_000 + i,
                events.filter((e) => e.spanId === span),
                0,
              ),
            );
            for (const { store } of stores) await store.append({ traces });
            for (const q of [
              {},
              { queueId: 'q1' },
              { queueId: 7 },
              { keywords: 'über' },
              { keywords: '"alice@example.org"' },
              { limit: 1 },
            ])
              await sameTraces(stores, q);
            for (const span of spans)
              expect(plain(await stores[2]?.store.trace(span))).toEqual(plain(await stores[0]?.store.trace(span)));
          } finally {
            await closeAll(stores);
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);

  it('rejects a bad cursor the same way for every store', () => {
    expect(() => resolveTraceQuery({ cursor: 'nope' })).toThrow(/cursor/);
  });
});
