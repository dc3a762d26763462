import type { IncomingMessage, ServerResponse } from 'node:http';
import { TelemetryConfigError } from '../base/errors.js';
import type { RequestHandler } from '../http/handler.js';
import {
  answered,
  BAD_ENCODING,
  BAD_TARGET,
  badEncoding,
  fetchHeader,
  fetchUrl,
  INTERNAL_ERROR,
  methodNotAllowed,
  nodeHeader,
  nodeMethod,
  type Reply,
  requestUrl,
  sendNode,
  TEXT_HEADERS,
  webResponse,
} from '../http/request.js';
import { type AccessStatus, checkAccess, type LiveAuthorize, type LiveAuthRequest } from './access.js';
import type { FrameSource } from './sources.js';
import type { LiveScope, TokenSigner } from './token.js';

/**
 * Headers of every live stream. `no-transform` keeps Express's `compression()` (and proxies) from
 * gzipping frames it would hold back; `X-Accel-Buffering: no` keeps nginx from buffering them.
 */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-store, no-transform',
  'x-accel-buffering': 'no',
};

const TEXT = TEXT_HEADERS;
const NOT_ALLOWED = methodNotAllowed('GET, HEAD');
const UNAUTHORIZED: Reply = {
  status: 401,
  headers: { ...TEXT, 'www-authenticate': 'Bearer realm="live"' },
  body: 'unauthorized\n',
};
const FORBIDDEN: Reply = { status: 403, headers: TEXT, body: 'forbidden\n' };
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

/** What one request asks, read from either shape. */
interface Asked {
  readonly method: string;
  readonly url: URL | undefined;
  header(name: string): string | undefined;
  readonly raw: IncomingMessage | Request;
}

/**
 * A streaming request handler for both shapes: Node `(req, res)` and `fetch(Request)`. It never
 * throws and never leaves a rejection: a failure inside is reported and answered with a bare 500.
 */
export function sseHandler(options: SseOptions): RequestHandler {
  return {
    node(req, res) {
      if (answered(res)) return;
      serveNode(options, req, res).catch((error: unknown) => {
        report(options, error);
        if (!answered(res)) sendNode(res, INTERNAL_ERROR, false);
        else endQuietly(res);
      });
    },
    async fetch(request) {
      try {
        return await serveFetch(options, request);
      } catch (error) {
        report(options, error);
        return webResponse(INTERNAL_ERROR, false);
      }
    },
  };
}

async function serveFetch(options: SseOptions, request: Request): Promise<Response> {
  const method = request.method;
  const asked: Asked = { method, url: fetchUrl(request), header: (name) => fetchHeader(request, name), raw: request };
  const signal = request.signal;
  const opened = await admit(options, asked, () => signal.aborted);
  if ('status' in opened) return webResponse(opened, method === 'HEAD');
  return new Response(
    webBody(opened.source, signal, (error) => report(options, error)),
    { status: 200, headers: SSE_HEADERS },
  );
}

async function serveNode(options: SseOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = nodeMethod(req);
  const asked: Asked = { method, url: requestUrl(req.url), header: (name) => nodeHeader(req, name), raw: req };
  // The client may leave (or a host middleware answer) while `authorize` runs: then no stream is opened.
  let gone = false;
  const leave = () => {
    gone = true;
  };
  res.once('close', leave);
  let opened: Reply | { readonly source: FrameSource };
  try {
    opened = await admit(options, asked, () => gone || answered(res));
  } finally {
    res.off('close', leave);
  }
  if (gone || answered(res)) {
    if ('source' in opened) opened.source.close();
    return;
  }
  if ('status' in opened) {
    sendNode(res, opened, method === 'HEAD');
    return;
  }
  try {
    res.writeHead(200, SSE_HEADERS);
    res.socket?.setNoDelay(true);
  } catch (error) {
    opened.source.close();
    throw error;
  }
  await pump(opened.source, res);
}

