/**
 * The stores the conformance suite holds side by side: the memory store (the reference), the
 * sqlite store and the postgres store, each made fresh and empty, with one set of index keys.
 */
import { randomBytes } from 'node:crypto';
import { resolveEventQuery, resolveTraceQuery } from '../../../src/history/query.js';
import type { HistoryStore } from '../../../src/history/store.js';
import {
  type EventQuery,
  type HistoryEvent,
  MemoryHistoryStore,
  type TraceQuery,
  type TraceSummary,
} from '../../../src/index.js';
import { PostgresHistoryStore } from '../../../src/postgres.js';
import { SqliteHistoryStore } from '../../../src/sqlite.js';
import type { PostgresServer } from '../../support/postgres.js';

export const KEYS = ['remoteIp', 'to', 'queueId', 'from'];
/** The node every store of the suite writes as. */
export const NODE = 'conformance';

export interface NamedStore {
  readonly name: 'memory' | 'sqlite' | 'postgres';
  readonly store: HistoryStore;
}

/** A fresh, unused schema name, so that each test has a database of its own on one server. */
export function freshSchema(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

export function makeStores(server: PostgresServer): NamedStore[] {
  return [
    {
      name: 'memory',
      store: new MemoryHistoryStore({ events: 10_000, traces: 1000, series: 10_000, indexKeys: KEYS, node: NODE }),
    },
    { name: 'sqlite', store: new SqliteHistoryStore({ path: ':memory:', indexKeys: KEYS, node: NODE }) },
    {
      name: 'postgres',
      store: new PostgresHistoryStore({
        connection: server.connection(),
        schema: freshSchema(),
        node: NODE,
        indexKeys: KEYS,
      }),
    },
  ];
}

export async function closeAll(stores: readonly NamedStore[]): Promise<void> {
  for (const { store } of stores) await store.close?.();
}

/** Plain JSON, so that a record and its parsed copy compare equal. */
export const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

/** Every page of an events query, as the page sizes and the items in order. */
export async function readAllEvents(store: HistoryStore, query: EventQuery): Promise<{ pages: number[]; items: HistoryEvent[] }> {
  const items: HistoryEvent[] = [];
  const pages: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.events(resolveEventQuery({ ...query, ...(cursor === undefined ? {} : { cursor }) }));
    pages.push(page.items.length);
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined && pages.length < 1000);
  return { pages, items };
}

export async function readAllTraces(
  store: HistoryStore,
  query: TraceQuery,
): Promise<{ pages: number[]; totals: (number | undefined)[]; items: TraceSummary[] }> {
  const items: TraceSummary[] = [];
  const pages: number[] = [];
  const totals: (number | undefined)[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.traces(resolveTraceQuery({ ...query, ...(cursor === undefined ? {} : { cursor }) }));
    pages.push(page.items.length);
    totals.push(page.total);
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined && pages.length < 1000);
  return { pages, totals, items };
}
