import { TelemetryConfigError } from '../core/errors.js';

/** Options of live streams. (Skeleton: being built.) */
export interface LiveOptions {
  /** The HMAC key that signs live tokens (at least 32 bytes). */
  readonly tokenKey?: string;
}

/** Validated live options with defaults applied. */
export interface ResolvedLive {
  readonly tokenKey: string | undefined;
}

export function resolveLive(value: unknown, path: string): ResolvedLive {
  if (value === undefined) return { tokenKey: undefined };
  throw new TelemetryConfigError(path, value, 'nothing: live streams are not implemented yet');
}
