/**
 * The handlers on a plain `node:http` server, under one prefix. Each handler's `node(req, res)`
 * takes the request as it is: route on the path, hand over, and answer 404 to anything else.
 *
 * `npx tsx examples/frameworks/node-http.ts` checks every route once and exits;
 * `npx tsx examples/frameworks/node-http.ts --serve` stays up.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { TelemetryHandlers } from '../../src/index.js';
import { PREFIX, run, type Started } from './common.js';

/** The request listener: the handlers under `prefix`, 404 for every other path. */
export function telemetryRoutes(handlers: TelemetryHandlers, prefix = PREFIX): RequestListener {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === `${prefix}/metrics`) handlers.prometheus.node(req, res);
    else if (path === `${prefix}/live/tracing`) handlers.liveTracing.node(req, res);
    else if (path === `${prefix}/live/metrics`) handlers.liveMetrics.node(req, res);
    // The history routes itself on the rest of the path (…/telemetry/events, …/telemetry/trace/{id}).
    else if (path.startsWith(`${prefix}/history/`)) handlers.history.node(req, res);
    else if (path === `${prefix}/dashboard`) handlers.dashboard.node(req, res);
    else if (path === `${prefix}/alerts`) handlers.alerts.node(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
  };
}

/** Listens on 127.0.0.1 and a free port. */
export async function listen(server: Server): Promise<Started> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Live streams stay open until their clients leave: end them with the server.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await run('node:http', (telemetry) => listen(createServer(telemetryRoutes(telemetry.handlers))));
}
