import type { Server } from 'node:http';
import { EventSource } from 'eventsource';
import { afterEach } from 'vitest';
import { listenLoopback, type Telemetry } from '../support/telemetry.js';

const sources: EventSource[] = [];

afterEach(() => {
  for (const source of sources.splice(0)) source.close();
});

/** Mounts the live handlers on a real node:http server on 127.0.0.1; returns its base URL. */
export async function serve(telemetry: Telemetry): Promise<{ base: string; server: Server }> {
  const { server, origin } = await listenLoopback((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/api/live/tracing') telemetry.handlers.liveTracing.node(req, res);
    else if (path === '/api/live/metrics') telemetry.handlers.liveMetrics.node(req, res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  return { base: origin, server };
}

/** What an EventSource client received, by event type, as parsed JSON. */
export interface Received {
  readonly ping: unknown[];
  readonly trace: Record<string, unknown>[][];
  readonly metrics: Record<string, unknown>[][];
  readonly dropped: { dropped: number; total: number }[];
  readonly errors: { code?: number | undefined; message?: string | undefined }[];
  /** Event types in arrival order. */
  readonly order: string[];
  readonly source: EventSource;
}

/** Opens an `eventsource` client and records every frame. */
export function listen(url: string): Received {
  const source = new EventSource(url);
  sources.push(source);
  const received: Received = { ping: [], trace: [], metrics: [], dropped: [], errors: [], order: [], source };
  for (const type of ['ping', 'trace', 'metrics', 'dropped'] as const) {
    source.addEventListener(type, (event) => {
      received.order.push(type);
      (received[type] as unknown[]).push(JSON.parse(event.data));
    });
  }
  source.addEventListener('error', (event) => {
    received.errors.push({ code: event.code, message: event.message });
    // No reconnection loops in tests: a refused or ended stream stays closed.
    source.close();
  });
  return received;
}

/** Waits (polling) until `check` holds; fails after `timeout` ms with `what`. */
export async function until(check: () => boolean, what: string, timeout = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Every event of every trace frame received so far. */
export const traced = (received: Received) => received.trace.flat();
