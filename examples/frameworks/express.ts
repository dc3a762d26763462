/**
 * The handlers on Express 5, under one prefix. Express's `req` and `res` are Node's own, so
 * each handler's `node(req, res)` mounts as it is; routes Express does not know get its 404.
 *
 * Behind `compression()` the live streams still stream: they answer with
 * `Cache-Control: no-store, no-transform`, which `compression()` honours by leaving them alone.
 *
 * `npx tsx examples/frameworks/express.ts [--compression]` checks every route once and exits;
 * add `--serve` to stay up.
 */
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import compression from 'compression';
import express, { type Express } from 'express';
import type { TelemetryHandlers } from '../../src/index.js';
import { PREFIX, run } from './common.js';
import { listen } from './node-http.js';

/** Options of the Express recipe. */
export interface ExpressRecipeOptions {
  /** Where the handlers go. @default '/telemetry' */
  readonly prefix?: string;
  /** Compress responses with `compression()`, as many apps do for everything. @default false */
  readonly compress?: boolean;
}

/** An Express app with the handlers under `prefix`. */
export function telemetryApp(handlers: TelemetryHandlers, options: ExpressRecipeOptions = {}): Express {
  const prefix = options.prefix ?? PREFIX;
  const app = express();
  if (options.compress === true) app.use(compression());
  // A Router keeps the prefix in one place. Inside it `req.url` loses the prefix: the handlers read
  // only the query, and the history the end of the path, so that is fine.
  const routes = express.Router();
  routes.get('/metrics', (req, res) => handlers.prometheus.node(req, res));
  routes.get('/live/tracing', (req, res) => handlers.liveTracing.node(req, res));
  routes.get('/live/metrics', (req, res) => handlers.liveMetrics.node(req, res));
  // The history routes itself on the rest of the path and answers 405 to other methods.
  routes.all('/history/{*rest}', (req, res) => handlers.history.node(req, res));
  routes.get('/dashboard', (req, res) => handlers.dashboard.node(req, res));
  routes.get('/alerts', (req, res) => handlers.alerts.node(req, res));
  app.use(prefix, routes);
  return app;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const compress = process.argv.includes('--compression');
  await run(compress ? 'express + compression()' : 'express', (telemetry) =>
    listen(createServer(telemetryApp(telemetry.handlers, { compress }))),
  );
}
