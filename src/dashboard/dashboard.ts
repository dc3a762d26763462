import { handler, type RequestHandler } from '../http/handler.js';
import { type Reply, TEXT_HEADERS } from '../http/request.js';
import type { ResolvedDashboard } from './options.js';
import { contentSecurityPolicy, renderPage } from './page.js';

const NOT_FOUND = { status: 404, headers: TEXT_HEADERS, body: 'not found\n' };

/**
 * `handlers.dashboard`: one self-contained HTML page (inline, hashed CSS and JS) that reads the live
 * metric and tracing streams with `EventSource`. The page holds no secret: a token comes from the
 * page's own URL fragment, and the live handlers check it. Guard the page itself with the host's
 * own login if its layout should not be public.
 */
export function createDashboard(options: ResolvedDashboard): RequestHandler {
  // A disabled dashboard is not there at all, whatever the method.
  if (!options.enabled) return handler(() => NOT_FOUND);
  // Rendered on the first request: its hashes need crypto, which a host without a dashboard never loads.
  let page: Reply | undefined;
  return handler(() => (page ??= pageReply(options)), { methods: ['GET', 'HEAD'] });
}

function pageReply(options: ResolvedDashboard): Reply {
  const body = renderPage(options);
  return {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'content-security-policy': contentSecurityPolicy(),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    },
    body,
  };
}
