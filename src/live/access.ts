import type { IncomingMessage } from 'node:http';
import { type LiveScope, TOKEN_PREFIX, type TokenSigner } from './token.js';

/** What `authorize` sees of an SSE request. */
export interface LiveAuthRequest {
  /** The stream asked for. */
  readonly scope: LiveScope;
  readonly method: string;
  /** The request URL (query included; a `token` parameter is never one of ours when you see it). */
  readonly url: URL;
  /** A request header, lower or mixed case. */
  header(name: string): string | undefined;
  /** The original request, for the host's own session middleware (`req.user`, cookies, …). */
  readonly raw: IncomingMessage | Request;
}

/** The verdict of `authorize`: `true` opens the stream, `false` or `401` refuses it as unauthenticated, `403` as forbidden. */
export type LiveVerdict = boolean | 401 | 403;

/** Grants access to a live stream; may be async. A throw or rejection counts as 401. */
export type LiveAuthorize = (request: LiveAuthRequest) => LiveVerdict | PromiseLike<LiveVerdict>;

/** 200 to open the stream, else the refusal status. */
export type AccessStatus = 200 | 401 | 403;

/**
 * A live token (in `?token=` or `Authorization: Bearer`) is checked here: valid and in scope opens,
 * otherwise 401 (bad or expired) or 403 (other scope). Any other credential goes to `authorize`.
 */
export async function checkAccess(
  request: LiveAuthRequest,
  signer: TokenSigner,
  authorize: LiveAuthorize | undefined,
  failed: (error: unknown) => void,
): Promise<AccessStatus> {
  const token = liveToken(request);
  if (token !== undefined) {
    const check = signer.check(token, request.scope);
    return check.ok ? 200 : check.reason === 'scope' ? 403 : 401;
  }
  if (authorize === undefined) return 401;
  let verdict: LiveVerdict;
  try {
    verdict = await authorize(request);
  } catch (error) {
    failed(error);
    return 401;
  }
  return verdict === true ? 200 : verdict === 403 ? 403 : 401;
}

function liveToken(request: LiveAuthRequest): string | undefined {
  const query = request.url.searchParams.get('token');
  if (query?.startsWith(TOKEN_PREFIX)) return query;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.header('authorization') ?? '');
  if (match?.[1]?.startsWith(TOKEN_PREFIX)) return match[1];
  return undefined;
}
