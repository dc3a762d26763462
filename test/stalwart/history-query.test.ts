/**
 * History queries made from code (`telemetry.history.events(…)`, `traces(…)`, a store's `events`)
 * take Stalwart 0.15's names of the events 0.16 renamed, by name and by wildcard, as the HTTP
 * handler does: the query is translated once (src/history/query.ts), so every store (memory,
 * SQLite, PostgreSQL) selects the 0.16 events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/index.js';
import { closeAll, makeStores, readAllEvents } from '../history/conformance/stores.js';
import { needsProgram } from '../support/needs-program.js';
import { type PostgresServer, startPostgres } from '../support/postgres.js';
import { makeClocked } from '../support/telemetry.js';

const T0 = Date.UTC(2026, 0, 1);
const types = (items: readonly HistoryEvent[]) => items.map((e) => e.type).sort();

const QUERIES: [readonly string[], readonly string[]][] = [
  [['queue.queue-message'], ['queue.message-queued']],
  [['queue.queue-*'], ['queue.authenticated-message-queued', 'queue.dsn-queued', 'queue.message-queued']],
  [
    ['acme.dns-record-*', 'telemetry.alert'],
    ['dns.record-created', 'dns.record-propagated', 'telemetry.alert-event'],
  ],
  [
    ['message-ingest.fts-index', 'queue.message-queued'],
    ['message-ingest.search-index', 'queue.message-queued'],
  ],
  // A wildcard over both names selects each event once.
  [['queue.*queue*'], ['queue.authenticated-message-queued', 'queue.dsn-queued', 'queue.message-queued']],
  [['*.dns-record-created'], ['dns.record-created']],
];

const EMITTED = [
  'queue.message-queued',
  'queue.authenticated-message-queued',
  'queue.dsn-queued',
  'dns.record-created',
  'dns.record-propagated',
  'telemetry.alert-event',
  'message-ingest.search-index',
  'smtp.mail-from',
] as const;

describe('history queries from code take 0.15 names', () => {
  it('telemetry.history.events: names and wildcards select the renamed events', async () => {
    const telemetry = makeClocked({ history: {} });
    telemetry.clock.now = T0;
    for (const name of EMITTED) telemetry.emit(name, {});
    await telemetry.flush();
    for (const [query, expected] of QUERIES) {
      const page = await telemetry.history.events({ types: query });
      expect(types(page.items), query.join()).toEqual(expected);
    }
  });

  it('telemetry.history.traces: a 0.15 type is its 0.16 event', async () => {
    const telemetry = makeClocked({ history: {} });
    const old = await telemetry.history.traces({ type: 'queue.queue-message' });
    const now = await telemetry.history.traces({ type: 'queue.message-queued' });
    expect(old).toEqual(now);
  });
});

const postgres = needsProgram('postgres');
let server: PostgresServer;

postgres.describe('every store selects the renamed events by their 0.15 names', () => {
  beforeAll(async () => {
    server = await startPostgres(postgres.path);
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  });

  it('memory, sqlite and postgres', async () => {
    const stores = makeStores(server);
    try {
      const events: HistoryEvent[] = EMITTED.map((type, i) => ({
        id: 100 + i,
        type,
        level: 'info',
        timestamp: T0 + i,
        data: {},
      }));
      for (const { store } of stores) await store.append({ events });
      for (const { name, store } of stores)
        for (const [query, expected] of QUERIES)
          expect(types((await readAllEvents(store, { types: query })).items), `${name}: ${query.join()}`).toEqual(expected);
    } finally {
      await closeAll(stores);
    }
  });
});
