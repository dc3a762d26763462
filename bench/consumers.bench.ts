/**
 * What `bench:e2e`'s consumers cost per message with no mail server around them: the events the two
 * adapters emit for one relayed message (the inbound session and the delivery attempt, 15 events,
 * as captured from a `bench:e2e` server), through an instance with everything `bench:e2e` turns on
 * against one with the adapters' levels only, alternating, at the real server's rate. The webhook
 * receiver, the SSE client and the scraper run in another process, as they do in `bench:e2e`'s
 * parent. No mail work runs, so what it measures is what the consumers cost at a real server's rate.
 * Its note splits the cost: the main thread (what the mail server waits on) against the process, whose
 * other threads are V8's garbage-collector and compiler workers.
 *
 * `BENCH_RATE` (messages/s, default 400) and `BENCH_CONSUMERS` (a comma list of tracer, history,
 * webhook, live, alerts; default all) change the load and the consumers, to see one consumer alone or
 * how its cost per message moves with the rate; `BENCH_HISTORY` (a JSON object, such as `{"traces":false}`)
 * is merged into the history's options, to price one of its settings, e.g.
 * `BENCH_CONSUMERS=history BENCH_RATE=4000 BENCH_RESULT=out.json npx tsx bench/index.ts consumersPerMessage > /dev/null`.
 *
 * `BENCH_PERF=file` records the measured period of each instance with the consumers with Linux `perf`
 * (`file.1`, `file.3`, `file.5`): native frames, the kernel's and V8's helper threads included, which a
 * V8 CPU profile leaves out. Under `NODE_OPTIONS=--perf-prof`, `perf inject --jit -i file.1 -o
 * file.1.jit` names the JavaScript frames too.
 */
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createTelemetry, type TelemetryOptions } from '../dist/index.js';
import { nodemailerLevels } from '../dist/nodemailer.js';
import { smtpServerLevels } from '../dist/smtp-server.js';
import type { ConsumerCounts } from './e2e/consumers.js';
import { CONSUMERS, type Consumer, consumerOptions } from './e2e/setup.js';
import type { Figure } from './harness.js';
import { median, sleep } from './stats.js';

type Telemetry = ReturnType<typeof createTelemetry<Record<never, never>>>;

/** `bench:e2e`'s "off" throughput (messages/s): the consumers are measured at the rate they see there. */
const RATE = Number(process.env.BENCH_RATE ?? 400);
if (!(RATE > 0 && RATE <= 100_000))
  throw new Error(`BENCH_RATE must be a number of messages/s up to 100000, got ${process.env.BENCH_RATE}`);
const WANTED = new Set((process.env.BENCH_CONSUMERS ?? CONSUMERS.join(',')).split(',').filter((name) => name !== ''));
for (const name of WANTED) {
  if (!(CONSUMERS as readonly string[]).includes(name))
    throw new Error(`BENCH_CONSUMERS: unknown consumer ${name}; known: ${CONSUMERS.join(', ')}`);
}
const wants = (name: Consumer): boolean => WANTED.has(name);
/** `BENCH_HISTORY`: history options (JSON) merged over the history's, e.g. `{"traces":false}`. */
const HISTORY = historyOverrides(process.env.BENCH_HISTORY);
const TICK_MS = 10;
const WARM_MS = 3000;
const MEASURE_MS = 6000;
/** After the last message: the webhook throttle and the live batch window still have work. */
const DRAIN_MS = 1500;
const RUNS = 3;
const PERF = process.env.BENCH_PERF;

