import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLevel } from '../catalog/levels.js';
import { jsonValue } from '../core/json.js';
import type { RequestHandler } from '../http/handler.js';
import type { HistoryApi } from './history.js';
import { HistoryQueryError, MAX_LIMIT } from './query.js';
import type { EventQuery, KeyMatch, Trace, TraceQuery } from './types.js';

/** What `authorize` sees of a history request. */
export interface HistoryAuthRequest {
  readonly method: string;
  /** The request URL, query included. */
  readonly url: URL;
  /** A request header, lower or mixed case. */
  header(name: string): string | undefined;
  /** The original request, for the host's own session checks (`req.user`, cookies, …). */
  readonly raw: IncomingMessage | Request;
}

/** `true` answers the request; `false` or `401` refuses it as unauthenticated, `403` as forbidden. */
export type HistoryVerdict = boolean | 401 | 403;

/** Decides who may read the history over HTTP. */
export type HistoryAuthorize = (request: HistoryAuthRequest) => HistoryVerdict | PromiseLike<HistoryVerdict>;

/** What the history answers. */
interface Answer {
  readonly status: number;
  readonly body: unknown;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';
/** Stalwart lists the last 24 h of traces when no filter narrows the query. */
const DEFAULT_WINDOW = 86_400_000;
const MAX_SKIPPED = 100_000;
const TRACES_PARAMS = new Set(['type', 'queue_id', 'filter', 'before', 'after', 'page', 'limit', 'values', 'cursor']);
const METRICS_PARAMS = new Set(['metrics', 'before', 'after']);
const EVENTS_PARAMS = new Set(['type', 'level', 'filter', 'span_id', 'before', 'after', 'page', 'limit', 'cursor']);
const KEY_PARAM = /^([A-Za-z][A-Za-z0-9_]*)(~?)$/;

/**
 * The history as JSON, with Stalwart's paths and parameters (matched at the end of the path, so any
 * prefix works): `GET …/telemetry/traces`, `…/telemetry/trace/{id}`, `…/telemetry/metrics`, and
 * `…/telemetry/events`. Bodies are `{ "data": … }`; errors are RFC 7807 problem documents.
 */
export function historyHandler(api: HistoryApi, now: () => number, authorize: HistoryAuthorize | undefined): RequestHandler {
  const answer = async (request: HistoryAuthRequest): Promise<Answer> => {
    const verdict = authorize === undefined ? 401 : await authorize(request);
    if (verdict === 403) return problem(403, 'Forbidden', 'this request may not read the history');
    if (verdict !== true)
      return problem(
        401,
        'Unauthorized',
        authorize === undefined
          ? 'the history handler is closed: set options.history.authorize to open it'
          : 'authentication required',
      );
    return route(api, now, request.method, request.url);
  };
  return {
    node(req: IncomingMessage, res: ServerResponse) {
      const view: HistoryAuthRequest = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', 'http://localhost'),
        header: (name) => single(req.headers[name.toLowerCase()]),
        raw: req,
      };
      void settle(answer(view)).then((reply) => {
        res.writeHead(reply.status, reply.headers);
        res.end(req.method === 'HEAD' ? undefined : reply.body);
      });
    },
    async fetch(request: Request) {
      const view: HistoryAuthRequest = {
        method: request.method,
        url: new URL(request.url),
        header: (name) => request.headers.get(name) ?? undefined,
        raw: request,
      };
      const reply = await settle(answer(view));
      return new Response(request.method === 'HEAD' ? null : reply.body, { status: reply.status, headers: reply.headers });
    },
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The async twin of `http/handler.ts`: a failure becomes a problem document, never a thrown error. */
async function settle(pending: Promise<Answer>): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  let answer: Answer;
  try {
    answer = await pending;
  } catch (error) {
    answer =
      error instanceof HistoryQueryError
        ? problem(400, 'Invalid parameters', error.message)
        : problem(500, 'Internal error', 'the history store failed; see the telemetry error events');
  }
  const ok = answer.status < 400;
  return {
    status: answer.status,
    headers: { 'content-type': ok ? JSON_TYPE : PROBLEM_TYPE, 'cache-control': 'no-store' },
    body: JSON.stringify(ok ? { data: answer.body } : answer.body, jsonValue),
  };
}

function problem(status: number, title: string, detail: string): Answer {
  return { status, body: { type: 'about:blank', status, title, detail } };
}

async function route(api: HistoryApi, now: () => number, method: string, url: URL): Promise<Answer> {
  if (method !== 'GET' && method !== 'HEAD') return problem(405, 'Method not allowed', 'use GET');
  const path = url.pathname.replace(/\/+$/, '');
  const params = url.searchParams;
  if (path.endsWith('/telemetry/traces')) return traces(api, now, params);
  const trace = /\/telemetry\/trace\/([^/]+)$/.exec(path);
  if (trace !== null) return one(api, decodeURIComponent(trace[1] as string));
  if (path.endsWith('/telemetry/metrics')) return metrics(api, params);
  if (path.endsWith('/telemetry/events')) return events(api, params);
  return problem(
    404,
    'Not found',
    'known paths end in /telemetry/traces, /telemetry/trace/{id}, /telemetry/metrics, /telemetry/events',
  );
}

async function traces(api: HistoryApi, now: () => number, params: URLSearchParams): Promise<Answer> {
  known(params, TRACES_PARAMS);
  const type = param(params, 'type');
  const queueId = param(params, 'queue_id');
  const filter = param(params, 'filter');
  let from = time(params, 'after');
  const to = time(params, 'before');
  if (filter === undefined && queueId === undefined && from === undefined && to === undefined) from = now() - DEFAULT_WINDOW;
  const values = flag(params, 'values');
  const query: TraceQuery = {
    ...(type === undefined ? {} : { type }),
    ...(queueId === undefined ? {} : { queueId }),
    ...(filter === undefined ? {} : { keywords: filter }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  };
  const page = await paged((q) => api.traces({ ...query, ...q }), params);
  const items = values
    ? (await Promise.all(page.items.map((t) => api.trace(t.id)))).filter((t) => t !== undefined).map(publicTrace)
    : page.items.map((t) => t.id);
  return { status: 200, body: { items, ...(page.cursor === undefined ? {} : { cursor: page.cursor }) } };
}

async function one(api: HistoryApi, id: string): Promise<Answer> {
  const trace = await api.trace(/^\d{1,16}$/.test(id) ? Number(id) : id);
  return trace === undefined
    ? problem(404, 'Not found', `no stored trace has id ${JSON.stringify(id)}`)
    : { status: 200, body: publicTrace(trace) };
}

async function metrics(api: HistoryApi, params: URLSearchParams): Promise<Answer> {
  known(params, METRICS_PARAMS);
  if (!api.recordsSeries) return problem(404, 'Not found', 'metric series are not recorded (options.history.series is off)');
  const names = param(params, 'metrics');
  const from = time(params, 'after');
  const to = time(params, 'before');
  const points = await api.series({
    ...(names === undefined
      ? {}
      : {
          metrics: names
            .split(',')
            .map((n) => n.trim())
            .filter((n) => n !== ''),
        }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  });
  return { status: 200, body: points };
}

async function events(api: HistoryApi, params: URLSearchParams): Promise<Answer> {
  const keys: Record<string, KeyMatch> = {};
  for (const name of new Set(params.keys())) {
    if (EVENTS_PARAMS.has(name)) continue;
    const m = KEY_PARAM.exec(name);
    if (m === null) throw unknown(name, EVENTS_PARAMS, ', or a key such as remoteIp=… (exact) or remoteIp~=… (substring)');
    const value = param(params, name) as string;
    keys[m[1] as string] = m[2] === '~' ? { contains: value } : value;
  }
  const level = param(params, 'level');
  if (level !== undefined && !isLevel(level))
    throw new HistoryQueryError('level', `expected trace, debug, info, warn or error, got ${JSON.stringify(level)}`);
  const type = param(params, 'type');
  const text = param(params, 'filter');
  const spanId = param(params, 'span_id');
  const from = time(params, 'after');
  const to = time(params, 'before');
  const query: EventQuery = {
    ...(type === undefined ? {} : { types: type.split(',').map((t) => t.trim()) }),
    ...(level === undefined ? {} : { level }),
    ...(text === undefined ? {} : { text }),
    ...(spanId === undefined ? {} : { spanId: /^\d{1,16}$/.test(spanId) ? Number(spanId) : spanId }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(Object.keys(keys).length === 0 ? {} : { keys }),
  };
  const page = await paged((q) => api.events({ ...query, ...q }), params);
  return { status: 200, body: { items: page.items, ...(page.cursor === undefined ? {} : { cursor: page.cursor }) } };
}

/** Reads `limit` and either `cursor` or a 1-based `page` (walked with cursors, as pages are not stable in a ring). */
async function paged<T>(
  read: (q: { limit?: number; cursor?: string }) => Promise<{ readonly items: readonly T[]; readonly cursor?: string }>,
  params: URLSearchParams,
): Promise<{ readonly items: readonly T[]; readonly cursor?: string }> {
  const limit = integer(params, 'limit', 1, MAX_LIMIT);
  const page = integer(params, 'page', 1, Number.MAX_SAFE_INTEGER) ?? 1;
  let cursor = param(params, 'cursor');
  if (cursor !== undefined && page > 1) throw new HistoryQueryError('page', 'give either page or cursor, not both');
  const size = limit ?? 100;
  if ((page - 1) * size > MAX_SKIPPED)
    throw new HistoryQueryError('page', `pages reach back at most ${MAX_SKIPPED} items; narrow the query or use cursor`);
  for (let p = 1; ; p++) {
    const result = await read({ ...(limit === undefined ? {} : { limit }), ...(cursor === undefined ? {} : { cursor }) });
    if (p === page) return result;
    if (result.cursor === undefined) return { items: [] };
    cursor = result.cursor;
  }
}

/** A trace as JSON: its keyword text is an index, not data. */
function publicTrace(trace: Trace): Omit<Trace, 'keywords'> {
  const { keywords: _keywords, ...rest } = trace;
  return rest;
}

function known(params: URLSearchParams, names: Set<string>): void {
  for (const name of params.keys()) if (!names.has(name)) throw unknown(name, names);
}

function unknown(name: string, names: Set<string>, extra = ''): HistoryQueryError {
  return new HistoryQueryError(name, `unknown parameter; known: ${[...names].join(', ')}${extra}`);
}

function param(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw new HistoryQueryError(name, 'given more than once');
  return all[0];
}

function integer(params: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const text = param(params, name);
  if (text === undefined) return undefined;
  const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max))
    throw new HistoryQueryError(name, `expected an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return value;
}

function flag(params: URLSearchParams, name: string): boolean {
  const text = param(params, name);
  if (text === undefined || text === '0' || text === 'false') return false;
  if (text === '' || text === '1' || text === 'true') return true;
  throw new HistoryQueryError(name, `expected 1, 0, true or false, got ${JSON.stringify(text)}`);
}

/** Unix seconds, as Stalwart takes them, or an RFC 3339 date-time; returns epoch ms. */
function time(params: URLSearchParams, name: string): number | undefined {
  const text = param(params, name);
  if (text === undefined) return undefined;
  if (/^\d{1,12}(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms))
    throw new HistoryQueryError(
      name,
      `expected Unix seconds or an RFC 3339 date-time such as 2026-01-31T12:00:00Z, got ${JSON.stringify(text)}`,
    );
  return ms;
}
