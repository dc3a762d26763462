import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request handler in the two shapes hosts mount: Node's `(req, res)` and the web `fetch`. */
export interface RequestHandler {
  /** For `node:http`, Express and Fastify (`reply.raw`). */
  node(req: IncomingMessage, res: ServerResponse): void;
  /** For Hono, Bun, Deno and anything with web `Request`/`Response`. */
  fetch(request: Request): Promise<Response>;
}

/** The request handlers a telemetry instance offers, to mount on the host's HTTP server. */
export interface TelemetryHandlers {
  /** The Prometheus scrape endpoint (text 0.0.4 or OpenMetrics by `Accept`; Basic auth if configured). */
  readonly prometheus: RequestHandler;
  /** Server-sent events of live events (`event: trace`), filtered by query parameters. */
  readonly liveTracing: RequestHandler;
  /** Server-sent events of metric frames (`event: metrics`). */
  readonly liveMetrics: RequestHandler;
  /** The history queries as JSON, with Stalwart-compatible paths and parameters. */
  readonly history: RequestHandler;
  /** The live web dashboard: one self-contained HTML page that reads `liveMetrics` and `liveTracing`. */
  readonly dashboard: RequestHandler;
}

/** What a handler sees of a request, whatever its shape. */
export interface RequestView {
  readonly method: string;
  header(name: string): string | undefined;
}

/** What a handler answers. */
export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Adapts a request-to-reply function to both handler shapes. */
export function handler(answer: (request: RequestView) => Reply): RequestHandler {
  return {
    node(req, res) {
      let reply: Reply;
      try {
        reply = answer({ method: req.method ?? 'GET', header: (name) => single(req.headers[name.toLowerCase()]) });
      } catch {
        reply = { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'internal error\n' };
      }
      res.writeHead(reply.status, reply.headers);
      res.end(req.method === 'HEAD' ? undefined : reply.body);
    },
    async fetch(request) {
      let reply: Reply;
      try {
        reply = answer({ method: request.method, header: (name) => request.headers.get(name) ?? undefined });
      } catch {
        reply = { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'internal error\n' };
      }
      return new Response(request.method === 'HEAD' ? null : reply.body, { status: reply.status, headers: reply.headers });
    },
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
