/**
 * History figures: what the default history adds per event, the cost of appending an event to the in-memory ring, the heap each stored event
 * takes at 1,000,000 events, the median time of a key query over 1,000,000 events, in memory
 * and in the sqlite store (a real file), and the sqlite store's insert cost per event.
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
  type TelemetryEvent,
} from '../dist/index.js';
import type { Figure } from './harness.js';
import { median, yieldToLoop } from './stats.js';

export const MILLION = 1_000_000;
export const DISTINCT_IPS = 50_000;
export const INDEX_KEYS = ['queueId', 'remoteIp', 'from', 'to', 'accountName', 'domain', 'hostname', 'messageId'];
const TYPES = ['smtp.ehlo', 'smtp.mail-from', 'smtp.rcpt-to', 'queue.message-queued', 'smtp.connection-end'] as const;
const LEVELS = ['info', 'info', 'info', 'info', 'debug'] as const;
const BASE_ID = 2 ** 40;

export const ip = (n: number) => `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/**
 * Event `i` of a stream of five-event SMTP sessions: each session has its own span, client address
 * (one of 50,000) and sender; every event carries the session's keys, as span-merged data does.
 */
let sessionOf = -1;
let sessionIp = '';

export function event(i: number, start = Date.UTC(2026, 0, 1)): HistoryEvent {
  const session = Math.floor(i / 5);
  const step = i % 5;
  const spanId = BASE_ID + session * 8;
  // The span's keys are one object in the core, so its events share the same strings.
  if (session !== sessionOf) {
    sessionOf = session;
    sessionIp = ip(session % DISTINCT_IPS);
  }
  const data: Record<string, unknown> = { spanId, remoteIp: sessionIp, remotePort: 40_000 + (session % 20_000) };
  if (step === 0) data.domain = `host${session % 5000}.example.net`;
  else if (step === 1) data.from = `user${session % 20_000}@example.org`;
  else if (step === 2) data.to = `rcpt${session % 30_000}@example.com`;
  else if (step === 3) {
    data.queueId = session;
    data.size = 1000 + (session % 50_000);
  } else data.elapsed = session % 3000;
  return {
    id: BASE_ID + i,
    type: TYPES[step] as string,
    level: LEVELS[step] as 'info',
    timestamp: start + Math.floor(i / 10),
    spanId,
    data,
  };
}

function fill(store: HistoryStore, count: number, batch = 4096): void {
  for (let i = 0; i < count; i += batch) {
    const events: HistoryEvent[] = [];
    for (let j = i; j < Math.min(count, i + batch); j++) events.push(event(j));
    void store.append({ events });
  }
}

/** Runs the same exact `remoteIp` query (about 20 matches, so the whole ring is scanned) `runs` times. */
async function keyQueryMedian(store: HistoryStore, runs: number): Promise<{ ms: number; found: number }> {
  const telemetry = createTelemetry({ history: { store, traces: false, series: false, capacity: MILLION } });
  const times: number[] = [];
  let found = 0;
  for (let r = 0; r < runs; r++) {
    const address = ip((r * 7919) % DISTINCT_IPS);
    const start = process.hrtime.bigint();
    const page = await telemetry.history.events({ keys: { remoteIp: address } });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (page.items.some((e) => e.data.remoteIp !== address)) throw new Error('wrong match');
    found = page.items.length;
  }
  await telemetry.shutdown();
  return { ms: median(times), found };
}

/** Session `s` of the fills: five steps in a span, with a queued message `queueId`. */
function session(telemetry: Telemetry, s: number, queueId: string | number): void {
  const span = telemetry.span('smtp.connection-start', {
    remoteIp: ip(s % DISTINCT_IPS),
    remotePort: 40_000 + (s % 20_000),
    listenerId: 'mx',
    localPort: 25,
  });
  span.emit('smtp.ehlo', { domain: `host${s % 5000}.example.net` });
  span.emit('smtp.mail-from', { from: `user${s % 20_000}@example.org` });
  span.emit('smtp.rcpt-to', { to: `rcpt${s % 30_000}@example.com` });
  span.emit('queue.message-queued', { queueId, size: 1000 + (s % 50_000) });
  span.end({ elapsed: s % 3000 });
}

/**
 * Fills a telemetry as a mail server would: `sessions` SMTP sessions (a queued message each, so
 * each is kept as a trace), with a metric snapshot every `snapshotEvery` sessions.
 */
