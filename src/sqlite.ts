/**
 * `mail-telemetry/sqlite`: a persistent history store on Node's built-in `node:sqlite` (Node >= 22.13;
 * 22.5 to 22.12 need `--experimental-sqlite`). Only this entry loads `node:sqlite`.
 *
 * ```ts
 * import { createTelemetry } from 'mail-telemetry';
 * import { SqliteHistoryStore } from 'mail-telemetry/sqlite';
 * const telemetry = createTelemetry({ history: { store: new SqliteHistoryStore({ path: 'history.db' }) } });
 * ```
 * @packageDocumentation
 * @module mail-telemetry/sqlite
 */
export { SqliteHistoryStore, type SqliteHistoryStoreOptions } from './history/sqlite/store.js';
