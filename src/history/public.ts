export type { HistoryAuthorize, HistoryAuthRequest, HistoryVerdict } from './handler.js';
export type { HistoryApi, HistoryStats } from './history.js';
export type {
  HistoryOptions,
  SeriesHistoryOptions,
  TraceHistoryOptions,
} from './options.js';
export { DEFAULT_INDEX_KEYS } from './options.js';
export type { KeyCondition, ResolvedEventQuery, ResolvedTraceQuery, TraceCursor } from './query.js';
export { HistoryQueryError } from './query.js';
export type { SeriesPoint, SeriesQuery } from './series.js';
export { avgOver, increase, rate } from './series.js';
export type {
  AppendResult,
  HistoryRecords,
  HistoryStore,
  MaybePromise,
  MemoryStoreOptions,
  RetentionPolicy,
} from './store.js';
export { MemoryHistoryStore } from './store.js';
export { keepsMessages, TRUNCATED_EVENT } from './traces.js';
export type { EventQuery, HistoryEvent, KeyMatch, Page, Trace, TraceQuery, TraceSummary } from './types.js';
