import { dataJson, scalarJson } from '../base/json.js';
import { isLevel } from '../base/levels.js';
import { type Authorize, AuthorizeFailure, askAuthorize, type HttpAuthRequest, refusal } from '../http/auth.js';
import { handler, type RequestHandler } from '../http/handler.js';
import type { Reply } from '../http/request.js';
import {
  logItemJson,
  metricPointsJson,
  queryTypes,
  traceEventsJson,
  traceIdsJson,
  traceSummariesJson,
} from '../stalwart/history.js';
import type { StalwartVersion } from '../stalwart/version.js';
import type { HistoryApi } from './history.js';
import { listJson, pageJson, traceJson, wireEventJson } from './json.js';
import { HistoryQueryError, MAX_LIMIT } from './query.js';
import type { SeriesPoint } from './series.js';
import type { EventQuery, KeyMatch, Page, TraceQuery } from './types.js';

/** What `authorize` sees of a history request. */
export interface HistoryAuthRequest extends HttpAuthRequest {}

/** `true` answers the request; `false` or `401` refuses it as unauthenticated, `403` as forbidden. */
export type { AccessVerdict as HistoryVerdict } from '../http/auth.js';

/** Decides who may read the history over HTTP. */
export interface HistoryAuthorize extends Authorize<HistoryAuthRequest> {}

/** What the history answers: a status and, for 2xx, the JSON of `data`; otherwise a problem document. */
interface Answer {
  readonly status: number;
  /** The JSON of the `data` member (2xx), or of the whole problem document. */
  readonly json: string;
}

/** Stalwart's bodies at Stalwart's paths: the version, and the catalogue's descriptions for `text`. */
export interface HistoryStalwart {
  readonly version: StalwartVersion;
  readonly describe: (type: string) => string;
}

/** Tells the host's error events why a request got a 500 (never the client). */
export type HistoryFailureReport = (error: unknown, details: string) => void;

const JSON_TYPE = 'application/json; charset=utf-8';
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';
/** Stalwart lists the last 24 h of traces when no filter narrows the query. */
const DEFAULT_WINDOW = 86_400_000;
const MAX_SKIPPED = 100_000;
const TRACES_PARAMS = new Set(['type', 'queue_id', 'filter', 'before', 'after', 'node', 'page', 'limit', 'values', 'cursor']);
const METRICS_PARAMS = new Set(['metrics', 'before', 'after', 'node']);
const LOGS_PARAMS = new Set(['page', 'limit', 'filter']);
const EVENTS_PARAMS = new Set(['type', 'level', 'filter', 'span_id', 'before', 'after', 'node', 'page', 'limit', 'cursor']);
const KEY_PARAM = /^([A-Za-z][A-Za-z0-9_]*)(~?)$/;
const INTERNAL = 'the history could not answer; see the telemetry error events';

/** The adapter's own refusals, as problem documents. */
const REPLIES = {
  badTarget: reply(problem(400, 'Bad request', 'the request target is not a valid URL path and query')),
  badEncoding: reply(problem(400, 'Invalid parameters', 'query: malformed percent-encoding')),
  internal: reply(problem(500, 'Internal error', INTERNAL)),
  notAllowed: (allow: string): Reply => {
    const r = reply(problem(405, 'Method not allowed', 'use GET'));
    return { ...r, headers: { ...r.headers, allow } };
  },
};
const FORBIDDEN = problemRefusal(403, 'Forbidden', 'this request may not read the history');
const UNAUTHORIZED = problemRefusal(401, 'Unauthorized', 'authentication required');
const CLOSED = problemRefusal(401, 'Unauthorized', 'the history handler is closed: set options.history.authorize to open it');

/**
 * The history as JSON, with Stalwart's paths and parameters (matched at the end of the path, so any
 * prefix works): `GET .../telemetry/traces`, `.../telemetry/trace/{id}`, `.../telemetry/metrics`, and
 * `.../telemetry/events`. Bodies are `{ "data": ... }`; errors are RFC 7807 problem documents: 400 for a
 * malformed target, parameter or percent-encoding, 405 with `Allow` for another method, 500 (no
 * detail of the cause) for a failure inside, which goes to `report`. Neither shape throws or leaves
 * a rejection unhandled, and the node shape writes nothing to a response the host already answered.
 */
