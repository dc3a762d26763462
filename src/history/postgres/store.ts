import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { describeError } from '../../base/errors.js';
import type { SpanId } from '../../catalog/keys.js';
import type { ResolvedEventQuery, ResolvedTraceQuery } from '../query.js';
import type { SeriesPoint, SeriesQuery } from '../series.js';
import type { AppendResult, HistoryRecords, HistoryStore, RetentionPolicy } from '../store.js';
import type { HistoryEvent, Page, Trace, TraceSummary } from '../types.js';
import { type PostgresHistoryStoreOptions, type ResolvedPostgresOptions, resolvePostgresOptions } from './options.js';
import { readEvents, readSeries, readTrace, readTraces } from './read.js';
import { eventRow, pointRow, traceRow } from './rows.js';
import { LOCK_SPACE, migrate } from './schema.js';
import { insertRows, isMissingTable, isRowError, type PendingRow } from './write.js';

/** Counters of a {@link PostgresHistoryStore}. */
export interface PostgresHistoryStats {
  /** This store's node name, written on every row. */
  readonly node: string;
  /** Records (events, traces, series points) held in memory, waiting for the database. */
  readonly pending: number;
  /** Records written. */
  readonly written: number;
  /** Events refused: unreadable, or refused by the database for their content. */
  readonly rejectedEvents: number;
  /** Events dropped unwritten: past `maxPending` while the database could not be reached, or held at `close()`. */
  readonly lostEvents: number;
  /** Traces and series points refused or dropped unwritten, for the same reasons. */
  readonly lostRecords: number;
  /** The last error of the database or the connection, if any. */
  readonly lastError: string | undefined;
}

/** Records written per transaction when many are held. */
const WRITE_BATCH = 5000;

/**
 * A history store on PostgreSQL, for a fleet: many processes or machines write one history into
 * one database, and each of them (or its history HTTP handler) reads all of it. Every row carries
 * the `node` that wrote it. The store creates its tables (in the `schema` option's namespace) and
 * migrates them by version; each append is one transaction of multi-row INSERTs; retention runs in
 * the database.
 *
 * Nothing it does throws into an emitter: a failed write rejects the append, which the history
 * reports as `telemetry.subscriber-error`. While the database cannot be reached, the records are
 * held (up to `maxPending`) and written once it can; past that, the oldest are dropped and counted.
 * Data round-trips through JSON, as in the sqlite store.
 */
