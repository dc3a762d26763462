import type { PoolClient } from 'pg';

/**
 * The store's schema, one migration per version. A database written by an older version is brought
 * up to date when a store first connects; the version reached is kept in `schema_version`. Several
 * nodes starting at once take turns under an advisory lock, so each migration runs once.
 */
const MIGRATIONS: readonly ((s: string) => string)[] = [
  (s) => `
CREATE TABLE ${s}.events (
  seq bigserial PRIMARY KEY,
  node text NOT NULL,
  id bigint NOT NULL,
  ts double precision NOT NULL,
  type text NOT NULL,
  level smallint NOT NULL,
  span text,
  data text NOT NULL,
  search text NOT NULL,
  keys text[] NOT NULL,
  lkeys text[] NOT NULL,
  UNIQUE (node, id));
CREATE INDEX events_order ON ${s}.events (id, seq);
CREATE INDEX events_ts ON ${s}.events (ts);
CREATE INDEX events_type ON ${s}.events (type, id);
CREATE INDEX events_span ON ${s}.events (span, id) WHERE span IS NOT NULL;
CREATE INDEX events_keys ON ${s}.events USING gin (keys);
CREATE TABLE ${s}.traces (
  seq bigserial PRIMARY KEY,
  node text NOT NULL,
  span text NOT NULL,
  type text NOT NULL,
  ts double precision NOT NULL,
  queue_id text,
  sender text,
  recipients text NOT NULL,
  size double precision,
  truncated integer NOT NULL,
  keywords text NOT NULL,
  messages text NOT NULL,
  queue_ids text[] NOT NULL,
  events text NOT NULL,
  UNIQUE (node, span));
CREATE INDEX traces_order ON ${s}.traces (ts, seq);
CREATE INDEX traces_type ON ${s}.traces (type, ts);
CREATE INDEX traces_span ON ${s}.traces (span, seq);
CREATE INDEX traces_queue ON ${s}.traces USING gin (queue_ids);
CREATE TABLE ${s}.series (
  seq bigserial PRIMARY KEY,
  node text NOT NULL,
  ts double precision NOT NULL,
  metric text NOT NULL,
  kind text NOT NULL,
  labels text NOT NULL,
  value double precision NOT NULL,
  count double precision);
CREATE INDEX series_metric ON ${s}.series (metric, ts);
CREATE INDEX series_ts ON ${s}.series (ts);
`,
  // Version 2: a point is unique by node and point id, so that a batch written again after a lost
  // COMMIT acknowledgement adds no point twice (points of version 1 have none, and stay).
  (s) => `
ALTER TABLE ${s}.series ADD COLUMN pid bigint;
CREATE UNIQUE INDEX series_point ON ${s}.series (node, pid);
`,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** First key of the store's advisory locks ('mtel'); the second is the schema's hash. */
export const LOCK_SPACE = 0x6d74656c;

/**
 * Brings `schema` to {@link SCHEMA_VERSION} in one transaction. A database already written by a
 * newer version is refused rather than written with an older layout.
 */
export async function migrate(client: PoolClient, schema: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_SPACE, `${schema}:migrate`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_version (version integer NOT NULL)`);
    const found = await client.query<{ version: number }>(`SELECT max(version) AS version FROM ${schema}.schema_version`);
    const version = found.rows[0]?.version ?? 0;
    if (version > SCHEMA_VERSION)
      throw new Error(
        `the schema "${schema}" is at version ${version}, newer than this mail-telemetry's ${SCHEMA_VERSION}: upgrade mail-telemetry`,
      );
    for (let v = version; v < SCHEMA_VERSION; v++) {
      await client.query((MIGRATIONS[v] as (s: string) => string)(schema));
      await client.query(`INSERT INTO ${schema}.schema_version (version) VALUES ($1)`, [v + 1]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
