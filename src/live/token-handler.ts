import { describeError } from '../base/errors.js';
import { AuthorizeFailure, askAuthorize, bearerChallenge, refusal } from '../http/auth.js';
import { handler, type RequestHandler } from '../http/handler.js';
import { type Reply, TEXT_HEADERS } from '../http/request.js';
import type { StalwartVersion } from '../stalwart/version.js';
import type { LiveAuthorize } from './access.js';
import type { LiveScope, TokenSigner } from './token.js';

const UNAUTHORIZED = refusal(401, bearerChallenge('live'));
const FORBIDDEN = refusal(403, bearerChallenge('live'));
const CLOSED = refusal(401, bearerChallenge('live'), {
  contentType: 'text/plain; charset=utf-8',
  body: 'the token handler is closed: set options.live.authorize to open it\n',
});
const NOT_FOUND: Reply = {
  status: 404,
  headers: TEXT_HEADERS,
  body: 'known paths end in /live/tracing-token, /live/metrics-token (Stalwart 0.15), /token/tracing or /token/metrics (0.16)\n',
};
/** Stalwart's live tokens last 60 s. */
const TTL_SECONDS = 60;

/** The stream a token path asks for: Stalwart 0.15's `.../live/{scope}-token` or 0.16's `.../token/{scope}`. */
export function tokenScope(pathname: string): LiveScope | undefined {
  const m = /\/(?:live\/(tracing|metrics)-token|token\/(tracing|metrics))\/*$/.exec(pathname);
  return (m?.[1] ?? m?.[2]) as LiveScope | undefined;
}

/**
 * `handlers.liveToken`: issues a live token to a request the host's `live.authorize` accepts (a
 * live token never mints another). Mount it at Stalwart's paths: 0.15's
 * `GET /api/telemetry/live/{tracing,metrics}-token` answers `{"data":"<token>"}` (read by the 0.15
 * admin's `HttpRequest::send::<String>`), 0.16's `GET /api/token/{tracing,metrics}` and the default
 * answer the token as text. Never cached.
 */
export function tokenHandler(
  signer: TokenSigner,
  authorize: LiveAuthorize | undefined,
  version: StalwartVersion | undefined,
  failed: (error: unknown) => void,
): RequestHandler {
  return handler(
    async (request) => {
      const scope = tokenScope(request.url.pathname);
      if (scope === undefined) return NOT_FOUND;
      if (authorize === undefined) return CLOSED;
      let status: 200 | 401 | 403;
      try {
        status = await askAuthorize(authorize, {
          scope,
          method: request.method,
          url: request.url,
          header: request.header,
          raw: request.raw,
        });
      } catch (error) {
        failed(error instanceof AuthorizeFailure ? error.error : error);
        status = 401;
      }
      if (status !== 200) return status === 401 ? UNAUTHORIZED : FORBIDDEN;
      const token = signer.issue({ scope, ttlSeconds: TTL_SECONDS });
      return version === '0.15'
        ? {
            status: 200,
            headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
            body: JSON.stringify({ data: token }),
          }
        : { status: 200, headers: { ...TEXT_HEADERS, 'cache-control': 'no-store' }, body: token };
    },
    {
      methods: ['GET'],
      failed: (error) => failed(new Error(`the live token handler failed: ${describeError(error)}`)),
    },
  );
}
