/**
 * The handlers on Fastify 5, under one prefix. The handlers write to Node's response
 * (`reply.raw`) themselves, so Fastify must be told to keep out of it: call `reply.hijack()` first.
 * That works in `async` routes and sync ones alike, and it is what this recipe does.
 *
 * A synchronous route that neither returns nor calls `reply.send` also works (Fastify waits for it),
 * but an `async` route without `reply.hijack()` does not: when its promise resolves to `undefined`,
 * Fastify answers at once, before the live and history handlers have written anything, and the
 * client gets an empty answer. (Those handlers then leave the answered response alone.)
 *
 * `npx tsx examples/frameworks/fastify.ts [--sync]` checks every route once and exits;
 * add `--serve` to stay up.
 */
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyPluginCallback, type RouteHandlerMethod } from 'fastify';
import type { RequestHandler, TelemetryHandlers } from '../../src/index.js';
import { PREFIX, run, type Started } from './common.js';

/** How a route hands the request over: `hijack` (any route, the right way) or a bare sync route. */
export type FastifyRouteStyle = 'hijack' | 'sync';

function route(handler: RequestHandler, style: FastifyRouteStyle): RouteHandlerMethod {
  if (style === 'sync')
    return (request, reply) => {
      handler.node(request.raw, reply.raw);
    };
  return async (request, reply) => {
    reply.hijack();
    handler.node(request.raw, reply.raw);
  };
}

/** A plugin with the handlers; register it with `{ prefix }`. */
export function telemetryPlugin(handlers: TelemetryHandlers, style: FastifyRouteStyle = 'hijack'): FastifyPluginCallback {
  return (app, _options, done) => {
    app.get('/metrics', route(handlers.prometheus, style));
    app.get('/live/tracing', route(handlers.liveTracing, style));
    app.get('/live/metrics', route(handlers.liveMetrics, style));
    // The history routes itself on the rest of the path and answers 405 to other methods.
    app.all('/history/*', route(handlers.history, style));
    app.get('/dashboard', route(handlers.dashboard, style));
    app.get('/alerts', route(handlers.alerts, style));
    done();
  };
}

/** A Fastify app with the plugin under `prefix`; Fastify answers 404 to everything else. */
export function telemetryApp(handlers: TelemetryHandlers, style: FastifyRouteStyle = 'hijack', prefix = PREFIX): FastifyInstance {
  const app = Fastify();
  app.register(telemetryPlugin(handlers, style), { prefix });
  return app;
}

/** Listens on 127.0.0.1 and a free port. */
export async function listen(app: FastifyInstance): Promise<Started> {
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    base,
    close: async () => {
      // Live streams stay open until their clients leave: end them with the server.
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const style = process.argv.includes('--sync') ? 'sync' : 'hijack';
  await run(`fastify (${style})`, (telemetry) => listen(telemetryApp(telemetry.handlers, style)));
}
