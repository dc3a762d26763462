/**
 * Webhook figures: sustained delivery to a loopback `node:http` receiver, and the peak RSS of a
 * lossy endpoint whose receiver is down while a million events are emitted.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTelemetry } from '../dist/index.js';
import type { Figure } from './harness.js';

const RUNS = 5;
const SUSTAINED_EVENTS = 200_000;
const LOSSY_EVENTS = 1_000_000;
const LOSSY_CAP = 32_768;
/** Events emitted per event-loop turn: a busy server emits in bursts, and the turn lets I/O run. */
const BURST = 2_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A receiver that reads each body and answers 204, as a real one would after queueing it. */
async function receiver(): Promise<{ server: Server; url: string; bytes: () => number }> {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on('end', () => {
      res.writeHead(204);
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bytes: () => bytes };
}

async function sustainedRun(url: string): Promise<number> {
  const telemetry = createTelemetry({
    webhooks: [{ id: 'bench', url, signatureKey: 'bench-signing-key', maxBatchEvents: 2000 }],
  });
  const span = telemetry.span('smtp.connection-start', {
    listenerId: 'smtp',
    localPort: 25,
    remoteIp: '192.0.2.7',
    remotePort: 50512,
  });
  const start = process.hrtime.bigint();
  for (let i = 0; i < SUSTAINED_EVENTS; i += BURST) {
    for (let j = 0; j < BURST; j++) span.emit('smtp.rcpt-to', { to: [`user${i + j}@example.org`] });
    await turn();
  }
  await telemetry.flush(60_000);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const delivered = telemetry.webhooks.stats('bench').delivered;
  await telemetry.shutdown(1000);
  if (delivered !== SUSTAINED_EVENTS + 1) throw new Error(`delivered ${delivered} of ${SUSTAINED_EVENTS + 1}`);
  return delivered / seconds;
}

async function lossyRun(url: string): Promise<{ peak: number; base: number; dropped: number; pending: number }> {
  globalThis.gc?.();
  const base = process.memoryUsage().rss;
  const telemetry = createTelemetry({
    webhooks: [{ id: 'down', url, lossy: true, maxPending: LOSSY_CAP, timeout: 1000 }],
  });
  let peak = base;
  for (let i = 0; i < LOSSY_EVENTS; i += BURST) {
    for (let j = 0; j < BURST; j++) telemetry.emit('smtp.mail-from', { from: `sender${i + j}@example.org` });
    await turn();
    if ((i / BURST) % 10 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  await turn();
  peak = Math.max(peak, process.memoryUsage().rss);
  const stats = telemetry.webhooks.stats('down');
  await telemetry.shutdown(100);
  return { peak, base, dropped: stats.dropped, pending: stats.pending };
}

const MiB = 1024 * 1024;

export const figures: Record<string, () => Promise<Figure>> = {
  'webhooks-sustained': async () => {
    const { server, url, bytes } = await receiver();
    await sustainedRun(url); // warm-up
    const rates: number[] = [];
    for (let i = 0; i < RUNS; i++) rates.push(await sustainedRun(url));
    const perEvent = bytes() / ((RUNS + 1) * (SUSTAINED_EVENTS + 1));
    server.closeAllConnections();
    server.close();
    return {
      title: `webhook delivery to a loopback receiver (${SUSTAINED_EVENTS.toLocaleString('en-US')} events, signed, batches of 2,000)`,
      value: median(rates),
      unit: 'events/s',
      limit: { atLeast: 50_000 },
      note: `median of ${RUNS} runs; ${Math.round(perEvent)} body bytes per event; receiver in the same process`,
    };
  },
  'webhooks-lossy-rss': async () => {
    // A port that was just listening and is now closed: connections are refused at once.
    const { server, url } = await receiver();
    server.close();
    const runs: { peak: number; base: number; dropped: number; pending: number }[] = [];
    for (let i = 0; i < 3; i++) runs.push(await lossyRun(url));
    const peak = median(runs.map((r) => r.peak)) / MiB;
    const last = runs[runs.length - 1];
    return {
      title: `peak RSS, receiver down, ${LOSSY_EVENTS.toLocaleString('en-US')} events, lossy (maxPending ${LOSSY_CAP.toLocaleString('en-US')})`,
      value: peak,
      unit: 'MiB',
      limit: { atMost: 256 },
      note: `process RSS before: ${(median(runs.map((r) => r.base)) / MiB).toFixed(0)} MiB; held at the end ${last?.pending}, dropped and counted ${last?.dropped}`,
    };
  },
};