/** One relayed message, as the smtp-server and nodemailer adapters report it (15 events). */
function message(telemetry: Telemetry, n: number): void {
  const queueId = `Q${n.toString(36).toUpperCase()}`;
  const from = `sender-${n % 64}@example.net`;
  const to = `rcpt-${n % 8}@example.org`;
  const messageId = `<${n.toString(16).padStart(8, '0')}-e4a3-e9b3-eefc-f44c0b36d2bf@example.net>`;
  const inbound = telemetry.span('smtp.connection-start', {
    remoteIp: '127.0.0.1',
    remotePort: 40_000 + (n % 20_000),
    listenerId: 'smtp',
    localPort: 2525,
    localIp: '127.0.0.1',
  });
  inbound.emit('smtp.ehlo', { domain: '[127.0.0.1]', details: 'EHLO' });
  inbound.emit('auth.success', { accountName: `relay-${n % 4}`, type: 'PLAIN' });
  inbound.emit('smtp.mail-from', { from });
  inbound.emit('smtp.rcpt-to', { to });
  inbound.emit('queue.message-queued', { queueId, from, to: [to], size: 681, messageId });
  // The adapter adds the Message-ID to the catalogue's keys, in a spread as here.
  const id = { messageId };
  const attempt = telemetry.span('delivery.attempt-start', { queueId, from, to: [to], total: 1, ...id });
  inbound.end({ elapsed: 74 });
  const hostname = '127.0.0.1';
  attempt.emit('delivery.connect', { hostname, remoteIp: '127.0.0.1', remotePort: 2526 });
  attempt.emit('delivery.ehlo', { hostname, details: 'PIPELINING, 8BITMIME, SMTPUTF8, SIZE 131072' });
  attempt.emit('delivery.mail-from', { hostname, from });
  attempt.emit('delivery.rcpt-to', { hostname, to });
  attempt.emit('delivery.delivered', { hostname, to, code: 250, details: '250 delivered' });
  attempt.emit('delivery.completed', { elapsed: 219 });
  attempt.end({ elapsed: 219 });
}

interface Consumers {
  readonly webhookUrl: string;
  attach(adminPort: number): Promise<void>;
  counts(): Promise<ConsumerCounts>;
  stop(): Promise<void>;
}

