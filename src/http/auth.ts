import type { IncomingMessage } from 'node:http';
import { crypto } from '../base/builtins.js';
import { type Reply, TEXT_HEADERS } from './request.js';

/** What an `authorize` hook sees of a request, whatever its shape. */
export interface HttpAuthRequest {
  readonly method: string;
  /** The request URL, query included. */
  readonly url: URL;
  /** A request header, lower or mixed case. */
  header(name: string): string | undefined;
  /** The original request, for the host's own session checks (`req.user`, cookies, ...). */
  readonly raw: IncomingMessage | Request;
}

/** The verdict of an `authorize` hook: `true` answers, `false` or `401` refuses as unauthenticated, `403` as forbidden. */
export type AccessVerdict = boolean | 401 | 403;

/** A host hook that decides who may use a handler; may be async. */
export type Authorize<R extends HttpAuthRequest = HttpAuthRequest> = (request: R) => AccessVerdict | PromiseLike<AccessVerdict>;

/** 200 to answer, else the refusal status. */
export type AccessStatus = 200 | 401 | 403;

/** What the validation of an `authorize` option says it expects. */
export const AUTHORIZE_EXPECTED = 'a function (request) => boolean | 401 | 403';

/** Wraps what a host's `authorize` threw, so a handler can tell it from its own failures. */
export class AuthorizeFailure {
  constructor(readonly error: unknown) {}
}

/** Only `true` opens; `403` forbids; anything else (`false`, `401`, a stray value from untyped code) is 401. */
export function accessStatus(verdict: unknown): AccessStatus {
  return verdict === true ? 200 : verdict === 403 ? 403 : 401;
}

/**
 * Asks the host's hook. With no hook the answer is 401: a handler is closed until the host opens it.
 * A throw or rejection of the hook rejects with an `AuthorizeFailure`; the handler decides what it means.
 */
export async function askAuthorize<R extends HttpAuthRequest>(
  authorize: Authorize<R> | undefined,
  request: R,
): Promise<AccessStatus> {
  if (authorize === undefined) return 401;
  let verdict: unknown;
  try {
    verdict = await authorize(request);
  } catch (error) {
    throw new AuthorizeFailure(error);
  }
  return accessStatus(verdict);
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const BASIC = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i;

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return BEARER.exec(authorization)?.[1];
}

/** User name and password a Basic-auth handler takes. */
export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * A check of `Authorization: Basic ...` against fixed credentials, in constant time: both sides are
 * hashed first, so neither the length nor the content of the secret shows in the timing.
 */
export function basicCheck(credentials: BasicCredentials): (authorization: string | undefined) => boolean {
  const expected = digest(`${credentials.username}:${credentials.password}`);
  return (authorization) => {
    const match = authorization === undefined ? null : BASIC.exec(authorization);
    if (match === null) return false;
    return crypto().timingSafeEqual(digest(Buffer.from(match[1] as string, 'base64').toString('utf8')), expected);
  };
}

function digest(text: string): Buffer {
  return crypto().createHash('sha256').update(text).digest();
}

/** The `WWW-Authenticate` challenge of a Basic-auth realm. */
export function basicChallenge(realm: string): string {
  return `Basic realm="${realm}", charset="UTF-8"`;
}

/** The `WWW-Authenticate` challenge of a Bearer-token realm. */
export function bearerChallenge(realm: string): string {
  return `Bearer realm="${realm}"`;
}

/** A refusal's body in a handler's own format (a problem document, say). */
export interface RefusalBody {
  readonly contentType: string;
  readonly body: string;
}

/**
 * How every handler refuses access: 401 with the challenge of its scheme when it has one, 403
 * without; never cached. The body is plain text unless the handler gives its own.
 */
export function refusal(status: 401 | 403, challenge: string | undefined, body?: RefusalBody): Reply {
  const headers: Record<string, string> =
    body === undefined ? { ...TEXT_HEADERS } : { ...TEXT_HEADERS, 'content-type': body.contentType };
  if (status === 401 && challenge !== undefined) headers['www-authenticate'] = challenge;
  return { status, headers, body: body?.body ?? (status === 401 ? 'unauthorized\n' : 'forbidden\n') };
}