export class PostgresHistoryStore implements HistoryStore {
  /** The node name this store writes on its rows. */
  readonly node: string;
  readonly #o: ResolvedPostgresOptions;
  readonly #pool: Pool;
  readonly #ownPool: boolean;
  readonly #indexKeys: ReadonlySet<string>;
  #ready: Promise<void> | undefined;
  #pending: PendingRow[] = [];
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #written = 0;
  #rejected = 0;
  #lostEvents = 0;
  #lostRecords = 0;
  /** Events refused or dropped since the last append that could say so. */
  #unreported = 0;
  #unreportedReason: string | undefined;
  #lastError: string | undefined;
  /**
   * The last point id given: ids start from the clock (ms × 1024) and count up, so a process that
   * restarts under the same node name starts past the ids it wrote before.
   */
  #pointId = Date.now() * 1024;
  readonly #onError = (error: unknown) => {
    this.#lastError = describeError(error);
  };

  constructor(options: PostgresHistoryStoreOptions | string = {}) {
    this.#o = resolvePostgresOptions(options);
    this.node = this.#o.node;
    this.#indexKeys = new Set(this.#o.indexKeys);
    this.#ownPool = this.#o.pool === undefined;
    this.#pool = this.#o.pool ?? new Pool(poolConfig(this.#o.connection));
    // An idle client whose server went away is reported here; unheard, it would crash the process.
    this.#pool.on('error', this.#onError);
  }

  stats(): PostgresHistoryStats {
    return {
      node: this.node,
      pending: this.#pending.length,
      written: this.#written,
      rejectedEvents: this.#rejected,
      lostEvents: this.#lostEvents,
      lostRecords: this.#lostRecords,
      lastError: this.#lastError,
    };
  }

  /**
   * Reads the records into rows at once (an event that cannot be read costs itself alone), then
   * writes everything held, in order. Resolves with the events refused or dropped since the last
   * report; rejects when the database cannot be reached, the rows being held for a later attempt.
   */
  append(records: HistoryRecords): Promise<AppendResult | undefined> {
    if (this.#closed) return Promise.reject(new Error('PostgresHistoryStore: the store is closed'));
    for (const event of records.events ?? []) {
      try {
        this.#pending.push({ kind: 'event', row: eventRow(event, this.#indexKeys) });
      } catch (error) {
        this.#refuse(1, describeError(error));
      }
    }
    for (const trace of records.traces ?? []) {
      try {
        this.#pending.push({ kind: 'trace', row: traceRow(trace) });
      } catch (error) {
        this.#lostRecords++;
        this.#lastError = describeError(error);
      }
    }
    for (const point of records.series ?? []) this.#pending.push({ kind: 'point', row: pointRow(point, this.#nextPointId()) });
    return this.#serial(() => this.#drain()).then(
      () => this.#report(),
      (error: unknown) => {
        this.#failed(error);
        throw this.#unavailable(error);
      },
    );
  }

  async events(query: ResolvedEventQuery): Promise<Page<HistoryEvent>> {
    await this.#readable();
    return readEvents(this.#pool, this.#o.schema, this.#o.nodes, this.#indexKeys, query);
  }

  async traces(query: ResolvedTraceQuery): Promise<Page<TraceSummary>> {
    await this.#readable();
    return readTraces(this.#pool, this.#o.schema, this.#o.nodes, query);
  }

  async trace(id: SpanId): Promise<Trace | undefined> {
    await this.#readable();
    return readTrace(this.#pool, this.#o.schema, this.#o.nodes, String(id));
  }

  async series(query: SeriesQuery): Promise<readonly SeriesPoint[]> {
    await this.#readable();
    return readSeries(this.#pool, this.#o.schema, this.#o.nodes, query);
  }

  /**
   * Applies retention to the whole database, every node's records alike. When several nodes purge
   * at once, one does the work and the others skip it.
   */
  async purge(retention: RetentionPolicy, now: number): Promise<void> {
    if (!this.#o.purge || this.#closed) return;
    await this.#ensure();
    const s = this.#o.schema;
    await this.#transaction(async (c) => {
      const lock = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok', [
        LOCK_SPACE,
        `${s}:purge`,
      ]);
      if (lock.rows[0]?.ok !== true) return;
      await c.query(`DELETE FROM ${s}.events WHERE ts < $1`, [now - retention.events.maxAge]);
      await c.query(
        `DELETE FROM ${s}.events WHERE (id, seq) <= (SELECT id, seq FROM ${s}.events ORDER BY id DESC, seq DESC OFFSET $1 LIMIT 1)`,
        [retention.events.capacity],
      );
      await c.query(`DELETE FROM ${s}.traces WHERE ts < $1`, [now - retention.traces.maxAge]);
      await c.query(`DELETE FROM ${s}.traces WHERE seq <= (SELECT seq FROM ${s}.traces ORDER BY seq DESC OFFSET $1 LIMIT 1)`, [
        retention.traces.capacity,
      ]);
      await c.query(`DELETE FROM ${s}.series WHERE ts < $1`, [now - retention.series.maxAge]);
      await c.query(`DELETE FROM ${s}.series WHERE seq <= (SELECT seq FROM ${s}.series ORDER BY seq DESC OFFSET $1 LIMIT 1)`, [
        retention.series.capacity,
      ]);
    });
  }

  /**
   * Writes what is held (one attempt), then ends the pool the store made (a host's own pool stays
   * open). Rejects, after counting them as lost, when held records could not be written.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    let failure: unknown;
    try {
      await this.#serial(() => this.#drain());
    } catch (error) {
      failure = error;
    }
    const held = this.#pending.length;
    if (held > 0) this.#drop(held, 'the store closed with them unwritten');
    if (this.#ownPool) await this.#pool.end().catch(this.#onError);
    else this.#pool.off('error', this.#onError);
    if (failure !== undefined)
      throw new Error(`PostgresHistoryStore: ${held} record(s) could not be written before close: ${describeError(failure)}`);
  }

  /** A new point id for this node. */
  #nextPointId(): number {
    this.#pointId = Math.max(this.#pointId + 1, Date.now() * 1024);
    return this.#pointId;
  }

  /** Runs `work` after every earlier write, so that held records are written in order. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(work);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      await this.#ensure();
      const batch = this.#pending.slice(0, WRITE_BATCH);
      try {
        await this.#transaction((c) => insertRows(c, this.#o.schema, this.node, batch));
      } catch (error) {
        if (!isRowError(error)) throw error;
        await this.#isolate(batch.length);
        continue;
      }
      this.#pending.splice(0, batch.length);
      this.#written += batch.length;
    }
  }

  /** Writes the first `count` held rows one at a time, refusing those the database refuses. */
  async #isolate(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const first = this.#pending[0] as PendingRow;
      try {
        await this.#transaction((c) => insertRows(c, this.#o.schema, this.node, [first]));
        this.#written++;
      } catch (error) {
        if (!isRowError(error)) throw error;
        if (first.kind === 'event') this.#refuse(1, `the database refused the event: ${describeError(error)}`);
        else this.#lostRecords++;
        this.#lastError = describeError(error);
      }
      this.#pending.shift();
    }
  }

  async #transaction(work: (client: PoolClient) => Promise<void>): Promise<void> {
    const client = await this.#pool.connect();
    client.on('error', this.#onError);
    let failure: unknown;
    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      failure = error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', this.#onError);
      // A client whose connection failed is not put back in the pool.
      client.release(failure !== undefined && !isRowError(failure));
    }
  }

  /** Creates or migrates the tables once; after a failure, the next call tries again. */
  #ensure(): Promise<void> {
    if (this.#ready === undefined) {
      const ready = (async () => {
        const client = await this.#pool.connect();
        client.on('error', this.#onError);
        let failed = false;
        try {
          await migrate(client, this.#o.schema);
        } catch (error) {
          failed = true;
          throw error;
        } finally {
          client.off('error', this.#onError);
          client.release(failed);
        }
      })();
      this.#ready = ready;
      ready.catch(() => {
        if (this.#ready === ready) this.#ready = undefined;
      });
    }
    return this.#ready;
  }

  /** Before a query: the tables exist, and what this process holds is written if it can be. */
  async #readable(): Promise<void> {
    if (this.#closed) throw new Error('PostgresHistoryStore: the store is closed');
    if (this.#pending.length > 0) await this.#serial(() => this.#drain()).catch((error: unknown) => this.#failed(error));
    await this.#ensure();
  }

  /** After a failed write: keeps at most `maxPending` held records and tries again later. */
  #failed(error: unknown): void {
    this.#lastError = describeError(error);
    if (isMissingTable(error)) this.#ready = undefined;
    const excess = this.#pending.length - this.#o.maxPending;
    if (excess > 0) this.#drop(excess, `the database could not be reached and over ${this.#o.maxPending} records were held`);
    if (this.#pending.length > 0 && this.#timer === undefined && !this.#closed) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#closed) return;
        this.#serial(() => this.#drain()).catch((e: unknown) => this.#failed(e));
      }, this.#o.retryInterval);
      this.#timer.unref();
    }
  }

  /** Drops the `count` oldest held records, counting them. */
  #drop(count: number, why: string): void {
    let events = 0;
    for (const row of this.#pending.splice(0, count)) if (row.kind === 'event') events++;
    this.#lostEvents += events;
    this.#lostRecords += count - events;
    if (events > 0) {
      this.#unreported += events;
      this.#unreportedReason ??= `${events} held event(s) dropped unwritten: ${why}`;
    }
  }

  #refuse(count: number, reason: string): void {
    this.#rejected += count;
    this.#unreported += count;
    this.#unreportedReason ??= reason;
  }

  #report(): AppendResult | undefined {
    if (this.#unreported === 0) return undefined;
    const result = { rejected: this.#unreported, reason: this.#unreportedReason ?? 'refused' };
    this.#unreported = 0;
    this.#unreportedReason = undefined;
    return result;
  }

  #unavailable(error: unknown): Error {
    const lost = this.#lostEvents + this.#lostRecords;
    return new Error(
      `PostgresHistoryStore: the write failed (${describeError(error)}); ${this.#pending.length} record(s) held to be written when the database answers${lost > 0 ? `, ${lost} dropped so far` : ''}`,
      { cause: error },
    );
  }
}

/** The pool options, with a connect timeout so that an unreachable server fails a write instead of hanging it. */
function poolConfig(connection: string | PoolConfig): PoolConfig {
  const config: PoolConfig = typeof connection === 'string' ? { connectionString: connection } : { ...connection };
  return { connectionTimeoutMillis: 10_000, allowExitOnIdle: true, ...config };
}
