import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Telemetry } from '../../src/index.js';

/**
 * The admin HTTP server, on loopback: the scrape, the live streams (token-protected), the history
 * (bearer token), the alerts (the history's token) and the dashboard, all under `/telemetry/`.
 */
export async function startAdmin(telemetry: Telemetry): Promise<{ readonly url: string; close(): Promise<void> }> {
  const { handlers } = telemetry;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/telemetry/metrics') handlers.prometheus.node(req, res);
    else if (path === '/telemetry/live/tracing') handlers.liveTracing.node(req, res);
    else if (path === '/telemetry/live/metrics') handlers.liveMetrics.node(req, res);
    else if (path.startsWith('/telemetry/history/')) handlers.history.node(req, res);
    else if (path === '/telemetry/alerts')
      handlers.alerts.node(req, res); // the history's bearer token
    else if (path === '/telemetry/dashboard') handlers.dashboard.node(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/telemetry`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections(); // the live streams stay open otherwise
        server.close(() => resolve());
      }),
  };
}
