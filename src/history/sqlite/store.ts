import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { describeError } from '../../base/errors.js';
import type { SpanId } from '../../catalog/keys.js';
import { nodeOption } from '../node.js';
import { DEFAULT_INDEX_KEYS } from '../options.js';
import type { ResolvedEventQuery, ResolvedTraceQuery } from '../query.js';
import type { SeriesPoint, SeriesQuery } from '../series.js';
import type { AppendResult, HistoryRecords, HistoryStore, RetentionPolicy } from '../store.js';
import type { HistoryEvent, Page, Trace, TraceSummary } from '../types.js';
import { type IndexKeys, indexKeys, type ReadBatch, type Refused, readBatch } from './batch.js';
import { BLOCK_EVENTS, encodeBlock } from './block.js';
import { queryEvents } from './events.js';
import { insertPoint, insertTrace, type Nodes, purgeRecords, querySeries, queryTraces, readTrace } from './records.js';
import { dropReplaced, purgeEvents } from './retention.js';
import { openSchema } from './schema.js';
import { BlockSummaries } from './summaries.js';
import { insertBlock, statement } from './write.js';

/** Options of {@link SqliteHistoryStore}. */
export interface SqliteHistoryStoreOptions {
  /** The database file, created if missing; `':memory:'` for a throwaway database. */
  readonly path: string;
  /**
   * Keys indexed for exact queries (each block keeps a hash of each of its distinct values); other
   * keys, and substring queries, are matched by reading the candidate blocks' lines.
   * @default ['queueId', 'remoteIp', 'from', 'to', 'accountName', 'domain', 'hostname', 'messageId']
   */
  readonly indexKeys?: readonly string[];
  /**
   * The node name written with every record (as a number of the file's `nodes` table), given back
   * in query results and matched by a query's `node`. A file outlives its process: give a stable
   * name to read one process's records after a restart under the same name.
   * @default `${os.hostname()}:${process.pid}`
   */
  readonly node?: string;
}

/**
 * A persistent history store on Node's built-in `node:sqlite` (Node >= 22.13, or 22.5 with
 * `--experimental-sqlite`). One file holds events, span traces and metric series; `purge` applies
 * retention. Events are stored in blocks of up to 256, one row each: the events' data JSON lines,
 * their ids, times, levels, types and span ids, and a hash of each distinct indexed value with the
 * lines that hold it. A query picks blocks by summaries kept in memory, reads them, and checks
 * their lines with the memory store's own matchers. Data round-trips through JSON: dates come back
 * as ISO strings, byte arrays as base64.
 *
 * Durability: the file is in WAL mode with `synchronous = NORMAL`, one transaction per append. A
 * committed append survives a crash of the process; a crash of the machine (power loss, kernel
 * panic) may lose the last transactions committed before it, never the file's consistency. The WAL
 * grows to about 32 MiB (8192 pages) before it is copied back into the database file. A file
 * written by an earlier version (a row per event) has its events moved into blocks when it is opened.
 */
export class SqliteHistoryStore implements HistoryStore {
  /** The node name written with this store's records. */
  readonly node: string;
  readonly #db: DatabaseSync;
  /** This store's node, as the number its rows carry. */
  readonly #nodeId: number;
  /** Node numbers of the file, with their names. */
  readonly #nodeNames = new Map<number, string>();
  readonly #keys: IndexKeys;
  readonly #summaries = new BlockSummaries();
  readonly #nodes: Nodes;
  #open = true;
  #rejected = 0;

  constructor(options: SqliteHistoryStoreOptions | string) {
    const o = typeof options === 'string' ? { path: options } : options;
    if (typeof o.path !== 'string' || o.path === '') throw new TypeError('SqliteHistoryStore: expected a database path');
    this.#keys = indexKeys(o.indexKeys ?? DEFAULT_INDEX_KEYS);
    this.node = nodeOption(o.node, 'SqliteHistoryStore(options).node');
    this.#db = new DatabaseSync(o.path);
    openSchema(this.#db, this.#keys);
    this.#db.prepare('INSERT OR IGNORE INTO nodes (name) VALUES (?)').run(this.node);
    this.#nodeId = this.#nodeNumber(this.node) as number;
    this.#nodes = {
      name: (id) => this.#nodeName(id),
      filter: (node, where, args) => this.#nodeFilter(node, where, args),
    };
  }

  /** Events refused since the store was opened (unreadable, or rejected by the database). */
  get rejected(): number {
    return this.#rejected;
  }

