import { TelemetryConfigError } from '../base/errors.js';
import type { Level } from '../base/levels.js';
import {
  boolean,
  callback,
  checkKeys,
  duration,
  HIDDEN,
  integer,
  nonEmptyString,
  oneOf,
  record,
  secret,
  section,
  selection,
} from '../base/validate.js';
import { overrideStalwart, type StalwartSetting, type StalwartVersion } from '../stalwart/version.js';

/** How requests are signed. */
export type WebhookSigning = 'stalwart' | 'standard' | 'both';

/**
 * Why events were discarded or dropped: `stale` (undelivered after `discardAfter`), `bytes` (over
 * `maxPendingBytes`), `dropped` (lossy, over `maxPending`), `queue-full` (the intake queue was full:
 * events arrived faster than the endpoint took them), `disabled` (a 410 answer), `shutdown`, or
 * `too-large` (one event refused with 413).
 */
export type WebhookDiscardReason = 'stale' | 'bytes' | 'dropped' | 'queue-full' | 'disabled' | 'shutdown' | 'too-large';

/** One event as it is sent: an item of the body's `events` array (Stalwart's `WebhookEvent`). */
export interface WebhookEvent {
  /** The event's id as a decimal string: unique, and the same on every retry. */
  readonly id: string;
  /** RFC 3339 time of the event. */
  readonly createdAt: string;
  /** The event name, such as `smtp.mail-from`. */
  readonly type: string;
  /** The event's own keys merged over its span's keys. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** A request body: `{"events":[...]}`. */
export interface WebhookPayload {
  readonly events: readonly WebhookEvent[];
}

/** The `Authorization` header sent with every request. */
export type WebhookAuth =
  | { readonly type: 'basic'; readonly username: string; readonly password: string }
  | { readonly type: 'bearer'; readonly token: string };

/** The retry schedule of a failing endpoint: exponential backoff with jitter. */
export interface WebhookRetryOptions {
  /**
   * Milliseconds before the first retry.
   * @default 1000
   */
  readonly initialDelay?: number;
  /**
   * The longest wait between attempts, in milliseconds (a `Retry-After` may ask for longer).
   * @default 60_000
   */
  readonly maxDelay?: number;
  /**
   * Each wait is the previous one times this factor.
   * @default 2
   */
  readonly multiplier?: number;
  /**
   * Random spread of each wait, as a fraction: 0.2 waits between 80 % and 120 % of the nominal delay.
   * @default 0.2
   */
  readonly jitter?: number;
}

/** One webhook endpoint. `P` is the event-name pattern type. */
export interface WebhookOptions<P extends string = string> {
  /** Names the endpoint in stats, metrics and error events. Unique among the webhooks. */
  readonly id: string;
  /** The receiver's URL, `http:` or `https:`, without credentials (use `auth`). */
  readonly url: string;
  /**
   * Event names or wildcards to send.
   * @default ['*']
   */
  readonly events?: readonly P[];
  /**
   * Event names or wildcards to leave out.
   * @default []
   */
  readonly exclude?: readonly P[];
  /**
   * The least severe level sent.
   * @default 'trace'
   */
  readonly level?: Level;
  /**
   * The batch window in milliseconds: events arriving within it go out in one request.
   * @default 1000
   */
  readonly throttle?: number;
  /**
   * Most events in one request; a larger window is split.
   * @default 1000
   */
  readonly maxBatchEvents?: number;
  /**
   * Most body bytes in one request; a larger window is split (one event larger than this goes alone).
   * @default 1_048_576
   */
  readonly maxBatchBytes?: number;
  /**
   * Milliseconds an attempt may take before it counts as failed and is retried. It covers the whole
   * exchange, the answer body included; after a 2xx status, an answer body that is still coming
   * when it runs out is cut off and the request counts as delivered. At most 4 KiB of an answer
   * body is read; the rest is discarded and the connection closed.
   * @default 30_000
   */
  readonly timeout?: number;
  /**
   * Milliseconds after which an undelivered event is discarded (reported and passed to `onDiscard`).
   * @default 300_000
   */
  readonly discardAfter?: number;
  /**
   * Lossy endpoints drop events above `maxPending`, lowest level first; lossless ones keep every
   * event until `discardAfter` or `maxPendingBytes`.
   * @default false
   */
  readonly lossy?: boolean;
  /**
   * Lossy only: most events held; above it the oldest event of the lowest level present is dropped.
   * @default 32_768
   */
  readonly maxPending?: number;
  /**
   * Most serialised bytes held (waiting and in flight); above it the oldest events are discarded
   * (reason `bytes`). It bounds the intake queue too, where events wait before they are serialised:
   * that queue holds at most `max(1024, maxPendingBytes / 512)` events, and an event arriving when it
   * is full is refused (lossless; reason `queue-full`) or makes the oldest one drop (lossy).
   * `Infinity` lifts the bound, and with it the bound on memory while a receiver is down.
   * @default 67_108_864 (64 MiB)
   */
  readonly maxPendingBytes?: number;
  /**
   * Extra request headers. Values are treated as secrets: they never appear in errors.
   * @default {}
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Basic or Bearer authorization.
   * @default undefined
   */
  readonly auth?: WebhookAuth;
  /**
   * The signing secret. For `standard` signing it is a `whsec_` key (base64 of 24 to 64 bytes); for
   * `stalwart` signing its UTF-8 bytes are the HMAC key, as in Stalwart.
   * @default undefined (requests are not signed)
   */
  readonly signatureKey?: string;
  /**
   * `stalwart`: `X-Signature: base64(HMAC-SHA256(key, body))`. `standard`: Standard Webhooks'
   * `webhook-signature: v1,...`. `both`: both headers. `webhook-id` and `webhook-timestamp` are always sent.
   * @default 'stalwart' when `signatureKey` is set
   */
  readonly signing?: WebhookSigning;
  /**
   * The retry schedule: exponential backoff with jitter, honouring `Retry-After`.
   * @default {} (each option at its default)
   */
  readonly retry?: WebhookRetryOptions;
  /**
   * Called with the events given up on, so the host can dead-letter them: every event the endpoint
   * took and did not deliver reaches it exactly once, whatever the reason. Events dropped from the
   * intake queue arrive in batches shortly after the emit that dropped them (at once when 256 are
   * waiting). A throw is reported, not rethrown.
   * @default undefined
   */
  readonly onDiscard?: (events: readonly WebhookEvent[], reason: WebhookDiscardReason) => void;
  /**
   * The Stalwart version whose values this endpoint's bodies carry (`false`: the library's own),
   * overriding the top-level `stalwart`: every time as an RFC 3339 string to the second (an epoch-ms
   * number included), a nested error as an event `{"type","data"}`, absent values left out; under
   * `'0.15'`, the events 0.16 renamed go out under their 0.15 names (`queue.queue-message`).
   * @default the top-level `stalwart`
   */
  readonly stalwart?: StalwartSetting;
}

/** Validated retry schedule. */
export interface ResolvedRetry {
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly multiplier: number;
  readonly jitter: number;
}

/** Validated webhook options with defaults applied. */
export interface ResolvedWebhook {
  readonly id: string;
  readonly url: string;
  /** The option path, such as `options.webhooks[0]`. */
  readonly path: string;
  readonly events: readonly string[] | undefined;
  readonly exclude: readonly string[] | undefined;
  readonly level: Level;
  readonly throttle: number;
  readonly maxBatchEvents: number;
  readonly maxBatchBytes: number;
  readonly timeout: number;
  readonly discardAfter: number;
  readonly lossy: boolean;
  readonly maxPending: number;
  readonly maxPendingBytes: number;
  /** Every header but the signature ones, authorization included. */
  readonly headers: Readonly<Record<string, string>>;
  readonly signatureKey: string | undefined;
  readonly signing: WebhookSigning | undefined;
  readonly retry: ResolvedRetry;
  readonly onDiscard: WebhookOptions['onDiscard'];
  /** The Stalwart version of the bodies' values, if any. */
  readonly stalwart: StalwartVersion | undefined;
}

/** Memory held for one endpoint while its receiver is slow or down. */
const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

const KEYS = new Set([
  'id',
  'url',
  'events',
  'exclude',
  'level',
  'throttle',
  'maxBatchEvents',
  'maxBatchBytes',
  'timeout',
  'discardAfter',
  'lossy',
  'maxPending',
  'maxPendingBytes',
  'headers',
  'auth',
  'signatureKey',
  'signing',
  'retry',
  'onDiscard',
  'stalwart',
]);
const RETRY_KEYS = new Set(['initialDelay', 'maxDelay', 'multiplier', 'jitter']);
const SIGNING: readonly WebhookSigning[] = ['stalwart', 'standard', 'both'];
/** Headers the library writes itself. */
const RESERVED = new Set([
  'content-type',
  'content-length',
  'host',
  'transfer-encoding',
  'connection',
  'x-signature',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Validates `options.webhooks`; nothing is shared from the composition root. */
export function resolveWebhooks(value: unknown, path: string, stalwart?: StalwartVersion): readonly ResolvedWebhook[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TelemetryConfigError(path, value, 'an array of webhook options');
  const seen = new Set<string>();
  return value.map((item: unknown, i) => {
    const resolved = resolveWebhook(item, `${path}[${i}]`, stalwart);
    if (seen.has(resolved.id)) throw new TelemetryConfigError(`${path}[${i}].id`, resolved.id, 'an id no other webhook uses');
    seen.add(resolved.id);
    return resolved;
  });
}

function resolveWebhook(value: unknown, path: string, stalwart: StalwartVersion | undefined): ResolvedWebhook {
  const o = record(value, path);
  checkKeys(o, KEYS, path);
  const id = nonEmptyString(o.id, `${path}.id`);
  const url = resolveUrl(o.url, `${path}.url`);
  const lossy = boolean(o.lossy, `${path}.lossy`, false);
  const selected = selection(o, path, 'trace');
  if (!lossy && o.maxPending !== undefined) {
    throw new TelemetryConfigError(
      `${path}.maxPending`,
      o.maxPending,
      'no value on a lossless webhook',
      'set lossy: true, or cap a lossless one with maxPendingBytes',
    );
  }
  const signatureKey = o.signatureKey === undefined ? undefined : secret(o.signatureKey, `${path}.signatureKey`);
  const signing = resolveSigning(o.signing, signatureKey, path);
  const onDiscard = callback<WebhookOptions['onDiscard']>(
    o.onDiscard,
    `${path}.onDiscard`,
    'a function (events, reason) => void',
  );
  return {
    id,
    url,
    path,
    ...selected,
    throttle: duration(o.throttle, `${path}.throttle`, 1000, 0),
    maxBatchEvents: integer(o.maxBatchEvents, `${path}.maxBatchEvents`, 1000, 1),
    maxBatchBytes: integer(o.maxBatchBytes, `${path}.maxBatchBytes`, 1_048_576, 64),
    timeout: duration(o.timeout, `${path}.timeout`, 30_000, 1),
    discardAfter: duration(o.discardAfter, `${path}.discardAfter`, 300_000, 1),
    lossy,
    maxPending: lossy ? integer(o.maxPending, `${path}.maxPending`, 32_768, 1) : Number.POSITIVE_INFINITY,
    // Infinity lifts the bound.
    maxPendingBytes:
      o.maxPendingBytes === Number.POSITIVE_INFINITY
        ? Number.POSITIVE_INFINITY
        : integer(o.maxPendingBytes, `${path}.maxPendingBytes`, DEFAULT_MAX_PENDING_BYTES, 64),
    headers: resolveHeaders(o.headers, o.auth, path),
    signatureKey,
    signing,
    retry: resolveRetry(o.retry, `${path}.retry`),
    onDiscard,
    stalwart: overrideStalwart(o.stalwart, `${path}.stalwart`, stalwart),
  };
}

function resolveUrl(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new TelemetryConfigError(path, value, 'an http: or https: URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TelemetryConfigError(path, value, 'an absolute http: or https: URL');
  }
  if (url.username !== '' || url.password !== '') {
    // The value holds a password: never echo it.
    throw new TelemetryConfigError(
      path,
      `${url.protocol}//${HIDDEN}@${url.host}`,
      'a URL without credentials',
      'use the auth option',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TelemetryConfigError(path, value, 'an http: or https: URL');
  return url.href;
}

function resolveSigning(value: unknown, key: string | undefined, path: string): WebhookSigning | undefined {
  const given = value === undefined ? undefined : oneOf(value, `${path}.signing`, 'stalwart', SIGNING);
  if (key === undefined) {
    if (given !== undefined)
      throw new TelemetryConfigError(`${path}.signing`, given, 'no value without a signatureKey', 'set signatureKey');
    return undefined;
  }
  const mode = given ?? 'stalwart';
  if (mode !== 'stalwart') {
    const bytes = key.startsWith('whsec_') ? Buffer.from(key.slice(6), 'base64') : undefined;
    if (bytes === undefined || bytes.length < 24 || bytes.length > 64 || bytes.toString('base64') !== key.slice(6)) {
      throw new TelemetryConfigError(
        `${path}.signatureKey`,
        HIDDEN,
        'a Standard Webhooks secret: "whsec_" then base64 of 24 to 64 random bytes',
        `required by signing: "${mode}"`,
      );
    }
  }
  return mode;
}

function resolveHeaders(headers: unknown, auth: unknown, path: string): Record<string, string> {
  const out: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'mail-telemetry' };
  if (headers !== undefined) {
    const h = record(headers, `${path}.headers`);
    for (const [name, value] of Object.entries(h)) {
      const at = `${path}.headers[${JSON.stringify(name)}]`;
      if (!TOKEN.test(name)) throw new TelemetryConfigError(at, name, 'a valid HTTP header name');
      const lower = name.toLowerCase();
      if (RESERVED.has(lower)) throw new TelemetryConfigError(at, name, 'a header the library does not set itself');
      if (lower === 'authorization' && auth !== undefined)
        throw new TelemetryConfigError(at, name, 'no authorization header when auth is set');
      if (typeof value !== 'string' || /[\r\n\0]/.test(value))
        throw new TelemetryConfigError(at, typeof value === 'string' ? HIDDEN : value, 'a string without CR, LF or NUL');
      out[lower] = value;
    }
  }
  if (auth !== undefined) out.authorization = resolveAuth(auth, `${path}.auth`);
  return out;
}

const BASIC_KEYS = new Set(['type', 'username', 'password']);
const BEARER_KEYS = new Set(['type', 'token']);

function resolveAuth(value: unknown, path: string): string {
  const o = record(value, path);
  if (o.type === 'basic') {
    checkKeys(o, BASIC_KEYS, path);
    const username = nonEmptyString(o.username, `${path}.username`);
    if (username.includes(':')) throw new TelemetryConfigError(`${path}.username`, username, 'a user name without ":"');
    const password = secret(o.password, `${path}.password`);
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  if (o.type === 'bearer') {
    checkKeys(o, BEARER_KEYS, path);
    return `Bearer ${secret(o.token, `${path}.token`)}`;
  }
  throw new TelemetryConfigError(`${path}.type`, o.type, '"basic" (with username, password) or "bearer" (with token)');
}

function resolveRetry(value: unknown, path: string): ResolvedRetry {
  const o = section(value, path, RETRY_KEYS);
  const initialDelay = duration(o.initialDelay, `${path}.initialDelay`, 1000, 1);
  const maxDelay = duration(o.maxDelay, `${path}.maxDelay`, Math.max(60_000, initialDelay), 1);
  if (maxDelay < initialDelay)
    throw new TelemetryConfigError(`${path}.maxDelay`, maxDelay, `at least initialDelay (${initialDelay})`);
  const multiplier = o.multiplier === undefined ? 2 : o.multiplier;
  if (typeof multiplier !== 'number' || !(multiplier >= 1 && multiplier <= 100))
    throw new TelemetryConfigError(`${path}.multiplier`, multiplier, 'a number from 1 to 100');
  const jitter = o.jitter === undefined ? 0.2 : o.jitter;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1))
    throw new TelemetryConfigError(`${path}.jitter`, jitter, 'a fraction from 0 to 1');
  return { initialDelay, maxDelay, multiplier, jitter };
}