/** Checks the request, then access, then opens the stream; refusals never open one. HEAD opens and closes at once. */
async function admit(options: SseOptions, asked: Asked, gone: () => boolean): Promise<Reply | { readonly source: FrameSource }> {
  if (asked.method !== 'GET' && asked.method !== 'HEAD') return NOT_ALLOWED;
  const url = asked.url;
  if (url === undefined) return BAD_TARGET;
  if (badEncoding(url.search)) return BAD_ENCODING;
  const params = url.searchParams;
  if (params.getAll('token').length > 1) return REPEATED_TOKEN;
  const view: LiveAuthRequest = { scope: options.scope, method: asked.method, url, header: asked.header, raw: asked.raw };
  const status: AccessStatus = await checkAccess(view, options.signer, options.authorize, options.failed);
  if (status === 401) return UNAUTHORIZED;
  if (status === 403) return FORBIDDEN;
  if (gone()) return GONE;
  let source: FrameSource;
  try {
    source = options.open(params);
  } catch (error) {
    if (error instanceof TelemetryConfigError) return { status: 400, headers: TEXT, body: `${error.message}\n` };
    if (error instanceof LiveUnavailableError)
      return { status: 503, headers: { ...TEXT, 'retry-after': '5' }, body: `${error.message}\n` };
    throw error;
  }
  if (asked.method !== 'HEAD') return { source };
  source.close();
  return { status: 200, headers: SSE_HEADERS, body: '' };
}

/**
 * Writes frames as fast as the socket takes them; a full socket holds back reading, so the stream's
 * buffer bounds memory. Each frame is flushed through `compression()` when it wraps the response.
 * The response ending or closing by any hand (client, host, framework) frees the source at once.
 */
async function pump(source: FrameSource, res: ServerResponse): Promise<void> {
  let closed = false;
  let drained: (() => void) | undefined;
  const onClose = () => {
    closed = true;
    source.close();
    drained?.();
  };
  const onDrain = () => drained?.();
  res.on('close', onClose);
  res.on('finish', onClose);
  res.on('drain', onDrain);
  const flush = (res as { flush?: unknown }).flush;
  try {
    for (;;) {
      const frame = await source.next();
      // Writing after someone else ended the response emits an 'error' that would kill the host.
      if (frame === undefined || closed || res.writableEnded || res.destroyed) break;
      const more = res.write(frame);
      if (typeof flush === 'function') flush.call(res);
      if (!more && !closed) {
        await new Promise<void>((resolve) => {
          drained = resolve;
        });
        drained = undefined;
      }
    }
  } finally {
    res.off('close', onClose);
    res.off('finish', onClose);
    res.off('drain', onDrain);
    source.close();
    endQuietly(res);
  }
}

function endQuietly(res: ServerResponse): void {
  try {
    if (!res.writableEnded && !res.destroyed) res.end();
  } catch {
    // The response is past ending: nothing more to free.
  }
}

/** Reports a failure; the reporter itself may not throw into a handler. */
function report(options: SseOptions, error: unknown): void {
  try {
    options.failed(error);
  } catch {
    // Reporting is best effort: the client still gets its 500.
  }
}

/** A pull-based body: the next frame is read only when the consumer asks, so backpressure reaches the buffer. */
function webBody(source: FrameSource, signal: AbortSignal, failed: (error: unknown) => void): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const abort = () => source.close();
  const done = () => {
    signal.removeEventListener('abort', abort);
    source.close();
  };
  if (signal.aborted) source.close();
  else signal.addEventListener('abort', abort, { once: true });
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let frame: string | undefined;
        try {
          frame = await source.next();
        } catch (error) {
          done();
          failed(error);
          // The consumer learns that the stream broke, not why: the reason went to the telemetry error events.
          controller.error(new Error('mail-telemetry: live stream failed'));
          return;
        }
        if (frame !== undefined) {
          controller.enqueue(encoder.encode(frame));
          return;
        }
        done();
        try {
          controller.close();
        } catch {
          // Already cancelled by the consumer.
        }
      },
      cancel() {
        done();
      },
    },
    { highWaterMark: 0 },
  );
}
