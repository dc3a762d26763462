/**
 * A tiny webhook receiver that checks both signatures (Stalwart's X-Signature and Standard
 * Webhooks'), deduplicates by event id, and a telemetry instance that sends to it. The first
 * request is refused with a 503 to show a retry; then the sender shuts down and the example exits.
 *
 * Run with `npx tsx examples/webhooks-receiver.ts`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTelemetry, type WebhookPayload } from '../src/index.js';

// In production both sides read this from a secret store. `whsec_` + base64 of 32 random bytes.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw4eR6xZ2Wt2A=';

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Stalwart's scheme: base64(HMAC-SHA256(key bytes, raw body)). */
function stalwartValid(raw: Buffer, headers: IncomingHttpHeaders): boolean {
  const expected = createHmac('sha256', SECRET).update(raw).digest('base64');
  return equal(String(headers['x-signature']), expected);
}

/** Standard Webhooks: v1 HMAC-SHA256 over `id.timestamp.body`, with a 5-minute tolerance. */
function standardValid(raw: Buffer, headers: IncomingHttpHeaders): boolean {
  const id = String(headers['webhook-id']);
  const timestamp = Number(headers['webhook-timestamp']);
  if (!Number.isFinite(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 300) return false;
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const expected = `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(raw).digest('base64')}`;
  return String(headers['webhook-signature'])
    .split(' ')
    .some((signature) => equal(signature, expected));
}

const seen = new Set<string>();
let requests = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const raw = Buffer.concat(chunks); // verify the raw bytes, never re-serialised JSON
    requests++;
    if (!stalwartValid(raw, req.headers) || !standardValid(raw, req.headers)) {
      res.writeHead(401).end();
      return;
    }
    if (requests === 1) {
      console.log('receiver: 503 to the first request (the sender will retry)');
      res.writeHead(503, { 'retry-after': '0' }).end();
      return;
    }
    const { events } = JSON.parse(raw.toString('utf8')) as WebhookPayload;
    for (const event of events) {
      if (seen.has(event.id)) continue; // ids are stable across retries
      seen.add(event.id);
      console.log(`receiver: ${event.type} ${JSON.stringify(event.data)}`);
    }
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/telemetry`;

const telemetry = createTelemetry({
  webhooks: [
    {
      id: 'ops',
      url,
      events: ['smtp.*', 'auth.*', 'telemetry.webhook-*'],
      signatureKey: SECRET,
      signing: 'both',
      throttle: 200,
      retry: { initialDelay: 100 },
    },
  ],
});

const session = telemetry.span('smtp.connection-start', {
  listenerId: 'smtp',
  localPort: 25,
  remoteIp: '192.0.2.7',
  remotePort: 50512,
});
session.emit('smtp.mail-from', { from: 'bill@example.org' });
session.emit('smtp.rcpt-to', { to: ['ann@example.org'] });
telemetry.emit('auth.failed', { accountName: 'ann', remoteIp: '192.0.2.7' });
session.end();

const report = await telemetry.shutdown(5000);
const stats = telemetry.webhooks.stats('ops');
console.log(`sender: delivered ${stats.delivered} events in ${stats.requests} request(s), ${stats.failed} failed attempt(s)`);
console.log(`sender: shutdown complete=${report.complete}, pending=${report.pending}`);
server.close();
