/**
 * Live telemetry over server-sent events, as Stalwart's web admin reads it: the host hands out a
 * short-lived token after its own login check, a browser `EventSource` opens the filtered stream
 * with `?token=`, and trace frames arrive batched. Here the `eventsource` package plays the browser,
 * prints what it reads, then everything shuts down.
 *
 * Run with `npx tsx examples/live-server.ts`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventSource } from 'eventsource';
import { createTelemetry } from '../src/index.js';

const telemetry = createTelemetry({
  service: 'example-mx',
  // Share one key between the processes behind a load balancer; 250 ms batches keep the demo short.
  live: { tokenKey: process.env.LIVE_TOKEN_KEY ?? 'an example key of at least 32 bytes!', batchWindow: 250 },
});

const ADMIN = `Basic ${Buffer.from('admin:change-me').toString('base64')}`;

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/api/token/tracing' || path === '/api/token/metrics') {
    // The host's own check guards the token endpoint; the token then opens one stream for 60 s.
    if (req.headers.authorization !== ADMIN) return void res.writeHead(401).end();
    const scope = path.endsWith('tracing') ? 'tracing' : 'metrics';
    res.writeHead(200, { 'content-type': 'text/plain' }).end(telemetry.live.issueToken({ scope, subject: 'admin' }));
  } else if (path === '/api/live/tracing') telemetry.handlers.liveTracing.node(req, res);
  else if (path === '/api/live/metrics') telemetry.handlers.liveMetrics.node(req, res);
  else res.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// Without a token the stream stays shut.
console.log('without a token:', (await fetch(`${base}/api/live/tracing`)).status);

const token = await (await fetch(`${base}/api/token/tracing`, { headers: { authorization: ADMIN } })).text();
// Only sessions from 192.0.2.10 at info and above: remoteIp is a span key, so each of their events carries it.
const source = new EventSource(`${base}/api/live/tracing?token=${token}&level=info&remote-ip=192.0.2.10`);
const done = new Promise<void>((resolve) => {
  source.addEventListener('ping', (frame) => {
    console.log('ping', frame.data);
    simulateTraffic();
  });
  source.addEventListener('trace', (frame) => {
    const events = JSON.parse(frame.data) as { type: string; text: string; data: Record<string, unknown> }[];
    console.log(`trace frame with ${events.length} events`);
    for (const event of events) console.log(`  ${event.type} (${event.text}) ${JSON.stringify(event.data)}`);
    if (events.some((event) => event.type === 'smtp.rcpt-to')) resolve();
  });
});

function simulateTraffic(): void {
  for (const remoteIp of ['192.0.2.10', '198.51.100.7']) {
    const session = telemetry.span('smtp.connection-start', { remoteIp, remotePort: 40_001, listenerId: 'smtp', localPort: 25 });
    session.emit('smtp.ehlo', { domain: remoteIp === '192.0.2.10' ? 'mx.example.org' : 'unknown.example' });
    session.emit('smtp.mail-from', { from: 'alice@example.org' });
    session.emit('smtp.rcpt-to', { to: 'bob@example.net' });
    session.end();
  }
}

await done;
source.close();
server.close();
await telemetry.shutdown();
console.log('streams left open:', telemetry.live.stats().eventStreams);
