/**
 * The handlers on Hono 4, under one prefix, in either shape:
 * - `fetch` (the default): each route returns `handler.fetch(c.req.raw)`, a web `Response`. This
 *   app runs wherever Hono does (Node with `@hono/node-server`, Bun, Deno) and answers
 *   `app.fetch(request)` without any server at all;
 * - `node`: on `@hono/node-server` only, each route hands Node's own request and response
 *   (`c.env.incoming`, `c.env.outgoing`) to `handler.node` and returns `RESPONSE_ALREADY_SENT`.
 * Routes Hono does not know get its 404.
 *
 * `npx tsx examples/frameworks/hono.ts [--node]` checks every route once and exits;
 * add `--serve` to stay up.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type HttpBindings, serve } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { type Context, Hono } from 'hono';
import type { RequestHandler, TelemetryHandlers } from '../../src/index.js';
import { PREFIX, run, type Started } from './common.js';

/** Which of the handlers' two shapes the routes use. */
export type HonoShape = 'fetch' | 'node';

type Env = { Bindings: HttpBindings };

function route(handler: RequestHandler, shape: HonoShape): (c: Context<Env>) => Promise<Response> | Response {
  if (shape === 'fetch') return (c) => handler.fetch(c.req.raw);
  return (c) => {
    handler.node(c.env.incoming, c.env.outgoing);
    return RESPONSE_ALREADY_SENT;
  };
}

/** A Hono app with the handlers under `prefix`. */
export function telemetryApp(handlers: TelemetryHandlers, shape: HonoShape = 'fetch', prefix = PREFIX): Hono<Env> {
  const routes = new Hono<Env>();
  routes.get('/metrics', route(handlers.prometheus, shape));
  routes.get('/live/tracing', route(handlers.liveTracing, shape));
  routes.get('/live/metrics', route(handlers.liveMetrics, shape));
  // The history routes itself on the rest of the path and answers 405 to other methods.
  routes.all('/history/*', route(handlers.history, shape));
  routes.get('/dashboard', route(handlers.dashboard, shape));
  routes.get('/alerts', route(handlers.alerts, shape));
  return new Hono<Env>().route(prefix, routes);
}

/** Serves the app with `@hono/node-server` on 127.0.0.1 and a free port. */
export async function listen(app: Hono<Env>): Promise<Started> {
  let server: Server | undefined;
  const address = await new Promise<AddressInfo>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, resolve) as Server;
  });
  return {
    base: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Live streams stay open until their clients leave: end them with the server.
        server?.closeAllConnections();
        server?.close(() => resolve());
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const shape = process.argv.includes('--node') ? 'node' : 'fetch';
  await run(`hono (${shape})`, (telemetry) => listen(telemetryApp(telemetry.handlers, shape)));
}
