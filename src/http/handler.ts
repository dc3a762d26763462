import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  answered,
  BAD_TARGET,
  fetchHeader,
  INTERNAL_ERROR,
  nodeHeader,
  nodeMethod,
  type Reply,
  requestUrl,
  sendNode,
  webResponse,
} from './request.js';

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
export type { Reply } from './request.js';

/**
 * Adapts a request-to-reply function to both handler shapes. Whatever `answer` does, the handler
 * answers: a throw becomes a bare 500, a response someone else answered already is left alone,
 * and HEAD gets the headers of GET without the body.
 */
export function handler(answer: (request: RequestView) => Reply): RequestHandler {
  return {
    node(req, res) {
      if (answered(res)) return;
      const method = nodeMethod(req);
      if (requestUrl(req.url) === undefined) return sendNode(res, BAD_TARGET, method === 'HEAD');
      sendNode(res, settle(answer, { method, header: (name) => nodeHeader(req, name) }), method === 'HEAD');
    },
    async fetch(request) {
      let method: string;
      try {
        method = request.method;
      } catch {
        return webResponse(INTERNAL_ERROR, false);
      }
      const result = settle(answer, { method, header: (name) => fetchHeader(request, name) });
      try {
        return webResponse(result, method === 'HEAD');
      } catch {
        return webResponse(INTERNAL_ERROR, method === 'HEAD');
      }
    },
  };
}

/** The reply of `answer`, or a bare 500 when it throws. */
function settle(answer: (request: RequestView) => Reply, view: RequestView): Reply {
  try {
    return answer(view);
  } catch {
    return INTERNAL_ERROR;
  }
}
