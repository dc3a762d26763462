import { basicChallenge, basicCheck, refusal } from '../http/auth.js';
import { handler, type RequestHandler } from '../http/handler.js';
import { negotiate } from '../http/prometheus.js';
import { CONTENT_TYPES, type ExpositionFormat } from '../metrics/exposition.js';
import type { ResolvedClusterOptions } from './options.js';

const UNAUTHORIZED = refusal(401, basicChallenge('metrics'));

/**
 * The primary's scrape endpoint: the same negotiation (OpenMetrics when `Accept` asks for it,
 * text 0.0.4 otherwise, and always text under the workers' Stalwart naming), methods and optional
 * Basic auth as a worker's own `handlers.prometheus`.
 * The answer waits for the workers, at most the scrape timeout.
 */
export function clusterPrometheusHandler(
  scrape: (format: ExpositionFormat) => Promise<{ readonly format: ExpositionFormat; readonly body: string }>,
  auth: ResolvedClusterOptions['auth'],
): RequestHandler {
  const authorized = auth === undefined ? undefined : basicCheck(auth);
  return handler(
    async (request) => {
      if (authorized !== undefined && !authorized(request.header('authorization'))) return UNAUTHORIZED;
      const { format, body } = await scrape(negotiate(request.header('accept')));
      return {
        status: 200,
        headers: { 'content-type': CONTENT_TYPES[format], 'cache-control': 'no-store' },
        body,
      };
    },
    { methods: ['GET', 'HEAD'] },
  );
}
