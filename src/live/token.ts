import type { KeyObject } from 'node:crypto';
import { crypto } from '../base/builtins.js';
import { TelemetryConfigError } from '../base/errors.js';

/** What a live token grants: the tracing stream or the metrics stream. */
export type LiveScope = 'tracing' | 'metrics';

/** Options of `telemetry.live.issueToken`. */
export interface LiveTokenOptions {
  /** The stream the token opens. */
  readonly scope: LiveScope;
  /**
   * Seconds the token stays valid for opening a stream (an open stream is not cut at expiry).
   * @default 60
   */
  readonly ttlSeconds?: number;
  /**
   * Who the token was issued to, for the host's audit; readable by `verifyToken`, not secret.
   * @default undefined
   */
  readonly subject?: string;
}

/** The claims of a valid token. */
export interface LiveTokenClaims {
  readonly scope: LiveScope;
  /** Expiry, epoch milliseconds. */
  readonly expires: number;
  readonly subject?: string;
}

/** Why a token was refused: `invalid` (malformed, bad signature), `expired`, or `scope` (wrong stream). */
export type TokenCheck =
  | { readonly ok: true; readonly claims: LiveTokenClaims }
  | { readonly ok: false; readonly reason: 'invalid' | 'expired' | 'scope' };

/** Live tokens start with this; anything else in `?token=` or `Bearer` is left to `authorize`. */
export const TOKEN_PREFIX = 'mtl1.';
const MAX_TTL = 86_400;
const MAX_SUBJECT = 256;
const MAX_TOKEN = 1024;

/**
 * Stateless tokens: `mtl1.<base64url claims>.<base64url HMAC-SHA256(key, "mtl1." + claims)>`.
 * Nothing is stored, so tokens work across restarts when the key is shared; the key never leaves here.
 */
export class TokenSigner {
  /** The host's key (a copy), until the first token needs it. */
  #given: Uint8Array | undefined;
  #key: KeyObject | undefined;
  readonly #now: () => number;

  constructor(key: Uint8Array | undefined, now: () => number) {
    this.#given = key === undefined ? undefined : Uint8Array.from(key);
    this.#now = now;
  }

  /** Made on first use: a host that never issues or checks a token never loads crypto. */
  get #secret(): KeyObject {
    if (this.#key === undefined) {
      const { createSecretKey, randomBytes } = crypto();
      this.#key = createSecretKey(this.#given ?? randomBytes(32));
      this.#given = undefined;
    }
    return this.#key;
  }

  issue(options: LiveTokenOptions): string {
    const path = 'live.issueToken(options)';
    if (typeof options !== 'object' || options === null) throw new TelemetryConfigError(path, options, 'an object');
    const { scope, ttlSeconds = 60, subject } = options;
    for (const key of Object.keys(options)) {
      if (key !== 'scope' && key !== 'ttlSeconds' && key !== 'subject')
        throw new TelemetryConfigError(`${path}.${key}`, key, 'one of the known options: scope, ttlSeconds, subject');
    }
    if (scope !== 'tracing' && scope !== 'metrics')
      throw new TelemetryConfigError(`${path}.scope`, scope, '"tracing" or "metrics"');
    if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_TTL)
      throw new TelemetryConfigError(`${path}.ttlSeconds`, ttlSeconds, `a number of seconds above 0, at most ${MAX_TTL}`);
    if (subject !== undefined && (typeof subject !== 'string' || subject.length > MAX_SUBJECT))
      throw new TelemetryConfigError(`${path}.subject`, subject, `a string of at most ${MAX_SUBJECT} characters`);
    const claims: Record<string, unknown> = {
      s: scope,
      e: Math.floor(this.#now() + ttlSeconds * 1000),
      n: crypto().randomBytes(9).toString('base64url'),
    };
    if (subject !== undefined) claims.u = subject;
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${TOKEN_PREFIX}${body}.${this.#sign(body).toString('base64url')}`;
  }

  /** Checks signature (in constant time), expiry and, when given, scope. */
  check(token: string, scope?: LiveScope): TokenCheck {
    if (typeof token !== 'string' || token.length > MAX_TOKEN || !token.startsWith(TOKEN_PREFIX)) return INVALID;
    const dot = token.indexOf('.', TOKEN_PREFIX.length);
    if (dot < 0) return INVALID;
    const body = token.slice(TOKEN_PREFIX.length, dot);
    const text = token.slice(dot + 1);
    const signature = Buffer.from(text, 'base64url');
    // One token, one spelling: a re-encoded or padded variant is not the token that was issued.
    if (!CANONICAL.test(body) || signature.toString('base64url') !== text) return INVALID;
    const expected = this.#sign(body);
    // The length of an HMAC is public; only equal-length buffers reach the constant-time compare.
    if (signature.length !== expected.length || !crypto().timingSafeEqual(signature, expected)) return INVALID;
    const claims = parseClaims(body);
    if (claims === undefined) return INVALID;
    if (this.#now() >= claims.expires) return { ok: false, reason: 'expired' };
    if (scope !== undefined && claims.scope !== scope) return { ok: false, reason: 'scope' };
    return { ok: true, claims };
  }

  #sign(body: string): Buffer {
    return crypto().createHmac('sha256', this.#secret).update(TOKEN_PREFIX).update(body).digest();
  }
}

const INVALID: TokenCheck = { ok: false, reason: 'invalid' };
const CANONICAL = /^[A-Za-z0-9_-]+$/;

function parseClaims(body: string): LiveTokenClaims | undefined {
  let raw: unknown;
  const bytes = Buffer.from(body, 'base64url');
  if (bytes.toString('base64url') !== body) return undefined;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { s, e, u } = raw as Record<string, unknown>;
  if ((s !== 'tracing' && s !== 'metrics') || typeof e !== 'number') return undefined;
  return typeof u === 'string' ? { scope: s, expires: e, subject: u } : { scope: s, expires: e };
}
