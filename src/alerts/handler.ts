import { scalarJson } from '../base/json.js';
import { type Authorize, AuthorizeFailure, askAuthorize, type HttpAuthRequest, refusal } from '../http/auth.js';
import { handler, type RequestHandler } from '../http/handler.js';
import type { Reply } from '../http/request.js';
import type { AlertStatus, AlertsApi, AlertTransition } from './alerts.js';

/** Tells the host's error events why a request got a 500 (never the client). */
export type AlertsFailureReport = (error: unknown, details: string) => void;

const JSON_TYPE = 'application/json; charset=utf-8';
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';
/** Transitions answered unless `limit` asks for fewer or more. */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

const REPLIES = {
  badTarget: reply(400, problem(400, 'Bad request', 'the request target is not a valid URL path and query')),
  badEncoding: reply(400, problem(400, 'Invalid parameters', 'query: malformed percent-encoding')),
  internal: reply(500, problem(500, 'Internal error', 'the alerts could not answer; see the telemetry error events')),
  notAllowed: (allow: string): Reply => {
    const r = reply(405, problem(405, 'Method not allowed', 'use GET'));
    return { ...r, headers: { ...r.headers, allow } };
  },
};
const FORBIDDEN = problemRefusal(403, 'Forbidden', 'this request may not read the alerts');
const UNAUTHORIZED = problemRefusal(401, 'Unauthorized', 'authentication required');
const CLOSED = problemRefusal(
  401,
  'Unauthorized',
  'the alerts handler is closed: set options.alerts.authorize (or options.history.authorize) to open it',
);

/**
 * The alert rules' states and their recent transitions as JSON, at any path:
 * `{"data":{"rules":[...state()],"transitions":[...]}}`, transitions newest first (`?limit=`, 1-1000,
 * default 100). Only what `state()` and `transitions()` hold is written, so no action's URL, header
 * or address. Errors are RFC 7807 problem documents, as the history's: 400, 401/403, 405 with
 * `Allow`, a bare 500 (the cause goes to `report`). Neither shape throws or leaves a rejection.
 */
export function alertsHandler(
  api: AlertsApi,
  authorize: Authorize | undefined,
  report: AlertsFailureReport = () => undefined,
): RequestHandler {
  return handler(
    async (request) => {
      const view: HttpAuthRequest = { method: request.method, url: request.url, header: request.header, raw: request.raw };
      const status = await askAuthorize(authorize, view);
      if (status === 403) return FORBIDDEN;
      if (status === 401) return authorize === undefined ? CLOSED : UNAUTHORIZED;
      const params = request.url.searchParams;
      let limit = DEFAULT_LIMIT;
      for (const name of new Set(params.keys())) {
        if (name !== 'limit')
          return reply(
            400,
            problem(400, 'Invalid parameters', `${JSON.stringify(name.slice(0, 64))}: unknown parameter; known: limit`),
          );
      }
      const all = params.getAll('limit');
      if (all.length > 1) return reply(400, problem(400, 'Invalid parameters', 'limit: given more than once'));
      if (all.length === 1) {
        const text = all[0] as string;
        limit = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
        if (!(limit >= 1 && limit <= MAX_LIMIT))
          return reply(400, problem(400, 'Invalid parameters', `limit: expected an integer from 1 to ${MAX_LIMIT}`));
      }
      const rules = api.state().map(ruleJson);
      const transitions = api.transitions().slice(-limit).reverse().map(transitionJson);
      return reply(200, `{"data":{"rules":[${rules.join(',')}],"transitions":[${transitions.join(',')}]}}`);
    },
    {
      methods: ['GET', 'HEAD'],
      strictQuery: true,
      replies: REPLIES,
      failed: (error) => {
        if (error instanceof AuthorizeFailure) report(error.error, 'the alerts authorize function threw or rejected');
        else report(error, 'an alerts request failed');
      },
    },
  );
}

/** A value as JSON: a finite number as itself; NaN and the infinities as strings, so a reader can tell them apart. */
function valueJson(value: number): string {
  return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
}

function timeJson(name: string, at: number | undefined): string {
  return at === undefined ? '' : `,"${name}":${scalarJson(at)}`;
}

function ruleJson(s: AlertStatus): string {
  const labels = Object.entries(s.labels)
    .map(([k, v]) => `${scalarJson(k)}:${scalarJson(v)}`)
    .join(',');
  return (
    `{"id":${scalarJson(s.id)},"condition":${scalarJson(s.condition)},"enabled":${s.enabled},"state":${scalarJson(s.state)}` +
    `,"value":${valueJson(s.value)},"labels":{${labels}}` +
    timeJson('activeAt', s.activeAt) +
    timeJson('firedAt', s.firedAt) +
    timeJson('resolvedAt', s.resolvedAt) +
    timeJson('evaluatedAt', s.evaluatedAt) +
    `,"labelWork":${scalarJson(s.labelWork)},"skipped":${scalarJson(s.skipped)}}`
  );
}

function transitionJson(t: AlertTransition): string {
  return `{"id":${scalarJson(t.id)},"from":${scalarJson(t.from)},"to":${scalarJson(t.to)},"at":${scalarJson(t.at)},"value":${valueJson(t.value)}}`;
}

function reply(status: number, body: string): Reply {
  return {
    status,
    headers: { 'content-type': status < 400 ? JSON_TYPE : PROBLEM_TYPE, 'cache-control': 'no-store' },
    body,
  };
}

function problem(status: number, title: string, detail: string): string {
  return JSON.stringify({ type: 'about:blank', status, title, detail });
}

function problemRefusal(status: 401 | 403, title: string, detail: string): Reply {
  return refusal(status, undefined, { contentType: PROBLEM_TYPE, body: problem(status, title, detail) });
}
