import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpAuthRequest } from './auth.js';
import {
  answered,
  BAD_ENCODING,
  BAD_TARGET,
  badEncoding,
  fetchHeader,
  fetchMethod,
  fetchSignal,
  fetchUrl,
  INTERNAL_ERROR,
  methodNotAllowed,
  nodeHeader,
  nodeMethod,
  type Reply,
  requestUrl,
  sendNode,
  webResponse,
} from './request.js';
import { endQuietly, pumpNode, type StreamReply, webBody } from './stream.js';

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
  /**
   * Issues live tokens to requests `live.authorize` accepts, at Stalwart's paths: `.../live/{tracing,metrics}-token`
   * (0.15, answering `{"data": token}` under `stalwart: '0.15'`) or `.../token/{tracing,metrics}` (0.16, text).
   */
  readonly liveToken: RequestHandler;
  /** The history queries as JSON, with Stalwart-compatible paths and parameters. */
  readonly history: RequestHandler;
  /** The alert rules' states and recent transitions as JSON (`options.alerts.authorize`, else the history's). */
  readonly alerts: RequestHandler;
  /** The live web dashboard: one self-contained HTML page that reads `liveMetrics` and `liveTracing`. */
  readonly dashboard: RequestHandler;
}

/** What a handler sees of a request, whatever its shape. */
export interface RequestView {
  readonly method: string;
  header(name: string): string | undefined;
}

/** A request that passed the adapter's checks: its method is one the handler takes, its URL parses. */
export interface HttpRequest extends RequestView, HttpAuthRequest {
  /** True once the client left or someone else answered: a handler about to open a stream should not. */
  gone(): boolean;
}

/** What a handler answers. */
export type { Reply } from './request.js';
export type { FrameStream, StreamReply } from './stream.js';

/** A whole reply or a stream of frames. */
export type Answer = Reply | StreamReply;

/** The replies the adapter itself gives, in the handler's own format. */
export interface AdapterReplies {
  /** A request target that is no URL. @default 400 `malformed request target` */
  readonly badTarget: Reply;
  /** A query with a stray `%` or escapes that are not UTF-8. @default 400 `malformed percent-encoding in the query` */
  readonly badEncoding: Reply;
  /** Any failure inside: never a message, a stack or a secret. @default 500 `internal error` */
  readonly internal: Reply;
  /** A method the handler does not take; `allow` is the `Allow` header it must carry. @default 405 `method not allowed` */
  notAllowed(allow: string): Reply;
}

/** How the adapter checks a request before the handler sees it. */
export interface AdapterOptions {
  /**
   * The methods answered; any other gets 405 with `Allow`.
   * @default undefined (every method reaches the handler)
   */
  readonly methods?: readonly string[];
  /**
   * Refuse a query with malformed percent-encoding (which `URLSearchParams` would silently turn
   * into U+FFFD) with 400, for handlers that read their query.
   * @default false
   */
  readonly strictQuery?: boolean;
  /**
   * The adapter's own replies in the handler's format.
   * @default plain-text replies
   */
  readonly replies?: Partial<AdapterReplies>;
  /**
   * Told of a failure inside (a throw or rejection of the handler, a stream that broke); the client
   * only gets a bare 500. A throw of this hook is swallowed.
   * @default undefined
   */
  readonly failed?: (error: unknown) => void;
}

const PLAIN: AdapterReplies = {
  badTarget: BAD_TARGET,
  badEncoding: BAD_ENCODING,
  internal: INTERNAL_ERROR,
  notAllowed: methodNotAllowed,
};

/**
 * Adapts a request-to-answer function to both handler shapes. Whatever `answer` does, the handler
 * answers and never throws or leaves a rejection: a malformed target or query gets 400, another
 * method 405 with `Allow`, a throw or rejection a bare 500; a response someone else answered
 * already is left alone; HEAD gets the headers of GET without the body (a stream is closed at
 * once). A stream reply is written frame by frame and closed when the client leaves or the host
 * ends the response. A synchronous answer is written synchronously.
 */
export function handler(
  answer: (request: HttpRequest) => Answer | PromiseLike<Answer>,
  options: AdapterOptions = {},
): RequestHandler {
  const replies: AdapterReplies = { ...PLAIN, ...options.replies };
  const methods = options.methods;
  const notAllowed = methods === undefined ? undefined : replies.notAllowed(methods.join(', '));
  const strict = options.strictQuery === true;
  const report = (error: unknown) => {
    try {
      options.failed?.(error);
    } catch {
      // Reporting is best effort: the client still gets its 500.
    }
  };
  /** The refusal a request gets before the handler sees it, or its URL. */
  const check = (method: string, url: URL | undefined): Reply | URL => {
    if (notAllowed !== undefined && !(methods as readonly string[]).includes(method)) return notAllowed;
    if (url === undefined) return replies.badTarget;
    if (strict && badEncoding(url.search)) return replies.badEncoding;
    return url;
  };

  /** Writes what the handler answered; a stream is pumped, or closed at once for HEAD or an answered response. */
  const deliverNode = (result: Answer, res: ServerResponse, head: boolean): void => {
    let stream: StreamReply | undefined;
    try {
      if (!('stream' in result)) sendNode(res, result, head);
      else if (!head && !answered(res)) stream = result;
      else {
        result.stream.close();
        sendNode(res, { status: result.status, headers: result.headers, body: '' }, head);
      }
    } catch (error) {
      report(error);
      sendNode(res, replies.internal, head);
    }
    if (stream === undefined) return;
    pumpNode(stream, res).catch((error: unknown) => {
      report(error);
      if (answered(res)) endQuietly(res);
      else sendNode(res, replies.internal, false);
    });
  };

  return {
    node(req, res) {
      if (answered(res)) return;
      const method = nodeMethod(req);
      const head = method === 'HEAD';
      const url = check(method, requestUrl(req.url));
      if (!(url instanceof URL)) return sendNode(res, url, head);
      // The client may leave (or a host middleware answer) while an async answer runs.
      let left = false;
      const request: HttpRequest = {
        method,
        url,
        header: (name) => nodeHeader(req, name),
        raw: req,
        gone: () => left || answered(res),
      };
      let result: Answer | PromiseLike<Answer>;
      try {
        result = answer(request);
      } catch (error) {
        report(error);
        return sendNode(res, replies.internal, head);
      }
      if (!isThenable(result)) return deliverNode(result, res, head);
      const leave = () => {
        left = true;
      };
      res.once('close', leave);
      Promise.resolve(result).then(
        (settled) => {
          res.off('close', leave);
          deliverNode(settled, res, head);
        },
        (error: unknown) => {
          res.off('close', leave);
          report(error);
          sendNode(res, replies.internal, head);
        },
      );
    },

    async fetch(request) {
      const method = fetchMethod(request);
      const head = method === 'HEAD';
      try {
        const url = check(method, fetchUrl(request));
        if (!(url instanceof URL)) return webResponse(url, head);
        const signal = fetchSignal(request);
        const result = await answer({
          method,
          url,
          header: (name) => fetchHeader(request, name),
          raw: request,
          gone: () => signal?.aborted === true,
        });
        if (!('stream' in result)) return webResponse(result, head);
        const stream = result.stream;
        try {
          if (!head) return new Response(webBody(stream, signal, report), { status: result.status, headers: result.headers });
          stream.close();
          return new Response(null, { status: result.status, headers: result.headers });
        } catch (error) {
          stream.close();
          throw error;
        }
      } catch (error) {
        report(error);
        return webResponse(replies.internal, head);
      }
    },
  };
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
