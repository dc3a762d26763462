import { CONTENT_TYPES, type ExpositionFormat } from '../metrics/exposition.js';
import { type BasicCredentials, basicChallenge, basicCheck, refusal } from './auth.js';
import { handler, type RequestHandler } from './handler.js';

const UNAUTHORIZED = refusal(401, basicChallenge('metrics'));

/**
 * The Prometheus scrape handler: OpenMetrics when the `Accept` header asks for it, text 0.0.4
 * otherwise; optional Basic auth compared in constant time. `textOnly` (Stalwart naming) always
 * answers text 0.0.4, as Stalwart does: OpenMetrics would add `_total` to every counter sample,
 * which Stalwart's dashboards do not query.
 */
export function prometheusHandler(
  render: (format: ExpositionFormat) => string,
  auth: BasicCredentials | undefined,
  textOnly = false,
): RequestHandler {
  const authorized = auth === undefined ? undefined : basicCheck(auth);
  return handler(
    (request) => {
      if (authorized !== undefined && !authorized(request.header('authorization'))) return UNAUTHORIZED;
      const format = textOnly ? 'text' : negotiate(request.header('accept'));
      return {
        status: 200,
        headers: { 'content-type': CONTENT_TYPES[format], 'cache-control': 'no-store' },
        body: render(format),
      };
    },
    { methods: ['GET', 'HEAD'] },
  );
}

/** OpenMetrics when the client lists it (as Prometheus does), text 0.0.4 otherwise. */
export function negotiate(accept: string | undefined): ExpositionFormat {
  if (accept === undefined) return 'text';
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().split(';');
    if (type?.trim().toLowerCase() !== 'application/openmetrics-text') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return 'openmetrics';
  }
  return 'text';
}
