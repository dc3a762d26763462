import { TelemetryConfigError } from '../core/errors.js';

/** Options of the in-memory (or persistent) history. (Skeleton: being built.) */
export interface HistoryOptions<P extends string = string> {
  /** Event names or wildcards kept. @default ['*'] */
  readonly events?: readonly P[];
}

/** Validated history options; `undefined` when history is off. */
export interface ResolvedHistory {
  readonly events: readonly string[] | undefined;
}

export function resolveHistory(value: unknown, path: string): ResolvedHistory | undefined {
  if (value === undefined) return undefined;
  throw new TelemetryConfigError(path, value, 'nothing: history is not implemented yet');
}
