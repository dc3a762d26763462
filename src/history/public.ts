export type { HistoryApi } from './history.js';
export type { HistoryOptions } from './options.js';
