/**
 * `mail-telemetry/postgres`: a history store on PostgreSQL, shared by a fleet of processes or
 * machines, on the `pg` package (an optional peer dependency: `npm install pg`). Only this entry
 * loads `pg`.
 *
 * ```ts
 * import { createTelemetry } from 'mail-telemetry';
 * import { PostgresHistoryStore } from 'mail-telemetry/postgres';
 * const store = new PostgresHistoryStore({ connection: 'postgres://telemetry@db.internal/mail', node: 'mx1' });
 * const telemetry = createTelemetry({ history: { store } });
 * ```
 * @packageDocumentation
 * @module mail-telemetry/postgres
 */

export type { PostgresHistoryStoreOptions } from './history/postgres/options.js';
export {
  type PostgresHistoryStats,
  PostgresHistoryStore,
} from './history/postgres/store.js';