async function serve(telemetry: Telemetry, sessions: number, snapshotEvery: number): Promise<void> {
  for (let s = 0; s < sessions; s++) {
    session(telemetry, s, `q${s}`);
    if (s % 500 === 499) await telemetry.flush();
    if (s % snapshotEvery === snapshotEvery - 1) await telemetry.history.snapshot();
  }
  await telemetry.flush();
}

export const figures: Record<string, () => Promise<Figure>> = {
  historyDefaultHeap: async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    const heap = () => {
      gc?.();
      gc?.();
      return process.memoryUsage().heapUsed;
    };
    // The same work three times: with no history (which also pays what a first instance allocates
    // once, such as shared caches), with the default history, and with none again; the history is
    // the second's heap past the third's.
    const sessions = 12_000;
    const warm = createTelemetry({ history: false });
    await serve(warm, sessions, 1);
    const h0 = heap();
    const withHistory = createTelemetry();
    await serve(withHistory, sessions, 1);
    const h1 = heap();
    const without = createTelemetry({ history: false });
    await serve(without, sessions, 1);
    const h2 = heap();
    const events = (await withHistory.history.events({ limit: 10_000 })).items.length;
    const traces = (await withHistory.history.traces({ limit: 10_000, from: 0 })).total ?? 0;
    const points = (await withHistory.history.series({})).length;
    if (events < 10_000 || traces < 1000 || points < 10_000) throw new Error(`not full: ${events} ${traces} ${points}`);
    const bytes = h1 - h0 - (h2 - h1);
    for (const telemetry of [warm, withHistory, without]) await telemetry.shutdown();
    return {
      title: 'history: heap of the default in-memory history once full (10,000 events, 1,000 traces, 10,000 series points)',
      value: bytes / 2 ** 20,
      unit: 'MiB',
      limit: { atMost: 8 },
      note: `a telemetry's heap past one without history, after ${sessions.toLocaleString('en-US')} SMTP sessions of 6 events (4 kept at info) with a snapshot after each; ${gc === undefined ? 'run without --expose-gc: the figure includes garbage' : 'measured after two full GCs'}`,
    };
  },

  historyPerEvent: async () => {
    // What the default history adds to each event, emit to stored: the same sessions through an
    // instance with it and one without, alternating, the difference of the medians.
    const perEvent = async (history: boolean): Promise<number> => {
      const telemetry = createTelemetry(history ? {} : { history: false });
      const run = async (from: number, sessions: number) => {
        for (let s = from; s < from + sessions; s++) {
          session(telemetry, s, `q${s}`);
          if (s % 200 === 199) await yieldToLoop();
        }
        await telemetry.flush();
      };
      await run(0, 20_000);
      const start = process.hrtime.bigint();
      await run(20_000, 60_000);
      const ns = Number(process.hrtime.bigint() - start) / (60_000 * 6);
      await telemetry.shutdown();
      return ns;
    };
    const on: number[] = [];
    const off: number[] = [];
    for (let r = 0; r < 5; r++) {
      off.push(await perEvent(false));
      on.push(await perEvent(true));
    }
    return {
      title: 'history: what the default history adds per event, emit to stored (ring, span traces, message records)',
      value: median(on) - median(off),
      unit: 'ns/event',
      note: `five-event SMTP sessions with a queued message each, the span's start and end included; ${Math.round(median(on))} ns/event with it, ${Math.round(median(off))} without, medians of 5 alternating instances`,
    };
  },

  historyAppend: async () => {
    // A ring of 100,000 kept full: each append overwrites (and un-indexes) the oldest event.
    const pool = Array.from({ length: 200_000 }, (_, i) => event(i));
    const store = new MemoryHistoryStore({ events: 100_000, indexKeys: INDEX_KEYS });
    const append = (from: number, to: number) => store.append({ events: pool.slice(from, to) });
    for (let i = 0; i < pool.length; i += 1024) append(i, i + 1024);
    const runs: number[] = [];
    for (let r = 0; r < 9; r++) {
      const batches: HistoryEvent[][] = [];
      for (let i = 0; i < pool.length; i += 1024) batches.push(pool.slice(i, i + 1024));
      const start = process.hrtime.bigint();
      for (const events of batches) store.append({ events });
      runs.push(Number(process.hrtime.bigint() - start) / pool.length);
    }
    return {
      title: 'history: append one event to the in-memory ring (8 indexed keys, full ring)',
      value: median(runs),
      unit: 'ns/event',
    };
  },

  historyHeap: async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const before = process.memoryUsage().heapUsed;
    const store = new MemoryHistoryStore({ events: MILLION, indexKeys: INDEX_KEYS });
    fill(store, MILLION);
    gc?.();
    gc?.();
    const after = process.memoryUsage().heapUsed;
    const check = store.events({
      types: undefined,
      from: Number.NEGATIVE_INFINITY,
      to: Number.POSITIVE_INFINITY,
      minLevel: 0,
      keys: [],
      text: undefined,
      spanId: undefined,
      limit: 1,
      before: undefined,
    });
    if (!('items' in check) || check.items.length !== 1) throw new Error('store is empty');
    return {
      title: 'history: heap per stored event, 1,000,000 events (data objects included)',
      value: (after - before) / MILLION,
      unit: 'bytes/event',
      note: gc === undefined ? 'run without --expose-gc: the figure includes garbage' : 'measured after two full GCs',
    };
  },

  historyKeyQuery: async () => {
    const store = new MemoryHistoryStore({ events: MILLION, indexKeys: INDEX_KEYS });
    fill(store, MILLION);
    const { ms, found } = await keyQueryMedian(store, 31);
    return {
      title: 'history: exact remoteIp query over 1,000,000 events in memory (median of 31)',
      value: ms,
      unit: 'ms',
      limit: { atMost: 100 },
      note: `${found} matches per query, whole ring scanned`,
    };
  },

  historySqliteKeyQuery: async () => {
    // Imported here: node:sqlite needs Node >= 22.13 (or a flag), and the other figures must run without it.
    const { SqliteHistoryStore } = await import('../dist/sqlite.js');
    const dir = mkdtempSync(join(tmpdir(), 'mail-telemetry-bench-history-'));
    try {
      const store = new SqliteHistoryStore({ path: join(dir, 'history.db'), indexKeys: INDEX_KEYS });
      const start = process.hrtime.bigint();
      fill(store, MILLION, 10_000);
      const insertNs = Number(process.hrtime.bigint() - start) / MILLION;
      const { ms, found } = await keyQueryMedian(store, 31);
      return {
        title: 'history: the same query on the sqlite store, 1,000,000 events in a file (median of 31)',
        value: ms,
        unit: 'ms',
        note: `${found} matches per query; inserting cost ${Math.round(insertNs).toLocaleString('en-US')} ns/event`,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  historySqliteInsert: async () => {
    const { SqliteHistoryStore } = await import('../dist/sqlite.js');
    // Real event records, as the history hands them over: span keys merged, data JSON not yet written.
    const records = await sessionRecords(20_000);
    const dir = mkdtempSync(join(tmpdir(), 'mail-telemetry-bench-history-'));
    const runs: number[] = [];
    try {
      for (let r = 0; r < 5; r++) {
        // Fresh records each run, so no run finds the data JSON written by the one before.
        const pool = r === 0 ? records : await sessionRecords(20_000);
        const store = new SqliteHistoryStore({ path: join(dir, `insert-${r}.db`), indexKeys: INDEX_KEYS });
        const start = process.hrtime.bigint();
        // The history's batches: at most 1024 events (its intake's maxBatch), one append each.
        for (let i = 0; i < pool.length; i += 1024) store.append({ events: pool.slice(i, i + 1024) });
        runs.push(Number(process.hrtime.bigint() - start) / pool.length / 1000);
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const us = median(runs);
    const sorted = [...runs].sort((a, b) => a - b);
    return {
      title: 'history: sqlite store insert cost per event (file, 1024-event appends, 8 indexed keys)',
      value: us,
      unit: 'µs/event',
      note: `${Math.round(1e6 / us).toLocaleString('en-US')} events/s on one core; median of 5 runs of ${records.length.toLocaleString('en-US')} events, range ${(sorted[0] as number).toFixed(2)}–${(sorted.at(-1) as number).toFixed(2)} µs`,
    };
  },
};

/**
 * Event records of `sessions` five-step SMTP sessions (six events each, the span's start and end
 * included), as a subscriber receives them.
 */
export async function sessionRecords(sessions: number): Promise<HistoryEvent[]> {
  const telemetry = createTelemetry({});
  const out: HistoryEvent[] = [];
  telemetry.subscribe(
    { events: ['smtp.*', 'queue.*'], level: 'debug', maxQueue: 10_000_000 },
    (batch: readonly TelemetryEvent[]) => {
      for (const event of batch) out.push(event as HistoryEvent);
    },
  );
  for (let s = 0; s < sessions; s++) {
    session(telemetry, s, s);
    if (s % 1000 === 999) await telemetry.flush();
  }
  await telemetry.flush();
  await telemetry.shutdown();
  return out;
}
