import {
  type AccessStatus,
  type Authorize,
  AuthorizeFailure,
  askAuthorize,
  bearerToken,
  type HttpAuthRequest,
} from '../http/auth.js';
import { type LiveScope, TOKEN_PREFIX, type TokenSigner } from './token.js';

/** What `authorize` sees of an SSE request. */
export interface LiveAuthRequest extends HttpAuthRequest {
  /** The stream asked for. */
  readonly scope: LiveScope;
  /** The request URL (query included; a `token` parameter is never one of ours when you see it). */
  readonly url: URL;
}

/** The verdict of `authorize`: `true` opens the stream, `false` or `401` refuses it as unauthenticated, `403` as forbidden. */
export type { AccessVerdict as LiveVerdict } from '../http/auth.js';

/** Grants access to a live stream; may be async. A throw or rejection counts as 401. */
export interface LiveAuthorize extends Authorize<LiveAuthRequest> {}

export type { AccessStatus } from '../http/auth.js';

/**
 * A live token (in `?token=` or `Authorization: Bearer`) is checked here: valid and in scope opens,
 * otherwise 401 (bad or expired) or 403 (other scope). Any other credential goes to `authorize`,
 * whose throw or rejection is reported and counts as 401.
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
  try {
    return await askAuthorize(authorize, request);
  } catch (error) {
    failed(error instanceof AuthorizeFailure ? error.error : error);
    return 401;
  }
}

function liveToken(request: LiveAuthRequest): string | undefined {
  const query = request.url.searchParams.get('token');
  if (query?.startsWith(TOKEN_PREFIX)) return query;
  const bearer = bearerToken(request.header('authorization'));
  return bearer?.startsWith(TOKEN_PREFIX) ? bearer : undefined;
}