export function historyHandler(
  api: HistoryApi,
  now: () => number,
  authorize: HistoryAuthorize | undefined,
  report: HistoryFailureReport = () => undefined,
  stalwart?: HistoryStalwart,
): RequestHandler {
  return handler(
    async (request) => {
      const view: HistoryAuthRequest = { method: request.method, url: request.url, header: request.header, raw: request.raw };
      const status = await askAuthorize(authorize, view);
      if (status === 403) return FORBIDDEN;
      if (status === 401) return authorize === undefined ? CLOSED : UNAUTHORIZED;
      try {
        return reply(await route(api, now, request.url, stalwart));
      } catch (error) {
        if (error instanceof HistoryQueryError) return reply(problem(400, 'Invalid parameters', error.message));
        throw error;
      }
    },
    {
      methods: ['GET', 'HEAD'],
      strictQuery: true,
      replies: REPLIES,
      failed: (error) => {
        if (error instanceof AuthorizeFailure) report(error.error, 'the history authorize function threw or rejected');
        else report(error, 'a history request failed');
      },
    },
  );
}

function reply(answer: Answer): Reply {
  const ok = answer.status < 400;
  return {
    status: answer.status,
    headers: { 'content-type': ok ? JSON_TYPE : PROBLEM_TYPE, 'cache-control': 'no-store' },
    body: ok ? `{"data":${answer.json}}` : answer.json,
  };
}

function problem(status: number, title: string, detail: string): Answer {
  return { status, json: JSON.stringify({ type: 'about:blank', status, title, detail }) };
}

function problemRefusal(status: 401 | 403, title: string, detail: string): Reply {
  return refusal(status, undefined, { contentType: PROBLEM_TYPE, body: problem(status, title, detail).json });
}

async function route(api: HistoryApi, now: () => number, url: URL, stalwart: HistoryStalwart | undefined): Promise<Answer> {
  const path = url.pathname.replace(/\/+$/, '');
  const params = url.searchParams;
  if (stalwart !== undefined) {
    const answer = await stalwartRoute(api, now, path, params, stalwart);
    if (answer !== undefined) return answer;
  }
  if (path.endsWith('/telemetry/traces')) return traces(api, now, params);
  const trace = /\/telemetry\/trace\/([^/]+)$/.exec(path);
  if (trace !== null) return one(api, decode(trace[1] as string, 'id'));
  if (path.endsWith('/telemetry/metrics')) return metrics(api, params);
  if (path.endsWith('/telemetry/events')) return events(api, params);
  return problem(
    404,
    'Not found',
    'known paths end in /telemetry/traces, /telemetry/trace/{id}, /telemetry/metrics, /telemetry/events',
  );
}

/**
 * Stalwart 0.15's bodies (`v0.15.5:crates/http/src/management/enterprise/telemetry.rs`, `log.rs`):
 * trace lists with `total` (and one summary event per span with `values`), `trace/{id}` as an
 * array of events, metric points, and `/api/logs` from the event ring. Stalwart's `page=0` and
 * `limit=0` (all) are taken too; `limit=0` reads at most the library's page limit.
 */
async function stalwartRoute(
  api: HistoryApi,
  now: () => number,
  path: string,
  params: URLSearchParams,
  stalwart: HistoryStalwart,
): Promise<Answer | undefined> {
  const { version, describe } = stalwart;
  const paging = new URLSearchParams(params);
  if (paging.get('page') === '0') paging.delete('page');
  if (paging.get('limit') === '0') paging.set('limit', String(MAX_LIMIT));
  if (path.endsWith('/telemetry/traces')) {
    const query = traceQuery(params, now);
    const page = await paged((q) => api.traces({ ...query, ...q }), paging);
    const total = page.total ?? page.items.length;
    // Stalwart's values mode is on when the parameter is present at all.
    if (!params.has('values') || params.get('values') === '0' || params.get('values') === 'false')
      return {
        status: 200,
        json: traceIdsJson(
          page.items.map((t) => t.id),
          total,
        ),
      };
    const full = (await Promise.all(page.items.map((t) => api.trace(t.id)))).filter((t) => t !== undefined);
    return { status: 200, json: traceSummariesJson(full, total, version) };
  }
  const trace = /\/telemetry\/trace(?:\/([^/]+))?$/.exec(path);
  if (trace !== null) {
    known(params, trace[1] === undefined ? new Set(['id']) : new Set());
    const spanId = (text: string) => (/^\d{1,16}$/.test(text) ? Number(text) : text);
    if (trace[1] !== undefined)
      return { status: 200, json: traceEventsJson(await api.trace(spanId(decode(trace[1], 'id'))), describe, version) };
    // `trace?id=a,b`: one array of events per id.
    const ids = (param(params, 'id') ?? '').split(',');
    const all = await Promise.all(
      ids.map(async (id) => traceEventsJson(id === '' ? undefined : await api.trace(spanId(id.trim())), describe, version)),
    );
    return { status: 200, json: `[${all.join(',')}]` };
  }
  if (path.endsWith('/telemetry/metrics')) return metrics(api, params, (points) => metricPointsJson(points, version));
  if (path.endsWith('/logs')) {
    known(params, LOGS_PARAMS);
    const text = param(params, 'filter');
    const limit = integer(paging, 'limit', 1, MAX_LIMIT) ?? 100;
    const pageNumber = integer(paging, 'page', 1, Number.MAX_SAFE_INTEGER) ?? 1;
    const query: EventQuery = text === undefined || text === '' ? {} : { text };
    const page = await paged((q) => api.events({ ...query, ...q }), paging);
    // As Stalwart counts it: the lines before this page, this page, and one page more when more follow.
    const total = page.total ?? (pageNumber - 1) * limit + page.items.length + (page.cursor === undefined ? 0 : limit);
    const items = page.items.map((event) => logItemJson(event, describe, version));
    return { status: 200, json: `{"items":[${items.join(',')}],"total":${total}}` };
  }
  return undefined;
}

