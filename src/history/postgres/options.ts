import type { Pool, PoolConfig } from 'pg';
import { TelemetryConfigError } from '../../base/errors.js';
import { boolean, duration, integer, keyNames, nonEmptyString, record, section } from '../../base/validate.js';
import { defaultNode } from '../node.js';
import { DEFAULT_INDEX_KEYS } from '../options.js';

/** Options of {@link PostgresHistoryStore}. */
export interface PostgresHistoryStoreOptions {
  /**
   * Where the database is: a connection string such as `postgres://mx@db.internal/telemetry`, or
   * the options of a `pg` Pool. The store makes the pool and ends it on `close()`.
   * @default `{}`: pg's defaults and the `PG*` environment variables (`PGHOST`, `PGDATABASE`, ...)
   */
  readonly connection?: string | PoolConfig;
  /**
   * A `pg` Pool of the host's own, used instead of `connection`. The store listens to its `error`
   * events and leaves it open on `close()`.
   * @default undefined
   */
  readonly pool?: Pool;
  /**
   * The PostgreSQL schema (namespace) that holds the store's tables; it is created if missing.
   * @default 'mail_telemetry'
   */
  readonly schema?: string;
  /**
   * The name this process writes on every row, so that a fleet's records say where they come
   * from. Give each process a stable name (`'mx1'`, `'mx1-worker-3'`) to keep it across restarts.
   * @default `${os.hostname()}:${process.pid}`
   */
  readonly node?: string;
  /**
   * The nodes whose records this store reads. Queries read every node's records unless this
   * narrows them; `[options.node]` reads this process's own.
   * @default undefined (every node)
   */
  readonly nodes?: readonly string[];
  /**
   * Keys indexed for exact queries; other keys are matched by reading candidate rows.
   * @default ['queueId', 'remoteIp', 'from', 'to', 'accountName', 'domain', 'hostname', 'messageId']
   */
  readonly indexKeys?: readonly string[];
  /**
   * Records (events, traces and series points) held in memory while the database cannot be
   * reached, written when it can again. Past it the oldest are dropped, counted in `stats().lost`
   * and reported through the history as refused events.
   * @default 100_000
   */
  readonly maxPending?: number;
  /**
   * Milliseconds between attempts to write held records while the database cannot be reached
   * (every append also tries).
   * @default 1000
   */
  readonly retryInterval?: number;
  /**
   * Whether this store's `purge` applies retention. Retention applies to the whole database, every
   * node's records alike; set it to false on all nodes but one (or all, and purge otherwise) when
   * the nodes' retention settings differ.
   * @default true
   */
  readonly purge?: boolean;
}

/** Validated {@link PostgresHistoryStoreOptions}. */
export interface ResolvedPostgresOptions {
  readonly connection: string | PoolConfig;
  readonly pool: Pool | undefined;
  readonly schema: string;
  readonly node: string;
  readonly nodes: readonly string[] | undefined;
  readonly indexKeys: readonly string[];
  readonly maxPending: number;
  readonly retryInterval: number;
  readonly purge: boolean;
}

const KNOWN = ['connection', 'pool', 'schema', 'node', 'nodes', 'indexKeys', 'maxPending', 'retryInterval', 'purge'];
const PATH = 'PostgresHistoryStore(options)';
/** An SQL identifier written unquoted: lower case, so that psql users type it as it is. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function resolvePostgresOptions(options: unknown): ResolvedPostgresOptions {
  const o = typeof options === 'string' ? { connection: options } : section(options, PATH, KNOWN);
  const connection = o.connection ?? {};
  if (typeof connection !== 'string') record(connection, `${PATH}.connection`, 'a connection string or pg Pool options');
  else nonEmptyString(connection, `${PATH}.connection`);
  const pool = o.pool;
  if (pool !== undefined) {
    if (
      typeof pool !== 'object' ||
      pool === null ||
      typeof (pool as Pool).query !== 'function' ||
      typeof (pool as Pool).on !== 'function'
    )
      throw new TelemetryConfigError(`${PATH}.pool`, pool, 'a pg Pool');
    if (o.connection !== undefined)
      throw new TelemetryConfigError(
        `${PATH}.connection`,
        o.connection,
        'nothing when `pool` is given (the pool says where the database is)',
      );
  }
  const schema = o.schema ?? 'mail_telemetry';
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema))
    throw new TelemetryConfigError(`${PATH}.schema`, schema, 'a lower-case SQL name such as "mail_telemetry" ([a-z_][a-z0-9_]*)');
  const node = o.node === undefined ? defaultNode() : nonEmptyString(o.node, `${PATH}.node`);
  let nodes: string[] | undefined;
  if (o.nodes !== undefined) {
    if (!Array.isArray(o.nodes) || o.nodes.length === 0)
      throw new TelemetryConfigError(`${PATH}.nodes`, o.nodes, 'a non-empty array of node names');
    nodes = (o.nodes as unknown[]).map((n, i) => nonEmptyString(n, `${PATH}.nodes[${i}]`));
  }
  return {
    connection: connection as string | PoolConfig,
    pool: pool as Pool | undefined,
    schema,
    node: textSafe(node),
    nodes: nodes?.map(textSafe),
    indexKeys: o.indexKeys === undefined ? DEFAULT_INDEX_KEYS : keyNames(o.indexKeys, `${PATH}.indexKeys`),
    maxPending: integer(o.maxPending, `${PATH}.maxPending`, 100_000, 0),
    retryInterval: duration(o.retryInterval, `${PATH}.retryInterval`, 1000, 10),
    purge: boolean(o.purge, `${PATH}.purge`, true),
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is the one character PostgreSQL text refuses
const UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text PostgreSQL takes as it is. It refuses NUL, and the driver writes a lone surrogate as U+FFFD
 * in some places and as a JSON escape PostgreSQL refuses in others: both become U+FFFD, in stored
 * values and in queries alike, so that matches stay consistent.
 */
export function textSafe(text: string): string {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(text) ? text.replace(UNSAFE, '\uFFFD') : text;
}
