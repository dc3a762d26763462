/**
 * Webhook figures: sustained delivery to a loopback `node:http` receiver, and the peak RSS of a
 * lossy endpoint whose receiver is down while a million events are emitted.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTelemetry } from '../dist/index.js';
import type { Figure } from './harness.js';
import { median, yieldToLoop } from './stats.js';

const RUNS = 5;
const SUSTAINED_EVENTS = 200_000;
const LOSSY_EVENTS = 1_000_000;
const LOSSY_CAP = 32_768;
/** Events emitted per event-loop turn: a busy server emits in bursts, and the turn lets I/O run. */
const BURST = 2_000;

/** Heap in use after a full collection, or NaN without `--expose-gc`. */
function live(): number {
  if (globalThis.gc === undefined) return Number.NaN;
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

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
    // The webhook alone: no default history taking the events too.
    history: false,
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
    await yieldToLoop();
  }
  await telemetry.flush(60_000);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const delivered = telemetry.webhooks.stats('bench').delivered;
  await telemetry.shutdown(1000);
  if (delivered !== SUSTAINED_EVENTS + 1) throw new Error(`delivered ${delivered} of ${SUSTAINED_EVENTS + 1}`);
  return delivered / seconds;
}

interface LossyRun {
  readonly peak: number;
  readonly base: number;
  /** RSS after a quarter of the events: a bounded buffer has stopped growing by then. */
  readonly quarter: number;
  /** Live heap after a full GC, after a quarter of the events and at the end (when `gc` is exposed). */
  readonly liveQuarter: number;
  readonly liveEnd: number;
  readonly dropped: number;
  readonly pending: number;
}

async function lossyRun(url: string): Promise<LossyRun> {
  globalThis.gc?.();
  const base = process.memoryUsage().rss;
  const telemetry = createTelemetry({
    // The webhook's memory alone: no default history holding events too.
    history: false,
    webhooks: [{ id: 'down', url, lossy: true, maxPending: LOSSY_CAP, timeout: 1000 }],
  });
  let peak = base;
  let quarter = base;
  let liveQuarter = 0;
  for (let i = 0; i < LOSSY_EVENTS; i += BURST) {
    for (let j = 0; j < BURST; j++) telemetry.emit('smtp.mail-from', { from: `sender${i + j}@example.org` });
    await yieldToLoop();
    if ((i / BURST) % 10 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    if (i + BURST === LOSSY_EVENTS / 4) {
      quarter = peak;
      liveQuarter = live();
    }
  }
  await yieldToLoop();
  peak = Math.max(peak, process.memoryUsage().rss);
  const liveEnd = live();
  const stats = telemetry.webhooks.stats('down');
  await telemetry.shutdown(100);
  return { peak, base, quarter, liveQuarter, liveEnd, dropped: stats.dropped, pending: stats.pending };
}

const MiB = 1024 * 1024;
const mib = (values: number[]) => `${(median(values) / MiB).toFixed(0)} MiB`;

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
    // One run: RSS seldom shrinks, so a second run in the same process would start from the first's peak.
    const runs: LossyRun[] = [await lossyRun(url)];
    const peak = median(runs.map((r) => r.peak)) / MiB;
    const last = runs[runs.length - 1];
    return {
      title: `peak RSS, receiver down, ${LOSSY_EVENTS.toLocaleString('en-US')} events, lossy (maxPending ${LOSSY_CAP.toLocaleString('en-US')})`,
      value: peak,
      unit: 'MiB',
      limit: { atMost: 400 },
      note: [
        `RSS before ${mib(runs.map((r) => r.base))}, peak after 250,000 events ${mib(runs.map((r) => r.quarter))}`,
        Number.isNaN(last?.liveEnd)
          ? 'run with --expose-gc for the live heap'
          : `live heap after GC ${mib(runs.map((r) => r.liveQuarter))} at 250,000 events and ${mib(runs.map((r) => r.liveEnd))} at the end`,
        `held at the end ${last?.pending}, dropped and counted ${last?.dropped}`,
      ].join('; '),
    };
  },
};
