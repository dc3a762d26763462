import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { RequestHandler, TelemetryHandlers } from '../../index.js';
import type { AdminListener } from './config.js';

/** The routes of the admin listener, under one origin so the dashboard finds its streams. */
export const ADMIN_ROUTES = {
  metrics: '/metrics',
  liveTracing: '/live/tracing',
  liveMetrics: '/live/metrics',
  history: '/history/',
  dashboard: '/dashboard',
} as const;

/**
 * Serves the telemetry handlers on the listener `telemetry.ini` names. In a Haraka cluster every
 * worker listens on the same port (Node's cluster shares it), so the port stays put when a worker
 * is restarted; `metrics` is then the scrape of all workers, fetched from the master.
 */
export function startAdmin(
  listener: AdminListener,
  handlers: TelemetryHandlers,
  metrics: RequestHandler,
  onError: (error: unknown) => void,
): Server {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    try {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path === ADMIN_ROUTES.metrics) metrics.node(req, res);
      else if (path === ADMIN_ROUTES.liveTracing) handlers.liveTracing.node(req, res);
      else if (path === ADMIN_ROUTES.liveMetrics) handlers.liveMetrics.node(req, res);
      else if (path.startsWith(ADMIN_ROUTES.history)) handlers.history.node(req, res);
      else if (path === ADMIN_ROUTES.dashboard) handlers.dashboard.node(req, res);
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    } catch (error) {
      onError(error);
      if (!res.headersSent) res.writeHead(500).end();
    }
  });
  server.on('error', onError);
  // The admin port must not keep Haraka alive at shutdown.
  server.unref();
  server.listen(listener.port, listener.host);
  return server;
}
