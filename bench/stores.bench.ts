/**
 * History store figures, one run per store (memory, sqlite on a file, PostgreSQL started for the
 * run from Debian's `postgresql`, as the tests do): the insert rate while 1,000,000 events go in
 * (1024-event appends, as the history's intake hands them over), then the median and 99th
 * percentile time of representative queries over those events, through `telemetry.history`:
 *   - events by remote IP (exact; about 20 matches),
 *   - events by recipient (exact; about 7 matches),
 *   - events by queue id (exact; one match),
 *   - the newest page of the trace list (100 of 20,000 traces, with the total).
 * `npx tsx bench/index.ts historyStoreMemory` (or …Sqlite, …Postgres) runs one alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTelemetry,
  type HistoryEvent,
  type HistoryStore,
  MemoryHistoryStore,
  type Telemetry,
  type Trace,
} from '../dist/index.js';
import type { Figure } from './harness.js';
import { DISTINCT_IPS, event, INDEX_KEYS, ip, MILLION } from './history.bench.js';

/** Events per append: the history's intake batch. */
const BATCH = 1024;
/** Runs of each query. */
const RUNS = 200;
/** One trace for every tenth five-event session: 20,000 traces over the 1,000,000 events. */
const TRACE_EVERY = 10;

/** The trace of session `session`, whose events are `events` (as the collector would build it). */
function traceOf(session: number, events: readonly HistoryEvent[]): Trace {
  const first = events[0] as HistoryEvent;
  const to = `rcpt${session % 30_000}@example.com`;
  const from = `user${session % 20_000}@example.org`;
  const size = 1000 + (session % 50_000);
  return {
    id: first.spanId as number,
    type: 'smtp.connection-start',
    timestamp: first.timestamp,
    queueId: String(session),
    from,
    to: [to],
    size,
    messages: [{ queueId: String(session), from, to: [to], size }],
    truncated: 0,
    keywords: [`host${session % 5000}.example.net`, ip(session % DISTINCT_IPS), from, to].join('\n'),
    events,
  };
}

/** Fills `store` with 1,000,000 events (and 20,000 traces); returns the insert rate in events/s. */
async function fill(store: HistoryStore, start: number): Promise<number> {
  let elapsed = 0n;
  for (let i = 0; i < MILLION; i += BATCH) {
    const events: HistoryEvent[] = [];
    const traces: Trace[] = [];
    for (let j = i; j < Math.min(MILLION, i + BATCH); j++) {
      events.push(event(j, start));
      const session = Math.floor(j / 5);
      if (j % 5 === 4 && session % TRACE_EVERY === 0) traces.push(traceOf(session, events.slice(-5)));
    }
    const began = process.hrtime.bigint();
    await store.append({ events });
    elapsed += process.hrtime.bigint() - began;
    // Traces are not counted in the insert rate: they are what the events are, stored again.
    if (traces.length > 0) await store.append({ traces });
  }
  return MILLION / (Number(elapsed) / 1e9);
}

interface QueryCase {
  readonly title: string;
  run(telemetry: Telemetry, r: number): Promise<number>;
}

const sessions = MILLION / 5;

const QUERIES: readonly QueryCase[] = [
  {
    title: 'events by remoteIp (exact)',
    run: async (t, r) => (await t.history.events({ keys: { remoteIp: ip((r * 7919) % DISTINCT_IPS) } })).items.length,
  },
  {
    title: 'events by recipient (to, exact)',
    run: async (t, r) => (await t.history.events({ keys: { to: `rcpt${(r * 7919) % 30_000}@example.com` } })).items.length,
  },
  {
    title: 'events by queueId (exact)',
    run: async (t, r) => (await t.history.events({ keys: { queueId: (r * 7919) % sessions } })).items.length,
  },
  {
    title: 'trace list, newest page of 100 (with total)',
    run: async (t) => (await t.history.traces({ limit: 100 })).items.length,
  },
];

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** The insert rate, then each query's p50 (p99 in the note), over one filled store. */
async function storeFigures(
  name: string,
  store: HistoryStore,
  note: string,
  afterFill: () => Promise<void> = async () => undefined,
): Promise<Figure[]> {
  const start = Date.now() - MILLION / 10;
  const rate = await fill(store, start);
  await afterFill();
  const telemetry = createTelemetry({
    history: { store, series: false, traces: { capacity: 1_000_000 }, capacity: MILLION, indexKeys: INDEX_KEYS },
  });
  const figures: Figure[] = [
    {
      title: `history store ${name}: insert 1,000,000 events`,
      value: rate,
      unit: 'events/s',
      note: `${(1e6 / rate).toFixed(2)} µs/event, ${BATCH}-event appends, 8 indexed keys; ${note}`,
    },
  ];
  for (const query of QUERIES) {
    const times: number[] = [];
    let found = 0;
    // A few runs first, so that the figure is of a warm process (and a warm database cache).
    for (let r = -10; r < RUNS; r++) {
      const began = process.hrtime.bigint();
      found = await query.run(telemetry, r + 10);
      if (r >= 0) times.push(Number(process.hrtime.bigint() - began) / 1e6);
    }
    if (found === 0) throw new Error(`${name}: ${query.title} found nothing`);
    times.sort((a, b) => a - b);
    figures.push({
      title: `history store ${name}: ${query.title} over 1,000,000 events, p50`,
      value: percentile(times, 50),
      unit: 'ms',
      note: `p99 ${percentile(times, 99).toPrecision(3)} ms over ${RUNS} queries; ${found} item(s) in the last answer`,
    });
  }
  await telemetry.shutdown();
  return figures;
}

export const figures: Record<string, () => Promise<Figure[]>> = {
  historyStoreMemory: async () => {
    const store = new MemoryHistoryStore({ events: MILLION, traces: 1_000_000, series: 1, indexKeys: INDEX_KEYS });
    return storeFigures('memory', store, 'plain event objects');
  },

  historyStoreSqlite: async () => {
    const { SqliteHistoryStore } = await import('../dist/sqlite.js');
    const dir = mkdtempSync(join(tmpdir(), 'mail-telemetry-bench-stores-'));
    try {
      const store = new SqliteHistoryStore({ path: join(dir, 'history.db'), indexKeys: INDEX_KEYS });
      return await storeFigures('sqlite', store, 'a file in WAL mode, synchronous = NORMAL, events in blocks of 256');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  historyStorePostgres: async () => {
    const { findProgram } = await import('../test/support/programs.js');
    const { startPostgres } = await import('../test/support/postgres.js');
    const { PostgresHistoryStore } = await import('../dist/postgres.js');
    const bin = findProgram('postgres');
    if (bin === undefined) throw new Error('PostgreSQL not found: install Debian’s postgresql (apt-get install postgresql)');
    const server = await startPostgres(bin);
    try {
      const store = new PostgresHistoryStore({ connection: server.connection(), schema: 'bench', indexKeys: INDEX_KEYS });
      const result = await storeFigures(
        'postgres',
        store,
        'a local server (loopback TCP, fsync off, shared_buffers 16 MB, as the tests start it)',
        // ANALYZE after the load, as autovacuum soon would: the planner sees the tables as they are.
        () => analyze(server.connection()),
      );
      return result;
    } finally {
      await server.destroy();
    }
  },
};

/** Runs ANALYZE on the whole database. */
async function analyze(connection: object): Promise<void> {
  const pg = (await import('pg')).default;
  const client = new pg.Client(connection);
  await client.connect();
  try {
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}
