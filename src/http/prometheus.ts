import { createHash, timingSafeEqual } from 'node:crypto';
import { CONTENT_TYPES, type ExpositionFormat } from '../metrics/exposition.js';
import { handler, type RequestHandler, type RequestView } from './handler.js';

const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

/**
 * The Prometheus scrape handler: OpenMetrics when the `Accept` header asks for it, text 0.0.4
 * otherwise; optional Basic auth compared in constant time.
 */
export function prometheusHandler(
  render: (format: ExpositionFormat) => string,
  auth: { readonly username: string; readonly password: string } | undefined,
): RequestHandler {
  const expected = auth === undefined ? undefined : digest(`${auth.username}:${auth.password}`);
  return handler((request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return { status: 405, headers: { ...TEXT, allow: 'GET, HEAD' }, body: 'method not allowed\n' };
    }
    if (expected !== undefined && !authorized(request, expected)) {
      return {
        status: 401,
        headers: { ...TEXT, 'www-authenticate': 'Basic realm="metrics", charset="UTF-8"' },
        body: 'unauthorized\n',
      };
    }
    const format = negotiate(request.header('accept'));
    return { status: 200, headers: { 'content-type': CONTENT_TYPES[format], 'cache-control': 'no-store' }, body: render(format) };
  });
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

function authorized(request: RequestView, expected: Buffer): boolean {
  const header = request.header('authorization');
  const match = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (match === null) return false;
  // Digests have a fixed length, so the comparison time says nothing about the secret.
  return timingSafeEqual(digest(Buffer.from(match[1] as string, 'base64').toString('utf8')), expected);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
