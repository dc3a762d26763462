import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookPayload } from '../../src/index.js';

/** What the webhook receiver has been sent. */
export interface Receiver {
  readonly url: string;
  /** Every event received with a valid signature, in arrival order (retries deduplicated by id). */
  readonly events: WebhookPayload['events'][number][];
  /** Requests refused for a missing or wrong signature. */
  readonly invalid: number;
  close(): Promise<void>;
}

/** Standard Webhooks: v1 HMAC-SHA256 over `id.timestamp.body`, with a 5-minute tolerance. */
function signed(secret: string, raw: Buffer, headers: IncomingHttpHeaders): boolean {
  const id = String(headers['webhook-id']);
  const timestamp = Number(headers['webhook-timestamp']);
  if (!Number.isFinite(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 300) return false;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = Buffer.from(`v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(raw).digest('base64')}`);
  return String(headers['webhook-signature'])
    .split(' ')
    .some((given) => given.length === expected.length && timingSafeEqual(Buffer.from(given), expected));
}

/** A local webhook receiver that checks every request's signature and keeps what it was sent. */
export async function startReceiver(secret: string, print: (line: string) => void): Promise<Receiver> {
  const events: Receiver['events'] = [];
  const seen = new Set<string>();
  let invalid = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks); // the raw bytes are what was signed
      if (!signed(secret, raw, req.headers)) {
        invalid++;
        res.writeHead(401).end();
        return;
      }
      const batch = (JSON.parse(raw.toString('utf8')) as WebhookPayload).events.filter((event) => !seen.has(event.id));
      for (const event of batch) seen.add(event.id);
      events.push(...batch);
      if (batch.length > 0)
        print(`webhook: ${batch.length} signed event(s): ${[...new Set(batch.map((e) => e.type))].join(', ')}`);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/mail`,
    events,
    get invalid() {
      return invalid;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
