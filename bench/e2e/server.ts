/**
 * The benchmark's mail server, one child process: compiled to build/bench-e2e/server.mjs and run as
 * `node build/bench-e2e/server.mjs --mode off|on [--webhook <url>]`, forked by bench/e2e/index.ts with
 * an IPC channel.
 *
 * An authenticated `smtp-server` (AUTH PLAIN/LOGIN, a mailbox table, a size limit) reads each message,
 * names a queue id, answers `queued as <id>` and relays the message through a pooled nodemailer
 * transport to a local delivery agent in this same process, which writes it into a maildir (tmp, then
 * rename into new). Both modes run this same host code; only `on` loads the library (from `dist/`, by
 * dynamic import, so `off` never loads it) and wraps the inbound options and the outbound transport.
 */
import { mkdirSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import nodemailer from 'nodemailer';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { ACCOUNTS, MAILBOXES, mailboxFolder, SIZE_LIMIT } from './accounts.js';
import type { Command, MemoryStats, Mode, Report } from './protocol.js';
import { consumerOptions } from './setup.js';

type Library = typeof import('../../src/index.js');
type SmtpAdapter = typeof import('../../src/smtp-server.js');
type MailerAdapter = typeof import('../../src/nodemailer.js');
type Envelope = { readonly from: string; readonly to: string[] };
type Relay = (mail: { envelope: Envelope; raw: Buffer; queueId: string }) => Promise<unknown>;

const { values } = parseArgs({ options: { mode: { type: 'string' }, webhook: { type: 'string' } } });
const mode = values.mode as Mode;
if (mode !== 'off' && mode !== 'on') throw new Error(`--mode must be off or on, got ${values.mode ?? 'nothing'}`);

function send(report: Report): void {
  process.send?.(report);
}

process.on('uncaughtException', (error) => {
  send({ type: 'fatal', error: error.stack ?? describe(error) });
  process.exit(1);
});

// The library's describeError is not loaded in `off` mode, so the bench has its own.
function describe(error: unknown): string {
  return error instanceof Error ? error.message : typeof error === 'string' ? error : 'a non-Error value was thrown';
}

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

function listen(server: SMTPServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port)));
}

// ---- The local delivery agent: SMTP in, one maildir file per recipient out. ----

let maildir = '';
let fileSeq = 0;

async function deliverToMaildir(recipients: readonly string[], raw: Buffer): Promise<void> {
  for (const address of recipients) {
    const now = Date.now();
    const name = `${Math.floor(now / 1000)}.M${(now % 1000) * 1000}P${process.pid}Q${++fileSeq}.bench`;
    const folder = join(maildir, mailboxFolder(address));
    await writeFile(join(folder, 'tmp', name), raw);
    await rename(join(folder, 'tmp', name), join(folder, 'new', name));
  }
}

const lda = new SMTPServer({
  logger: false,
  disableReverseLookup: true,
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  size: SIZE_LIMIT * 2,
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      deliverToMaildir(
        session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
        Buffer.concat(chunks),
      ).then(
        () => callback(null, 'delivered'),
        (error: unknown) => callback(smtpError(451, `maildir write failed: ${describe(error)}`)),
      );
    });
  },
});
const ldaPort = await listen(lda);

// ---- The outbound transport and, in `on` mode, the library. ----

const baseTransport = nodemailer.createTransport({
  host: '127.0.0.1',
  port: ldaPort,
  secure: false,
  ignoreTLS: true,
  pool: true,
  maxConnections: 5,
});

// The profiled child loads tsc's unbundled modules (build/modules/), so samples name the library's folders.
const libraryDir = process.env.BENCH_E2E_LIBRARY ?? 'dist';
const dist = (file: string): string => new URL(`../../${libraryDir}/${file}`, import.meta.url).href;
let wrapInbound = (options: SMTPServerOptions): SMTPServerOptions => options;
let relay: Relay = (mail) => baseTransport.sendMail(mail as Parameters<typeof baseTransport.sendMail>[0]);
let closeTelemetry = async (): Promise<void> => {};
let admin: Server | undefined;

if (mode === 'on') {
  const webhook = values.webhook;
  if (webhook === undefined) throw new Error('--mode on needs --webhook <url>');
  const lib = (await import(dist('index.js'))) as Library;
  const smtp = (await import(dist('smtp-server.js'))) as SmtpAdapter;
  const mailer = (await import(dist('nodemailer.js'))) as MailerAdapter;
  // Which consumers run (all by default): `--consumers` of the parent, to measure each one's share.
  const wanted = new Set((process.env.BENCH_E2E_CONSUMERS ?? 'tracer,history,webhook,live,alerts').split(','));
  const telemetry = lib.createTelemetry({
    service: 'bench-e2e',
    levels: { ...smtp.smtpServerLevels, ...mailer.nodemailerLevels },
    // `--history-capacity` of the parent: the event ring's size (the default history's otherwise).
    ...consumerOptions(wanted, webhook, historyCapacity()),
  } as Parameters<Library['createTelemetry']>[0]);
  wrapInbound = (options) => smtp.instrumentSmtpServer(telemetry, options);
  const transport = mailer.instrumentTransport(telemetry, baseTransport);
  relay = (mail) => transport.sendMail(mail as Parameters<typeof transport.sendMail>[0]);
  closeTelemetry = async () => {
    await telemetry.shutdown();
  };
  const handlers = telemetry.handlers;
  admin = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') handlers.prometheus.node(req, res);
    else if (path === '/live/tracing') handlers.liveTracing.node(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => admin?.listen(0, '127.0.0.1', resolve));
}

