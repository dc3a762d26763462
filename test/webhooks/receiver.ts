import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach } from 'vitest';
import type { WebhookEvent, WebhookOptions, WebhookPayload } from '../../src/index.js';
import { shutdownAll } from '../support/telemetry.js';

/** One request as the receiver saw it. */
export interface Received {
  readonly n: number;
  /** The request path and query. */
  readonly url: string;
  readonly raw: Buffer;
  readonly headers: IncomingHttpHeaders;
  readonly events: readonly WebhookEvent[];
  readonly at: number;
}

/** How to answer request `n` (1-based): a status with headers, a reset connection, or no answer. */
export type Answer = number | { status: number; headers?: Record<string, string> } | 'reset' | 'hang';

/** A real node:http receiver on 127.0.0.1 that records what it is sent and answers as told. */
export class Receiver {
  readonly requests: Received[] = [];
  answer: (n: number, url: string, raw: Buffer) => Answer = () => 200;
  readonly #server: Server;
  #n = 0;
  #waiters: { count: number; resolve: () => void }[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const n = ++receiver.#n;
        const url = req.url ?? '';
        const answer = receiver.answer(n, url, raw);
        if (answer === 'reset') {
          req.socket.destroy();
          return;
        }
        if (answer === 'hang') return;
        const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
        if (status >= 200 && status < 300) {
          const payload = JSON.parse(raw.toString('utf8')) as WebhookPayload;
          receiver.requests.push({ n, url, raw, headers: req.headers, events: payload.events, at: Date.now() });
        }
        res.writeHead(status, headers ?? {});
        res.end(status >= 300 && status < 400 ? '' : 'ok');
        receiver.#notify();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
  }

  /** How many requests arrived, answered or not. */
  get attempts(): number {
    return this.#n;
  }

  /** Every accepted event, in arrival order. */
  get events(): WebhookEvent[] {
    return this.requests.flatMap((r) => r.events);
  }

  /** Distinct event ids accepted (a retry after a lost answer may repeat some). */
  get unique(): number {
    return new Set(this.events.map((e) => e.id)).size;
  }

  /** Resolves once `count` distinct events have been accepted. */
  until(count: number): Promise<void> {
    if (this.unique >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  #notify(): void {
    const have = this.unique;
    this.#waiters = this.#waiters.filter((w) => {
      if (have < w.count) return true;
      w.resolve();
      return false;
    });
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** One element of `options.webhooks`, typed as `createTelemetry` takes it. */
export type Hook = WebhookOptions<`${string}*${string}` | 'smtp.rcpt-to' | 'auth.success'>;

/**
 * A fresh receiver for each test. After the test, the telemetry instances (made with
 * test/support/telemetry.ts) shut down first, so that what they still deliver reaches the receiver.
 */
export function useReceiver(): { readonly receiver: Receiver } {
  let current: Receiver | undefined;
  beforeEach(async () => {
    current = await Receiver.start();
  });
  afterEach(async () => {
    await shutdownAll();
    await current?.close();
  });
  return {
    get receiver() {
      if (current === undefined) throw new Error('the receiver starts in beforeEach');
      return current;
    },
  };
}
