/**
 * The live dashboard: one HTML page, mounted on the host's own HTTP server beside the two live
 * streams it reads. The host issues live tokens after its own login check and hands them to the
 * browser in the page's URL fragment (`#token=…`), which never reaches the server with the page.
 *
 * Run with `npx tsx examples/dashboard-server.ts`: it fetches the page once, prints the first stream
 * frames, and exits. With `--serve` it keeps running and prints a URL to open in a browser.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTelemetry } from '../src/index.js';

const serve = process.argv.includes('--serve');
const telemetry = createTelemetry({
  service: 'example-mx',
  // Share one key between the processes behind a load balancer; 250 ms batches keep the demo lively.
  live: { tokenKey: process.env.LIVE_TOKEN_KEY ?? 'an example key of at least 32 bytes!', batchWindow: 250 },
  dashboard: { title: 'example-mx telemetry' },
});

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/' || path === '/dashboard') telemetry.handlers.dashboard.node(req, res);
  else if (path === '/api/live/tracing') telemetry.handlers.liveTracing.node(req, res);
  else if (path === '/api/live/metrics') telemetry.handlers.liveMetrics.node(req, res);
  else res.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

let port = 40_000;
function demoSession(remoteIp: string, domain: string): void {
  const session = telemetry.span('smtp.connection-start', { remoteIp, remotePort: port++, listenerId: 'smtp', localPort: 25 });
  session.emit('smtp.ehlo', { domain });
  session.emit('smtp.mail-from', { from: `alice@${domain}` });
  session.emit('smtp.rcpt-to', { to: 'bob@example.net' });
  session.emit('queue.message-queued', {});
  session.end();
}

const page = await fetch(`${base}/dashboard`);
console.log('dashboard:', page.status, page.headers.get('content-type'));
console.log('csp:', page.headers.get('content-security-policy')?.split('; ')[0]);
await page.text();

if (serve) {
  // An hour is generous for a demo; a real host issues 60 s tokens from behind its login.
  const tracing = telemetry.live.issueToken({ scope: 'tracing', ttlSeconds: 3600, subject: 'demo' });
  const metrics = telemetry.live.issueToken({ scope: 'metrics', ttlSeconds: 3600, subject: 'demo' });
  console.log(`open ${base}/dashboard#token=${tracing}&token=${metrics}`);
  const ips = ['192.0.2.10', '198.51.100.7', '203.0.113.5'];
  let i = 0;
  setInterval(() => {
    demoSession(ips[i % ips.length] ?? '192.0.2.10', `mx${i % 5}.example.org`);
    if (i % 4 === 0) telemetry.emit('auth.failed', { accountName: `user${i}`, remoteIp: '203.0.113.5' });
    i++;
  }, 1500);
} else {
  // Read the streams the way the page does, with a token in `?token=`, and print their first frames.
  const frames = async (path: string, scope: 'tracing' | 'metrics', until: string) => {
    const token = telemetry.live.issueToken({ scope });
    const response = await fetch(`${base}${path}${path.includes('?') ? '&' : '?'}token=${token}`);
    console.log(`${path.split('?')[0]}: ${response.status} ${response.headers.get('content-type')}`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes(until)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      // The first ping means the stream is open and subscribed: the demo traffic can start.
      if (scope === 'tracing' && text.includes('event: ping') && port === 40_000) demoSession('192.0.2.10', 'mx.example.org');
    }
    await reader.cancel();
    for (const frame of text.split('\n\n').filter((f) => f !== '')) {
      const [event = '', data = ''] = frame.split('\n');
      if (event !== 'event: trace') console.log(`  ${event} ${data}`);
      else {
        const events = JSON.parse(data.slice('data: '.length)) as { type: string; text: string; data: object }[];
        for (const e of events) console.log(`  ${event} ${e.type} (${e.text}) ${JSON.stringify(e.data)}`);
      }
    }
  };
  await frames('/api/live/tracing?level=info', 'tracing', 'smtp.rcpt-to');
  await frames('/api/live/metrics?metrics=smtp.connection-start,queue.count&interval=1', 'metrics', 'event: metrics');
  server.close();
  server.closeAllConnections();
  await telemetry.shutdown();
  console.log('streams left open:', telemetry.live.stats().sse);
}