  /**
   * One transaction per append. The events are read first (their data written with `dataJson`, an
   * event record's shared copy, so nothing is serialised twice), then stored in blocks of up to
   * 256; a stored event of this node with an id the batch holds again is replaced. An event that
   * cannot be read costs itself alone; a block the database refuses is rolled back and its events
   * written again one block each, so a refused event too costs itself alone. Either is counted in
   * the result, never its batch. Traces and series are written a row each: a failure there fails
   * (and rolls back) the whole append.
   */
  append(records: HistoryRecords): AppendResult | undefined {
    const refused: Refused = { rejected: 0, reason: undefined };
    this.#transaction(() => {
      const events = records.events;
      if (events !== undefined && events.length > 0) this.#appendEvents(readBatch(events, this.#keys, refused), refused);
      for (const t of records.traces ?? []) insertTrace(this.#db, t, this.#nodeId);
      for (const p of records.series ?? []) insertPoint(this.#db, p, this.#nodeId);
    });
    const { rejected, reason } = refused;
    if (rejected === 0) return undefined;
    this.#rejected += rejected;
    return { rejected, reason: reason as string };
  }

  events(q: ResolvedEventQuery): Page<HistoryEvent> {
    let node: number | undefined;
    if (q.node !== undefined) {
      node = this.#nodeNumber(q.node);
      if (node === undefined) return { items: [] };
    }
    // One read transaction: the blocks chosen are the blocks read, whatever other processes write.
    let page: Page<HistoryEvent> = { items: [] };
    this.#transaction(() => {
      page = queryEvents(this.#db, this.#summaries, q, node, (id) => this.#nodeName(id));
    });
    return page;
  }

  traces(q: ResolvedTraceQuery): Page<TraceSummary> {
    return queryTraces(this.#db, this.#nodes, q);
  }

  trace(id: SpanId): Trace | undefined {
    return readTrace(this.#db, this.#nodes, String(id));
  }

  series(query: SeriesQuery): readonly SeriesPoint[] {
    return querySeries(this.#db, this.#nodes, query);
  }

  purge(retention: RetentionPolicy, now: number): void {
    this.#transaction(() => {
      purgeEvents(this.#db, now - retention.events.maxAge, retention.events.capacity);
      purgeRecords(
        this.#db,
        { cut: now - retention.traces.maxAge, capacity: retention.traces.capacity },
        { cut: now - retention.series.maxAge, capacity: retention.series.capacity },
      );
    });
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#db.close();
  }

  #appendEvents(batch: ReadBatch, refused: Refused): void {
    const { columns, order } = batch;
    if (order.length === 0) return;
    dropReplaced(
      this.#db,
      this.#nodeId,
      order.map((e) => columns.ids[e] as number),
    );
    for (let start = 0; start < order.length; start += BLOCK_EVENTS) {
      const chunk = order.slice(start, start + BLOCK_EVENTS);
      if (this.#tryBlock(batch, chunk) === undefined) continue;
      // One block per event, so that the one the database refuses costs itself alone.
      for (const e of chunk) {
        const error = this.#tryBlock(batch, [e]);
        if (error === undefined) continue;
        refused.rejected++;
        refused.reason ??= describeError(error);
      }
    }
  }

  /** Writes one block under a savepoint; returns what the database said when it refused it. */
  #tryBlock(batch: ReadBatch, chunk: readonly number[]): unknown {
    this.#db.exec('SAVEPOINT block');
    try {
      insertBlock(this.#db, encodeBlock(batch.columns, chunk, this.#nodeId, this.#keys.keyset));
      this.#db.exec('RELEASE block');
      return undefined;
    } catch (error) {
      this.#db.exec('ROLLBACK TO block');
      this.#db.exec('RELEASE block');
      return error ?? new Error('refused');
    }
  }

  /** Adds a query's node filter; false when no record can match (a node this file never saw). */
  #nodeFilter(node: string | undefined, where: string[], args: SQLInputValue[]): boolean {
    if (node === undefined) return true;
    const id = this.#nodeNumber(node);
    if (id === undefined) return false;
    where.push('node = ?');
    args.push(id);
    return true;
  }

  /** The number of node `name` in this file, if it has one. */
  #nodeNumber(name: string): number | undefined {
    const row = statement(this.#db, 'SELECT id FROM nodes WHERE name = ?').get(name) as { id: number } | undefined;
    return row?.id;
  }

  /** The name of node number `id` (another process may have added it since this one looked). */
  #nodeName(id: number | null | undefined): string | undefined {
    if (id === null || id === undefined) return undefined;
    let name = this.#nodeNames.get(id);
    if (name === undefined) {
      const row = statement(this.#db, 'SELECT name FROM nodes WHERE id = ?').get(id) as { name: string } | undefined;
      name = row?.name;
      if (name !== undefined) this.#nodeNames.set(id, name);
    }
    return name;
  }

  #transaction(work: () => void): void {
    this.#db.exec('BEGIN');
    try {
      work();
      this.#db.exec('COMMIT');
    } catch (error) {
      // Some errors (a full disk, I/O) end the transaction themselves: the error to report is the first.
      try {
        this.#db.exec('ROLLBACK');
      } catch {
        // nothing left to roll back
      }
      throw error;
    }
  }
}
