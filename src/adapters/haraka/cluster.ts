import cluster from 'node:cluster';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createClusterMetrics, shareMetricsWithPrimary } from '../../cluster.js';
import { negotiate } from '../../http/prometheus.js';
import type { RequestHandler } from '../../index.js';
import { CONTENT_TYPES, type ExpositionFormat } from '../../metrics/exposition.js';
import type { HarakaTelemetry } from './events.js';

// A worker's admin listener answers /metrics with the scrape of all workers, which only the master
// can gather: the worker asks it over the cluster's IPC channel.

const TAG = 'mail-telemetry/haraka-scrape';
const SCRAPE_TIMEOUT = 5000;

interface ScrapeRequest {
  readonly [TAG]: 1;
  readonly id: number;
  readonly format?: ExpositionFormat;
}

interface ScrapeAnswer {
  readonly [TAG]: 1;
  readonly id: number;
  readonly text?: string;
}

/**
 * In the master: gathers the workers' metrics (summed counters, merged histograms) and answers
 * each worker's request for the whole scrape.
 * @returns a function that stops answering.
 */
export function primaryScrape(): () => void {
  const metrics = createClusterMetrics();
  const onMessage = (worker: { send(message: unknown): unknown }, message: unknown): void => {
    if (!isRequest(message)) return;
    metrics.prometheus(message.format === 'openmetrics' ? 'openmetrics' : 'text').then(
      (text) => safeSend(worker, { [TAG]: 1, id: message.id, text }),
      () => safeSend(worker, { [TAG]: 1, id: message.id }),
    );
  };
  cluster.on('message', onMessage);
  return () => {
    cluster.off('message', onMessage);
    metrics.close();
  };
}

/** In a worker: shares its metrics with the master, and serves the whole scrape it gets back. */
export function workerScrape(
  telemetry: HarakaTelemetry,
  authorized: (authorization: string | undefined) => boolean,
): RequestHandler {
  shareMetricsWithPrimary(telemetry);
  let next = 0;
  const pending = new Map<number, (text: string | undefined) => void>();
  process.on('message', (message: unknown) => {
    if (!isAnswer(message)) return;
    const settle = pending.get(message.id);
    pending.delete(message.id);
    settle?.(typeof message.text === 'string' ? message.text : undefined);
  });
  const ask = (format: ExpositionFormat): Promise<string | undefined> =>
    new Promise((resolve) => {
      if (typeof process.send !== 'function') return resolve(undefined);
      const id = ++next;
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve(undefined);
      }, SCRAPE_TIMEOUT);
      timer.unref();
      pending.set(id, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      try {
        process.send({ [TAG]: 1, id, format } satisfies ScrapeRequest);
      } catch {
        pending.delete(id);
        resolve(undefined);
      }
    });
  const local = telemetry.handlers.prometheus;
  const relayable = (method: string | undefined, authorization: string | undefined): boolean =>
    (method === 'GET' || method === 'HEAD') && authorized(authorization);
  return {
    node(req: IncomingMessage, res: ServerResponse): void {
      // What the relay would not answer (a wrong method, no credentials) the local handler refuses.
      if (!relayable(req.method, req.headers.authorization)) {
        local.node(req, res);
        return;
      }
      const format = negotiate(req.headers.accept);
      void ask(format).then((text) => {
        if (text === undefined) {
          local.node(req, res);
          return;
        }
        if (res.headersSent || res.destroyed) return;
        res
          .writeHead(200, { 'content-type': CONTENT_TYPES[format], 'cache-control': 'no-store' })
          .end(req.method === 'HEAD' ? undefined : text);
      });
    },
    async fetch(request: Request): Promise<Response> {
      if (!relayable(request.method, request.headers.get('authorization') ?? undefined)) return local.fetch(request);
      const format = negotiate(request.headers.get('accept') ?? undefined);
      const text = await ask(format);
      if (text === undefined) return local.fetch(request);
      return new Response(request.method === 'HEAD' ? null : text, {
        headers: { 'content-type': CONTENT_TYPES[format], 'cache-control': 'no-store' },
      });
    },
  };
}

function isRequest(message: unknown): message is ScrapeRequest {
  // Other cluster messages (Haraka's own, the host's) pass by untouched.
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as Record<string, unknown>)[TAG] === 1 &&
    Number.isSafeInteger((message as Record<string, unknown>).id)
  );
}

function isAnswer(message: unknown): message is ScrapeAnswer {
  return isRequest(message);
}

function safeSend(worker: { send(message: unknown): unknown }, message: ScrapeAnswer): void {
  try {
    worker.send(message);
  } catch {
    // The worker has gone; its request dies with it.
  }
}
