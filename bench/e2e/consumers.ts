/**
 * The consumers of the `on` server that live in the parent, so that their CPU is not the server's: the
 * webhook receiver, one SSE client on the live trace stream and a Prometheus scrape every second.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventSource } from 'eventsource';

export interface ConsumerCounts {
  readonly webhookRequests: number;
  readonly webhookEvents: number;
  readonly sseFrames: number;
  readonly sseEvents: number;
  readonly scrapes: number;
  readonly scrapeFailures: number;
}

export interface Consumers {
  readonly webhookUrl: string;
  /** Opens the SSE stream and starts scraping once the server's admin port is known (each only if wanted). */
  attach(adminPort: number, wanted?: { readonly sse: boolean; readonly scrape: boolean }): Promise<void>;
  counts(): ConsumerCounts;
  /** Stops scraping, before the server goes away (a scrape of a stopped server is no failure of it). */
  stopScraping(): void;
  close(): Promise<void>;
}

export async function startConsumers(): Promise<Consumers> {
  const counts = { webhookRequests: 0, webhookEvents: 0, sseFrames: 0, sseEvents: 0, scrapes: 0, scrapeFailures: 0 };
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      counts.webhookRequests++;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events?: unknown[] };
        counts.webhookEvents += body.events?.length ?? 0;
      } catch {
        // Counted as a request with no events; the receiver still answers 200 like a real one.
      }
      res.writeHead(200).end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  let source: EventSource | undefined;
  let scraper: NodeJS.Timeout | undefined;
  const scrape = (base: string): void => {
    fetch(`${base}/metrics`)
      .then(async (response) => {
        await response.text();
        if (response.ok) counts.scrapes++;
        else counts.scrapeFailures++;
      })
      .catch(() => {
        counts.scrapeFailures++;
      });
  };

  return {
    webhookUrl,
    async attach(adminPort, wanted = { sse: true, scrape: true }) {
      const base = `http://127.0.0.1:${adminPort}`;
      if (wanted.scrape) scraper = setInterval(() => scrape(base), 1000);
      if (!wanted.sse) return;
      const opened = new EventSource(`${base}/live/tracing`);
      source = opened;
      opened.addEventListener('trace', (frame) => {
        counts.sseFrames++;
        counts.sseEvents += (JSON.parse(frame.data) as unknown[]).length;
      });
      await new Promise<void>((resolve, reject) => {
        opened.addEventListener('open', () => resolve(), { once: true });
        opened.addEventListener('error', () => reject(new Error(`the live stream at ${base} did not open`)), { once: true });
      });
    },
    counts: () => ({ ...counts }),
    stopScraping() {
      clearInterval(scraper);
    },
    async close() {
      clearInterval(scraper);
      source?.close();
      receiver.closeAllConnections();
      receiver.close();
      await once(receiver, 'close');
    },
  };
}
