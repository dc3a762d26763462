import type { IncomingMessage, ServerResponse } from 'node:http';
import { TelemetryConfigError } from '../core/errors.js';
import type { RequestHandler } from '../http/handler.js';
import { type AccessStatus, checkAccess, type LiveAuthorize, type LiveAuthRequest } from './access.js';
import type { FrameSource } from './sources.js';
import type { LiveScope, TokenSigner } from './token.js';

/** Headers of every live stream. `X-Accel-Buffering: no` keeps nginx from holding frames back. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-store',
  'x-accel-buffering': 'no',
};

const TEXT = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };

/** Raised when no further live stream may be opened: `live.maxStreams` reached, or the instance shut down. */
export class LiveUnavailableError extends Error {
  override readonly name = 'LiveUnavailableError';
}

/** What an SSE handler needs from the live part. */
export interface SseOptions {
  readonly scope: LiveScope;
  readonly signer: TokenSigner;
  readonly authorize: LiveAuthorize | undefined;
  /** Reports a throwing `authorize` or a failed response. */
  readonly failed: (error: unknown) => void;
  /** Opens the stream a query asks for; throws `TelemetryConfigError` (400) or `LiveUnavailableError` (503). */
  readonly open: (params: URLSearchParams) => FrameSource;
}

interface Refusal {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A streaming request handler for both shapes: Node `(req, res)` and `fetch(Request)`. */
export function sseHandler(options: SseOptions): RequestHandler {
  return {
    node(req, res) {
      serveNode(options, req, res).catch((error: unknown) => {
        options.failed(error);
        if (!res.headersSent) res.writeHead(500, TEXT);
        if (!res.writableEnded) res.end();
      });
    },
    async fetch(request) {
      const url = new URL(request.url);
      const view: LiveAuthRequest = {
        scope: options.scope,
        method: request.method,
        url,
        header: (name) => request.headers.get(name) ?? undefined,
        raw: request,
      };
      const opened = await admit(options, view);
      if ('status' in opened) return new Response(opened.body, { status: opened.status, headers: opened.headers });
      return new Response(webBody(opened.source, request.signal), { status: 200, headers: SSE_HEADERS });
    },
  };
}

async function serveNode(options: SseOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const view: LiveAuthRequest = {
    scope: options.scope,
    method: req.method ?? 'GET',
    url,
    header: (name) => {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    raw: req,
  };
  // The client may leave while `authorize` runs: then no stream is opened at all.
  let gone = false;
  const leave = () => {
    gone = true;
  };
  res.once('close', leave);
  const opened = await admit(options, view, () => gone);
  res.off('close', leave);
  if (gone) {
    if ('source' in opened) opened.source.close();
    return;
  }
  if ('status' in opened) {
    res.writeHead(opened.status, opened.headers);
    res.end(opened.body);
    return;
  }
  res.writeHead(200, SSE_HEADERS);
  req.socket.setNoDelay(true);
  await pump(opened.source, res);
}

/** Checks access, then opens the stream; refusals never open one. */
async function admit(
  options: SseOptions,
  view: LiveAuthRequest,
  gone: () => boolean = () => false,
): Promise<Refusal | { readonly source: FrameSource }> {
  if (view.method !== 'GET') return { status: 405, headers: { ...TEXT, allow: 'GET' }, body: 'method not allowed\n' };
  const status: AccessStatus = await checkAccess(view, options.signer, options.authorize, options.failed);
  if (status === 401) return { status, headers: { ...TEXT, 'www-authenticate': 'Bearer realm="live"' }, body: 'unauthorized\n' };
  if (status === 403) return { status, headers: TEXT, body: 'forbidden\n' };
  if (gone()) return { status: 499, headers: TEXT, body: '' };
  try {
    return { source: options.open(view.url.searchParams) };
  } catch (error) {
    if (error instanceof TelemetryConfigError) return { status: 400, headers: TEXT, body: `${error.message}\n` };
    if (error instanceof LiveUnavailableError)
      return { status: 503, headers: { ...TEXT, 'retry-after': '5' }, body: `${error.message}\n` };
    throw error;
  }
}

/** Writes frames as fast as the socket takes them; a full socket holds back reading, so the stream's buffer bounds memory. */
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
  res.on('drain', onDrain);
  try {
    for (;;) {
      const frame = await source.next();
      if (frame === undefined || closed) break;
      if (!res.write(frame) && !closed) {
        await new Promise<void>((resolve) => {
          drained = resolve;
        });
        drained = undefined;
      }
    }
  } finally {
    res.off('close', onClose);
    res.off('drain', onDrain);
    source.close();
    if (!res.writableEnded) res.end();
  }
}

/** A pull-based body: the next frame is read only when the consumer asks, so backpressure reaches the buffer. */
function webBody(source: FrameSource, signal: AbortSignal): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const abort = () => source.close();
  signal.addEventListener('abort', abort, { once: true });
  const done = () => signal.removeEventListener('abort', abort);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const frame = await source.next();
        if (frame !== undefined) {
          controller.enqueue(encoder.encode(frame));
          return;
        }
        done();
        source.close();
        try {
          controller.close();
        } catch {
          // Already cancelled by the consumer.
        }
      },
      cancel() {
        done();
        source.close();
      },
    },
    { highWaterMark: 0 },
  );
}