/** `bench:e2e`'s consumers of the `on` server (its `startConsumers`), in a process of their own. */
async function consumers(): Promise<Consumers> {
  const child = fork(fileURLToPath(new URL('./e2e/consumers-process.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the consumers' process exited with ${code}`))),
  );
  exited.catch(() => undefined);
  const next = <T>(): Promise<T> =>
    Promise.race([new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T))), exited]);
  const { webhookUrl } = await next<{ webhookUrl: string }>();
  return {
    webhookUrl,
    async attach(adminPort) {
      const ready = next();
      child.send({ attach: adminPort, sse: wants('live') });
      await ready;
    },
    async counts() {
      const answer = next<ConsumerCounts>();
      child.send({ count: true });
      return answer;
    },
    async stop() {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.send({ stop: true });
      await gone;
    },
  };
}

const levels = { ...smtpServerLevels, ...nodemailerLevels };

/** `bench:e2e`'s `on` server, without the mail server (the consumers in {@link WANTED}). */
function everything(webhookUrl: string): TelemetryOptions {
  return { service: 'bench-consumers', levels, ...consumerOptions(WANTED, webhookUrl, HISTORY) } as TelemetryOptions;
}

function historyOverrides(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`BENCH_HISTORY must be a JSON object of history options: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`BENCH_HISTORY must be a JSON object of history options, got ${text}`);
  return value as Record<string, unknown>;
}

async function serve(telemetry: Telemetry): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') telemetry.handlers.prometheus.node(req, res);
    else if (path === '/live/tracing') telemetry.handlers.liveTracing.node(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Emits messages at {@link RATE} for `ms`; returns how many. */
async function paced(telemetry: Telemetry, from: number, ms: number): Promise<number> {
  const perTick = (RATE * TICK_MS) / 1000;
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < ms) {
    const due = Math.floor(((performance.now() - start) / TICK_MS + 1) * perTick);
    while (sent < due) message(telemetry, from + sent++);
    await sleep(TICK_MS);
  }
  return sent;
}

/** CPU time (µs) of this process's main thread, from Linux's per-thread schedstat; NaN where there is no /proc. */
function mainThreadCpu(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return Number.NaN;
  }
}

/** Starts `perf record` on this process for the measured period; resolves once it is attached. */
async function perfRecord(file: string): Promise<void> {
  const seconds = String((MEASURE_MS + DRAIN_MS) / 1000);
  const args = ['record', '-k', 'mono', '-F', '999', '-g', '-p', String(process.pid), '-o', file, '--', 'sleep', seconds];
  const perf = spawn('perf', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  perf.stderr.on('data', (chunk: Buffer) => {
    said += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    perf.once('error', (error) => reject(new Error(`BENCH_PERF needs Linux perf: ${error.message}`)));
    perf.once('spawn', () => setTimeout(resolve, 300));
  });
  if (perf.exitCode !== null && perf.exitCode !== 0) throw new Error(`BENCH_PERF: perf record failed: ${said.trim()}`);
}

interface PerMessage {
  /** Process CPU, every thread (µs/message). */
  readonly micros: number;
  /** The main thread alone, the one the mail server runs on (µs/message); NaN without /proc. */
  readonly main: number;
  readonly delivered: number;
}

/** Server CPU (µs) per message of one instance over a warm-up, a measured period and a drain. */
async function cpuPerMessage(full: boolean, run: number): Promise<PerMessage> {
  const readers = full ? await consumers() : undefined;
  const telemetry = createTelemetry(
    readers === undefined ? { history: false, levels } : everything(readers.webhookUrl),
  ) as unknown as Telemetry;
  const admin = readers === undefined ? undefined : await serve(telemetry);
  if (readers !== undefined && admin !== undefined) await readers.attach(admin.port);
  const base = run * 1_000_000;
  const warm = await paced(telemetry, base, WARM_MS);
  await sleep(DRAIN_MS);
  if (full && PERF !== undefined) await perfRecord(`${PERF}.${run}`);
  const mainBefore = mainThreadCpu();
  const before = process.cpuUsage();
  const sent = await paced(telemetry, base + warm, MEASURE_MS);
  await sleep(DRAIN_MS);
  const used = process.cpuUsage(before);
  const mainAfter = mainThreadCpu();
  let delivered = 0;
  if (readers !== undefined) {
    const { webhookEvents, sseEvents } = await readers.counts();
    delivered = Math.min(wants('webhook') ? webhookEvents : Infinity, wants('live') ? sseEvents : Infinity);
    await readers.stop();
  }
  admin?.server.closeAllConnections();
  admin?.server.close();
  await telemetry.shutdown(1000);
  return {
    micros: (used.user + used.system) / sent,
    main: (mainAfter - mainBefore) / sent,
    delivered: delivered / (warm + sent),
  };
}

export const figures: Record<string, () => Promise<Figure>> = {
  consumersPerMessage: async () => {
    const bare: PerMessage[] = [];
    const full: PerMessage[] = [];
    for (let r = 0; r < RUNS; r++) {
      bare.push(await cpuPerMessage(false, 2 * r));
      full.push(await cpuPerMessage(true, 2 * r + 1));
    }
    const delivered = full.at(-1)?.delivered ?? Number.NaN;
    const cpu = (runs: readonly PerMessage[]) => median(runs.map((r) => r.micros));
    const main = (runs: readonly PerMessage[]) => median(runs.map((r) => r.main));
    return {
      title:
        "bench:e2e's consumers per relayed message, no mail server (15 events; JSON tracer, history, signed webhook, SSE client, scrape, 2 alert rules)",
      value: cpu(full) - cpu(bare),
      unit: 'µs/message',
      note:
        `${RATE} messages/s for ${MEASURE_MS / 1000} s plus a ${DRAIN_MS} ms drain, receivers in another process; ` +
        `${cpu(full).toFixed(1)} µs/message with the consumers, ${cpu(bare).toFixed(1)} with the adapters' levels only ` +
        `(runs: ${full.map((r) => r.micros.toFixed(1)).join(', ')} against ${bare.map((r) => r.micros.toFixed(1)).join(', ')}, alternating); ` +
        (Number.isNaN(main(full))
          ? ''
          : `main thread alone ${(main(full) - main(bare)).toFixed(1)} µs/message (${main(full).toFixed(1)} against ${main(bare).toFixed(1)}), ` +
            `the rest in V8's garbage-collector and compiler threads; `) +
        `consumers: ${[...WANTED].join(', ')}` +
        (Object.keys(HISTORY).length > 0 ? `; history options ${JSON.stringify(HISTORY)}` : '') +
        (Number.isFinite(delivered)
          ? `; ${delivered.toFixed(1)} events per message reached the webhook receiver and the SSE client`
          : ''),
    };
  },
};
