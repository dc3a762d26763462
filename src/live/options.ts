import { TelemetryConfigError } from '../base/errors.js';
import { callback, integer, section } from '../base/validate.js';
import { AUTHORIZE_EXPECTED } from '../http/auth.js';
import { overrideStalwart, type StalwartSetting, type StalwartVersion } from '../stalwart/version.js';
import type { LiveAuthorize } from './access.js';

/** Options of live event and metric streams and of their access tokens. */
export interface LiveOptions {
  /**
   * The HMAC-SHA256 key that signs live tokens: at least 32 bytes. Give one shared key to every
   * process behind a load balancer; tokens then verify on any of them.
   * @default a random key per process (tokens verify only in the process that issued them)
   */
  readonly tokenKey?: string | Uint8Array;
  /**
   * Grants SSE access to requests that carry no live token, such as an admin session cookie.
   * Return `true` to open the stream, `false` or `401` to refuse it as unauthenticated, `403` as
   * forbidden. May return a promise. `() => true` opens the handlers to everyone.
   * @default undefined (only a valid live token opens a stream)
   */
  readonly authorize?: LiveAuthorize;
  /**
   * Most events one stream holds for its reader. Past it the oldest are dropped and counted.
   * @default 10_000
   */
  readonly bufferSize?: number;
  /**
   * Milliseconds between two `event: trace` frames of an SSE stream (Stalwart: 1 s). A burst that
   * fills half of `bufferSize` within a window is sent at once rather than dropped.
   * @default 1000
   */
  readonly batchWindow?: number;
  /**
   * Milliseconds between `event: ping` heartbeats of an idle SSE stream.
   * @default 30_000
   */
  readonly pingInterval?: number;
  /**
   * Milliseconds between metric frames when the client names no `interval`.
   * @default 30_000
   */
  readonly metricsInterval?: number;
  /**
   * The shortest metric interval a client may ask for, in milliseconds.
   * @default 1000
   */
  readonly minMetricsInterval?: number;
  /**
   * Spans one stream keeps streaming after a match (span stickiness); past it the oldest is forgotten.
   * @default 1024
   */
  readonly maxStickySpans?: number;
  /**
   * Most streams open at once, in-process and SSE together; an SSE request past it gets 503.
   * @default 1000
   */
  readonly maxStreams?: number;
  /**
   * The Stalwart version whose items the SSE handlers and the token handler write (`false`: the
   * library's own), overriding the top-level `stalwart`. `'0.15'`: trace items
   * `{text, details, createdAt, type, data}` with only Stalwart's 66 keys and values its 0.15 admin
   * reads, metric items `{id, type, value}` / `{id, type, count, sum}`, tokens as `{"data": token}`.
   * `'0.16'`: trace items `{event, timestamp, keyValues}` with the event's own keys, 0.16 metric
   * items, tokens as text.
   * @default the top-level `stalwart`
   */
  readonly stalwart?: StalwartSetting;
}

/** Validated live options with defaults applied. */
export interface ResolvedLive {
  readonly tokenKey: Uint8Array | undefined;
  readonly authorize: LiveAuthorize | undefined;
  readonly bufferSize: number;
  readonly batchWindow: number;
  readonly pingInterval: number;
  readonly metricsInterval: number;
  readonly minMetricsInterval: number;
  readonly maxStickySpans: number;
  readonly maxStreams: number;
  /** Keys written as `[redacted]` and never matched by filters (the instance's `sensitiveKeys`). */
  readonly redact: ReadonlySet<string>;
  /** The Stalwart version of the SSE items and token answers, if any. */
  readonly stalwart: StalwartVersion | undefined;
}

const KEYS: readonly string[] = [
  'tokenKey',
  'authorize',
  'bufferSize',
  'batchWindow',
  'pingInterval',
  'metricsInterval',
  'minMetricsInterval',
  'maxStickySpans',
  'maxStreams',
  'stalwart',
];

/**
 * Validates `options.live`. `sensitiveKeys` is the instance's `options.sensitiveKeys`: those keys are
 * redacted in live output too.
 */
export function resolveLive(value: unknown, path: string, sensitiveKeys?: unknown, stalwart?: StalwartVersion): ResolvedLive {
  const m = section(value, path, KEYS);
  const authorize = callback<LiveAuthorize>(m.authorize, `${path}.authorize`, AUTHORIZE_EXPECTED);
  const minMetricsInterval = integer(m.minMetricsInterval, `${path}.minMetricsInterval`, 1000, 1, 86_400_000);
  return {
    tokenKey: resolveKey(m.tokenKey, `${path}.tokenKey`),
    authorize,
    bufferSize: integer(m.bufferSize, `${path}.bufferSize`, 10_000, 2, 10_000_000),
    batchWindow: integer(m.batchWindow, `${path}.batchWindow`, 1000, 0, 60_000),
    pingInterval: integer(m.pingInterval, `${path}.pingInterval`, 30_000, 1, 3_600_000),
    metricsInterval: integer(m.metricsInterval, `${path}.metricsInterval`, 30_000, minMetricsInterval, 86_400_000),
    minMetricsInterval,
    maxStickySpans: integer(m.maxStickySpans, `${path}.maxStickySpans`, 1024, 0, 1_000_000),
    maxStreams: integer(m.maxStreams, `${path}.maxStreams`, 1000, 1, 1_000_000),
    redact: resolveSensitive(sensitiveKeys),
    stalwart: overrideStalwart(m.stalwart, `${path}.stalwart`, stalwart),
  };
}

/** The key is checked without ever quoting it: an error names its length only. */
function resolveKey(value: unknown, path: string): Uint8Array | undefined {
  if (value === undefined) return undefined;
  let bytes: Uint8Array;
  if (typeof value === 'string') bytes = Buffer.from(value, 'utf8');
  else if (value instanceof Uint8Array) bytes = Uint8Array.from(value);
  else throw new TelemetryConfigError(path, typeof value, 'a string or Uint8Array of at least 32 bytes');
  if (bytes.length < 32) throw new TelemetryConfigError(path, `[redacted: ${bytes.length} bytes]`, 'a key of at least 32 bytes');
  return bytes;
}

function resolveSensitive(value: unknown): ReadonlySet<string> {
  // Validated with its own path by the tracers' options; anything else here is simply not a key.
  if (!Array.isArray(value)) return new Set();
  return new Set(value.filter((key): key is string => typeof key === 'string'));
}
