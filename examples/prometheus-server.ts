/**
 * Mounts the Prometheus scrape handler on a node:http server, with Basic auth, then scrapes it
 * once the way Prometheus would and prints a few lines.
 *
 * Run with `npx tsx examples/prometheus-server.ts`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTelemetry } from '../src/index.js';

const telemetry = createTelemetry({
  service: 'example-mx',
  metrics: { defaultLabels: { node: 'mx1' }, auth: { username: 'prometheus', password: 'change-me' } },
});

// Some traffic: two SMTP sessions, a queued message, a host-defined counter.
for (const remotePort of [40001, 40002]) {
  const session = telemetry.span('smtp.connection-start', {
    remoteIp: '192.0.2.10',
    remotePort,
    listenerId: 'smtp',
    localPort: 25,
  });
  session.emit('queue.message-queued', { queueId: remotePort, size: 18_432 });
  session.end({ elapsed: 850 });
}
const bounces = telemetry.metrics.counter('mta.bounces', { help: 'Messages bounced back to the sender', labels: ['reason'] });
bounces.inc({ reason: 'mailbox-full' });
telemetry.metrics.gauge('user.count').set(1250);

// The handler is all a host mounts: node:http here, or .fetch(request) for Hono and friends.
const server = createServer((req, res) => {
  if (req.url === '/metrics') telemetry.handlers.prometheus.node(req, res);
  else res.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
  headers: { authorization: `Basic ${Buffer.from('prometheus:change-me').toString('base64')}` },
});
console.log(response.status, response.headers.get('content-type'));
const text = await response.text();
console.log(
  text
    .split('\n')
    .filter((line) =>
      /^mail_(smtp_connection_start|smtp_request_time_seconds_(sum|count)|queue_messages|users|mta_bounces)/.test(line),
    )
    .join('\n'),
);

server.close();
await telemetry.shutdown();
