import { handler, type RequestHandler } from '../http/handler.js';
import type { ResolvedDashboard } from './options.js';
import { CONTENT_SECURITY_POLICY, renderPage } from './page.js';

const TEXT = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };

/**
 * `handlers.dashboard`: one self-contained HTML page (inline, hashed CSS and JS) that reads the live
 * metric and tracing streams with `EventSource`. The page holds no secret: a token comes from the
 * page's own URL fragment, and the live handlers check it. Guard the page itself with the host's
 * own login if its layout should not be public.
 */
export function createDashboard(options: ResolvedDashboard): RequestHandler {
  const body = renderPage(options);
  const headers: Readonly<Record<string, string>> = {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
  return handler((request) => {
    if (!options.enabled) return { status: 404, headers: TEXT, body: 'not found\n' };
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return { status: 405, headers: { ...TEXT, allow: 'GET, HEAD' }, body: 'method not allowed\n' };
    return { status: 200, headers, body };
  });
}
