/**
 * `mail-telemetry/sqlite`: a persistent history store on Node's built-in `node:sqlite`.
 * @packageDocumentation
 */
export {};
