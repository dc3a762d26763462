import { TelemetryConfigError } from '../base/errors.js';
import { bearerChallenge, refusal } from '../http/auth.js';
import { type Answer, handler, type RequestHandler } from '../http/handler.js';
import { type Reply, TEXT_HEADERS } from '../http/request.js';
import { SSE_HEADERS } from '../http/stream.js';
import { checkAccess, type LiveAuthorize } from './access.js';
import type { FrameSource } from './sources.js';
import type { LiveScope, TokenSigner } from './token.js';

export { SSE_HEADERS } from '../http/stream.js';

const TEXT = TEXT_HEADERS;
const CHALLENGE = bearerChallenge('live');
const UNAUTHORIZED = refusal(401, CHALLENGE);
const FORBIDDEN = refusal(403, CHALLENGE);
const REPEATED_TOKEN: Reply = { status: 400, headers: TEXT, body: 'query.token: given more than once\n' };
/** Not sent: the client left before the stream opened. */
const GONE: Reply = { status: 499, headers: TEXT, body: '' };

/** Raised when no further live stream may be opened: `live.maxStreams` reached, or the instance shut down. */
export class LiveUnavailableError extends Error {
  override readonly name = 'LiveUnavailableError';
}

/** What an SSE handler needs from the live mechanism. */
export interface SseOptions {
  readonly scope: LiveScope;
  readonly signer: TokenSigner;
  readonly authorize: LiveAuthorize | undefined;
  /** Reports a throwing `authorize` or a failed response. */
  readonly failed: (error: unknown) => void;
  /** Opens the stream a query asks for; throws `TelemetryConfigError` (400) or `LiveUnavailableError` (503). */
  readonly open: (params: URLSearchParams) => FrameSource;
}

/**
 * A live stream handler for both shapes. The adapter checks the method, the target and the query's
 * encoding; this checks access, then opens the stream. Refusals never open one, nor does a client
 * that left while `authorize` ran. HEAD opens and closes at once (a full instance still says 503).
 */
export function sseHandler(options: SseOptions): RequestHandler {
  return handler(
    async (request): Promise<Answer> => {
      const params = request.url.searchParams;
      if (params.getAll('token').length > 1) return REPEATED_TOKEN;
      const status = await checkAccess(
        { scope: options.scope, method: request.method, url: request.url, header: request.header, raw: request.raw },
        options.signer,
        options.authorize,
        options.failed,
      );
      if (status !== 200) return status === 401 ? UNAUTHORIZED : FORBIDDEN;
      if (request.gone()) return GONE;
      let source: FrameSource;
      try {
        source = options.open(params);
      } catch (error) {
        if (error instanceof TelemetryConfigError) return { status: 400, headers: TEXT, body: `${error.message}\n` };
        if (error instanceof LiveUnavailableError)
          return { status: 503, headers: { ...TEXT, 'retry-after': '5' }, body: `${error.message}\n` };
        throw error;
      }
      return { status: 200, headers: SSE_HEADERS, stream: source };
    },
    { methods: ['GET', 'HEAD'], strictQuery: true, failed: options.failed },
  );
}