function decode(text: string, field: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HistoryQueryError(field, 'malformed percent-encoding');
  }
}

/** The trace query a `traces` request asks for; Stalwart's 24 h window when nothing narrows it. */
function traceQuery(params: URLSearchParams, now: () => number): TraceQuery {
  known(params, TRACES_PARAMS);
  const type = param(params, 'type');
  const queueId = param(params, 'queue_id');
  const filter = param(params, 'filter');
  let from = time(params, 'after');
  const to = time(params, 'before');
  if (filter === undefined && queueId === undefined && from === undefined && to === undefined) from = now() - DEFAULT_WINDOW;
  const node = param(params, 'node');
  return {
    ...(node === undefined ? {} : { node }),
    // Stalwart 0.15's names of renamed events select them too.
    ...(type === undefined ? {} : { type: queryTypes(type)[0] ?? type }),
    ...(queueId === undefined ? {} : { queueId }),
    ...(filter === undefined ? {} : { keywords: filter }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  };
}

async function traces(api: HistoryApi, now: () => number, params: URLSearchParams): Promise<Answer> {
  const query = traceQuery(params, now);
  const values = flag(params, 'values');
  const page = await paged((q) => api.traces({ ...query, ...q }), params);
  if (!values)
    return {
      status: 200,
      json: pageJson(
        page.items.map((t) => t.id),
        page.cursor,
        scalarJson,
        page.total,
      ),
    };
  const full = (await Promise.all(page.items.map((t) => api.trace(t.id)))).filter((t) => t !== undefined);
  return { status: 200, json: pageJson(full, page.cursor, traceJson, page.total) };
}

async function one(api: HistoryApi, id: string): Promise<Answer> {
  const trace = await api.trace(/^\d{1,16}$/.test(id) ? Number(id) : id);
  return trace === undefined
    ? problem(404, 'Not found', `no stored trace has id ${JSON.stringify(id)}`)
    : { status: 200, json: traceJson(trace) };
}

/** Metric points of the names asked for (Stalwart 0.15's names of renamed events too), written by `write`. */
async function metrics(
  api: HistoryApi,
  params: URLSearchParams,
  write: (points: readonly SeriesPoint[]) => string = (points) => listJson(points, dataJson),
): Promise<Answer> {
  known(params, METRICS_PARAMS);
  if (!api.recordsSeries) return problem(404, 'Not found', 'metric series are not recorded (options.history.series is off)');
  const names = param(params, 'metrics');
  const from = time(params, 'after');
  const to = time(params, 'before');
  const node = param(params, 'node');
  const points = await api.series({
    ...(node === undefined ? {} : { node }),
    ...(names === undefined ? {} : { metrics: queryTypes(names) }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  });
  return { status: 200, json: write(points) };
}

async function events(api: HistoryApi, params: URLSearchParams): Promise<Answer> {
  // No prototype: a parameter named like an Object.prototype member is a key like any other.
  const keys: Record<string, KeyMatch> = Object.create(null);
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
  const node = param(params, 'node');
  const query: EventQuery = {
    ...(node === undefined ? {} : { node }),
    ...(type === undefined ? {} : { types: queryTypes(type) }),
    ...(level === undefined ? {} : { level }),
    ...(text === undefined ? {} : { text }),
    ...(spanId === undefined ? {} : { spanId: /^\d{1,16}$/.test(spanId) ? Number(spanId) : spanId }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(Object.keys(keys).length === 0 ? {} : { keys }),
  };
  const page = await paged((q) => api.events({ ...query, ...q }), params);
  return { status: 200, json: pageJson(page.items, page.cursor, wireEventJson) };
}

/** Reads `limit` and either `cursor` or a 1-based `page` (walked with cursors, as pages are not stable in a ring). */
async function paged<T>(
  read: (q: { limit?: number; cursor?: string }) => Promise<Page<T>>,
  params: URLSearchParams,
): Promise<Page<T>> {
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
    if (result.cursor === undefined) return result.total === undefined ? { items: [] } : { items: [], total: result.total };
    cursor = result.cursor;
  }
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