// ---- The inbound server: the host's own options, identical in both modes. ----

const mailboxes = new Set(MAILBOXES);
const queueBase = Date.now().toString(36).toUpperCase();
let queueSeq = 0;
let queued = 0;
let outboundFailed = 0;

const inbound = new SMTPServer(
  wrapInbound({
    logger: false,
    disableReverseLookup: true,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    size: SIZE_LIMIT,
    onAuth(auth, _session, callback) {
      const known = Object.hasOwn(ACCOUNTS, auth.username ?? '') && ACCOUNTS[auth.username ?? ''] === auth.password;
      if (known) callback(null, { user: auth.username });
      else callback(smtpError(535, 'Authentication credentials invalid'));
    },
    onRcptTo(address, _session, callback) {
      if (mailboxes.has(address.address.toLowerCase())) callback();
      else callback(smtpError(550, `5.1.1 <${address.address}>: mailbox unavailable`));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          callback(smtpError(552, `5.3.4 message exceeds the ${SIZE_LIMIT}-byte limit`));
          return;
        }
        const queueId = `${queueBase}${(++queueSeq).toString(36).toUpperCase()}`;
        // smtp-server resets the envelope once the host calls back.
        const envelope: Envelope = {
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        queued++;
        callback(null, `Ok: queued as ${queueId}`);
        relay({ envelope, raw: Buffer.concat(chunks), queueId }).catch(() => {
          outboundFailed++;
        });
      });
    },
  }),
);
const smtpPort = await listen(inbound);

// ---- Measurement, driven by the parent. ----

const loopDelay = monitorEventLoopDelay({ resolution: 2 });
loopDelay.enable();
const gc = (globalThis as { gc?: () => void }).gc;
let cpuStart = process.cpuUsage();
let roundStart = process.hrtime.bigint();
let cpuLoadMicros = 0;
let loopDelayP99Ms = 0;

function startRound(root: string): void {
  maildir = root;
  for (const address of MAILBOXES) {
    for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(root, mailboxFolder(address), sub), { recursive: true });
  }
  queued = 0;
  outboundFailed = 0;
  gc?.();
  loopDelay.reset();
  cpuStart = process.cpuUsage();
  roundStart = process.hrtime.bigint();
}

function markLoaded(): void {
  const cpu = process.cpuUsage(cpuStart);
  cpuLoadMicros = cpu.user + cpu.system;
  loopDelayP99Ms = loopDelay.percentile(99) / 1e6;
}

function memoryNow(): MemoryStats {
  gc?.();
  const memory = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
  return {
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    newSpaceBytes: newSpace,
    otherHeapBytes: memory.heapTotal - newSpace,
  };
}

function endRound(): Report {
  const endMicros = Number(process.hrtime.bigint() / 1000n);
  const cpu = process.cpuUsage(cpuStart);
  return {
    type: 'round-stats',
    cpuMicros: cpu.user + cpu.system,
    cpuLoadMicros,
    loopDelayP99Ms,
    ...memoryNow(),
    startMicros: Number(roundStart / 1000n),
    endMicros,
    queued,
    outboundFailed,
    gcExposed: gc !== undefined,
  };
}

function closeSmtp(server: SMTPServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function shutdown(): Promise<void> {
  // smtp-server waits for open sessions; a stuck one must not keep the profile from being written.
  setTimeout(() => process.exit(0), 5000).unref();
  loopDelay.disable();
  baseTransport.close();
  admin?.closeAllConnections();
  await Promise.all([closeSmtp(inbound), closeSmtp(lda), closeTelemetry()]);
  admin?.close();
  // A normal exit, so that --cpu-prof writes its profile.
  process.exit(0);
}

// An orphan (the parent died) has nobody to report to.
process.on('disconnect', () => process.exit(0));

process.on('message', (command: Command) => {
  if (command.type === 'round-start') {
    startRound(command.maildir);
    send({ type: 'round-ready' });
  } else if (command.type === 'round-loaded') markLoaded();
  else if (command.type === 'round-end') send(endRound());
  else if (command.type === 'memory') send({ type: 'memory', ...memoryNow() });
  else void shutdown();
});

send({ type: 'ready', smtpPort, adminPort: admin === undefined ? undefined : (admin.address() as AddressInfo).port });

/** The history's event capacity the parent asked for, if any. */
function historyCapacity(): { capacity?: number } {
  const capacity = Number(process.env.BENCH_E2E_HISTORY_CAPACITY);
  return Number.isInteger(capacity) && capacity > 0 ? { capacity } : {};
}
