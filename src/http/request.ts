import type { IncomingMessage, ServerResponse } from 'node:http';

/** A reply a handler hands to the adapter: complete, with no stream. */
export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Plain-text headers of every refusal and failure. */
export const TEXT_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/plain; charset=utf-8',
  'cache-control': 'no-store',
};

/** What any failure inside a handler answers: no stack, no message, nothing of the host's. */
export const INTERNAL_ERROR: Reply = { status: 500, headers: TEXT_HEADERS, body: 'internal error\n' };

/** A malformed request target (`http://a:99999/x`, `//[`): the client's error, not ours. */
export const BAD_TARGET: Reply = { status: 400, headers: TEXT_HEADERS, body: 'malformed request target\n' };

/** A query with `%` not followed by two hex digits, or bytes that are not UTF-8. */
export const BAD_ENCODING: Reply = { status: 400, headers: TEXT_HEADERS, body: 'malformed percent-encoding in the query\n' };

/** `405` naming the methods the handler takes. */
export function methodNotAllowed(allow: string): Reply {
  return { status: 405, headers: { ...TEXT_HEADERS, allow }, body: 'method not allowed\n' };
}

/**
 * The URL of a Node request target, read as `new URL(target, 'http://localhost')` reads it, or
 * undefined when it cannot be read. Node and Express's legacy parser route targets that the URL
 * standard rejects, so a throw here must never escape.
 */
export function requestUrl(target: unknown): URL | undefined {
  if (typeof target !== 'string') return target === undefined ? new URL('http://localhost/') : undefined;
  try {
    return new URL(target, 'http://localhost');
  } catch {
    return undefined;
  }
}

/** The URL of a web `Request`, or undefined when the object has none that parses. */
export function fetchUrl(request: Request): URL | undefined {
  try {
    const url: unknown = request.url;
    return typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    return undefined;
  }
}

const PERCENT = /%(?![0-9A-Fa-f]{2})/;

/** True when the query (`url.search`) holds a stray `%` or a percent-encoded sequence that is not UTF-8. */
export function badEncoding(search: string): boolean {
  if (search.indexOf('%') < 0) return false;
  if (PERCENT.test(search)) return true;
  try {
    // `decodeURIComponent` is strict where `URLSearchParams` silently writes U+FFFD.
    decodeURIComponent(search);
    return false;
  } catch {
    return true;
  }
}

/**
 * True when the response can no longer take a reply: someone answered it already (a timeout
 * middleware, a Fastify `async` route), it ended, or its socket is gone.
 */
export function answered(res: ServerResponse): boolean {
  try {
    return res.headersSent || res.writableEnded || res.destroyed || res.socket?.destroyed === true;
  } catch {
    return true;
  }
}

/** A request header as one string (repeated headers joined as Node joins them); never throws. */
export function nodeHeader(req: IncomingMessage, name: string): string | undefined {
  try {
    const value: unknown = req.headers[name.toLowerCase()];
    if (typeof value === 'string') return value;
    return Array.isArray(value) ? value.join(', ') : undefined;
  } catch {
    return undefined;
  }
}

/** A request header of a web `Request`; never throws. */
export function fetchHeader(request: Request, name: string): string | undefined {
  try {
    return request.headers.get(name) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The method of a Node request; never throws. */
export function nodeMethod(req: IncomingMessage): string {
  try {
    return typeof req.method === 'string' ? req.method : 'GET';
  } catch {
    return '';
  }
}

/** The method of a web `Request`; never throws (an unreadable one is `''`, which no handler takes). */
export function fetchMethod(request: Request): string {
  try {
    const method: unknown = request.method;
    return typeof method === 'string' ? method : 'GET';
  } catch {
    return '';
  }
}

/** The abort signal of a web `Request` (it aborts when the client leaves), if it has one that reads. */
export function fetchSignal(request: Request): AbortSignal | undefined {
  try {
    const signal = request.signal as Partial<AbortSignal> | null | undefined;
    // Duck-typed: a signal from another realm or a polyfill works the same.
    return typeof signal?.aborted === 'boolean' && typeof signal.addEventListener === 'function'
      ? (signal as AbortSignal)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a whole reply unless the response was answered already; HEAD gets the headers only. Never throws. */
export function sendNode(res: ServerResponse, reply: Reply, head: boolean): void {
  if (answered(res)) return;
  try {
    res.writeHead(reply.status, reply.headers);
    res.end(head ? undefined : reply.body);
  } catch {
    // Answered between the check and the write by a framework hook: the reply that went out stands.
  }
}

/** A web `Response` for a reply; HEAD gets the headers only. */
export function webResponse(reply: Reply, head: boolean): Response {
  return new Response(head ? null : reply.body, { status: reply.status, headers: reply.headers });
}
