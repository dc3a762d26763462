/**
 * `npm run bench:e2e`: messages per second through a real smtp-server mail server (bench/e2e/server.ts,
 * a child process) with the library not loaded at all (`off`) against everything on (`on`): a JSON
 * console tracer, history with series every second, a signed webhook, an SSE client on the live
 * stream, a Prometheus scrape every second and two alert rules evaluated every second.
 *
 * Rounds alternate in ABBA order after one discarded warm-up round per mode. Then one extra `on`
 * round runs under `--cpu-prof` and its samples are attributed to the library's folders, the mail
 * packages and Node. Prints Markdown and writes docs/benchmarks-e2e.md (not with `--quick`).
 *
 * `npx tsx bench/e2e/index.ts [--rounds N] [--messages N] [--concurrency N] [--no-profile] [--profile-only] [--by-consumer] [--quick]
 * [--node-flags="--max-semi-space-size=1 …"] [--history-capacity N]` after `npm run build`. `--node-flags` starts both server children
 * (`off` and `on`) with those Node options, to see how V8's heap sizing moves a figure such as RSS;
 * `--history-capacity N` gives the `on` server's history an event ring of N events.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ServerChild, serverScript } from './child.js';
import { type Consumers, startConsumers } from './consumers.js';
import { runLoad } from './load.js';
import { type Attribution, attribute, type CpuProfile } from './profile.js';
import type { Mode } from './protocol.js';
import {
  consumersLine,
  consumerTable,
  headline,
  IDLE_MS,
  type IdleMemory,
  machineLine,
  profileTables,
  type Round,
  readmeBlock,
  roundsTable,
  throughput,
} from './report.js';

/** Longer than the webhook throttle and the live batch window (1 s each), so a round's deferred work lands in it. */
const DRAIN_MS = 1500;
const PROFILE_INTERVAL_US = 250;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    messages: { type: 'string' },
    concurrency: { type: 'string' },
    'no-profile': { type: 'boolean', default: false },
    'profile-only': { type: 'boolean', default: false },
    'by-consumer': { type: 'boolean', default: false },
    setup: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'node-flags': { type: 'string' },
    'history-capacity': { type: 'string' },
  },
});

/** Node options for both server children (`--node-flags`). */
const extraFlags = (values['node-flags'] ?? '').split(/\s+/).filter((flag) => flag !== '');

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} expects a positive integer, got ${value}`);
  return n;
}

const quick = values.quick === true;
const README_E2E_START = '<!-- bench-e2e:start -->';
const README_E2E_END = '<!-- bench-e2e:end -->';
const pairs = positive('rounds', values.rounds, quick ? 2 : 6);
const messages = positive('messages', values.messages, quick ? 200 : 1500);
const concurrency = positive('concurrency', values.concurrency, 64);
const profile = values['no-profile'] !== true;
/** Only the profiled round: a quick look at where the CPU goes, with no throughput figures. */
const profileOnly = values['profile-only'] === true;
/** One profiled round per consumer setup: each consumer's share of the server's CPU. */
const byConsumer = values['by-consumer'] === true;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
if (!existsSync(join(repoRoot, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
const command = `npm run build && npx tsx bench/e2e/index.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
const startedAt = new Date();
const loadBefore = loadavg();
const root = mkdtempSync(join(tmpdir(), 'mail-telemetry-e2e-'));
const devNull = openSync('/dev/null', 'w');
const script = await serverScript(repoRoot);
let roundNumber = 0;
let profiles = 0;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function round(child: ServerChild): Promise<Round> {
  const maildir = join(root, `round-${++roundNumber}`);
  await child.startRound(maildir);
  const load = await runLoad(child.smtpPort, maildir, messages, concurrency);
  child.markLoaded();
  await sleep(DRAIN_MS);
  const stats = await child.endRound();
  rmSync(maildir, { recursive: true, force: true });
  if (stats.outboundFailed > 0) throw new Error(`${stats.outboundFailed} messages failed on their way to the maildir`);
  const result: Round = { mode: child.mode, load, stats };
  log(
    `  ${child.mode.padEnd(3)} ${Math.round(throughput(result))} msg/s, ${Math.round(stats.cpuMicros / load.sent)} µs CPU/msg, p99 ${stats.loopDelayP99Ms.toFixed(1)} ms`,
  );
  return result;
}

/** What an `on` server runs: its consumers, and whether the parent scrapes it and follows its live stream. */
interface Setup {
  readonly name: string;
  readonly consumers: readonly string[];
  readonly scrape: boolean;
  readonly sse: boolean;
}

const EVERYTHING: Setup = {
  name: 'everything on',
  consumers: ['tracer', 'history', 'webhook', 'live', 'alerts'],
  scrape: true,
  sse: true,
};

/** The per-consumer table: each consumer alone over the adapters, then all of them. */
const SETUPS: readonly Setup[] = [
  { name: 'adapters only (emit, spans, counters)', consumers: [], scrape: false, sse: false },
  { name: 'plus a scrape every second', consumers: [], scrape: true, sse: false },
  { name: 'plus a JSON console tracer (/dev/null)', consumers: ['tracer'], scrape: false, sse: false },
  { name: 'plus history (series every second)', consumers: ['history'], scrape: false, sse: false },
  { name: 'plus history and alerts', consumers: ['history', 'alerts'], scrape: false, sse: false },
  { name: 'plus one webhook, signed both ways', consumers: ['webhook'], scrape: false, sse: false },
  { name: 'plus one live SSE client', consumers: ['live'], scrape: false, sse: true },
  EVERYTHING,
];

/** `--setup N`: the `on` server runs the N-th row of the per-consumer table instead of everything. */
const chosenSetup = values.setup === undefined ? EVERYTHING : SETUPS[Number(values.setup)];
if (chosenSetup === undefined) throw new Error(`--setup expects 0 to ${SETUPS.length - 1}`);

async function start(
  mode: Mode,
  consumers: Consumers,
  nodeFlags: readonly string[] = [],
  setup = EVERYTHING,
): Promise<ServerChild> {
  process.env.BENCH_E2E_CONSUMERS = setup.consumers.join(',');
  if (values['history-capacity'] !== undefined)
    process.env.BENCH_E2E_HISTORY_CAPACITY = String(positive('history-capacity', values['history-capacity'], 0));
  const child = await ServerChild.start({
    mode,
    repoRoot,
    webhookUrl: consumers.webhookUrl,
    stdout: devNull,
    nodeFlags: [...extraFlags, ...nodeFlags],
    script,
  });
  delete process.env.BENCH_E2E_CONSUMERS;
  if (mode === 'on') await consumers.attach(child.adminPort as number, { sse: setup.sse, scrape: setup.scrape });
  return child;
}

/** One `on` child under --cpu-prof: a warm-up round, one profiled round, then a clean exit writes the profile. */
async function profiledRound(setup = EVERYTHING): Promise<Attribution> {
  const dir = join(root, `profile-${++profiles}`);
  mkdirSync(dir);
  const consumers = await startConsumers();
  try {
    const flags = ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', String(PROFILE_INTERVAL_US)];
    process.env.BENCH_E2E_LIBRARY = 'build/modules'; // the same code as dist/, one file per module
    const child = await start('on', consumers, flags, setup);
    delete process.env.BENCH_E2E_LIBRARY;
    log('profile: warm-up, then one profiled on round');
    await round(child);
    const measured = await round(child);
    await child.stop();
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`no .cpuprofile was written to ${dir}`);
    const keep = process.env.BENCH_E2E_PROFILE;
    if (keep !== undefined && keep !== '') copyFileSync(join(dir, file), keep); // for a closer look in DevTools
    const data = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    return attribute(data, repoRoot, measured.stats.startMicros, measured.stats.endMicros);
  } finally {
    await consumers.close();
  }
}

async function main(): Promise<void> {
  if (profileOnly) {
    process.stdout.write(`${profileTables(await profiledRound(chosenSetup))}\n`);
    rmSync(root, { recursive: true, force: true });
    return;
  }
  if (byConsumer) {
    const rows: [string, Attribution][] = [];
    for (const setup of SETUPS) {
      log(`profile: ${setup.name}`);
      rows.push([setup.name, await profiledRound(setup)]);
    }
    rmSync(root, { recursive: true, force: true });
    process.stdout.write(`\n${consumerTable(rows)}\n\nproduced by: ${command}\n`);
    return;
  }
  log(`${machineLine()}\n${command}\n${pairs} ABBA pairs of ${messages} messages, ${concurrency} concurrent clients`);
  const consumers = await startConsumers();
  const children = { off: await start('off', consumers), on: await start('on', consumers, [], chosenSetup) };
  const rounds: Round[] = [];
  const pairsRun: [Round, Round][] = [];
  let idle: IdleMemory | undefined;
  try {
    log('warm-up (discarded)');
    await round(children.off);
    await round(children.on);
    for (let pair = 0; pair < pairs; pair++) {
      log(`pair ${pair + 1} of ${pairs}`);
      const order: Mode[] = pair % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      const done: Partial<Record<Mode, Round>> = {};
      for (const mode of order) {
        const r = await round(children[mode]);
        rounds.push(r);
        done[mode] = r;
      }
      pairsRun.push([done.off as Round, done.on as Round]);
    }
    // What an operator sees between bursts: the scrapes and the SSE client go on, the mail stops.
    log(`idle ${IDLE_MS / 1000} s, then memory`);
    await sleep(IDLE_MS);
    const [off, on] = await Promise.all([children.off.memory(), children.on.memory()]);
    idle = { off, on };
  } finally {
    consumers.stopScraping();
    await Promise.all([children.off.stop(), children.on.stop()]);
  }
  const counts = consumers.counts();
  await consumers.close();
  const attribution = profile ? await profiledRound() : undefined;
  rmSync(root, { recursive: true, force: true });

  const loadAfter = loadavg();
  const load = (l: number[]) => l.map((n) => n.toFixed(2)).join(' ');
  const gcNote = rounds.every((r) => r.stats.gcExposed) ? 'after a full GC (`--expose-gc`)' : 'without a forced GC';
  const sections = [
    '# End-to-end benchmark: a real smtp-server mail server, telemetry off and on',
    '',
    `- Machine: ${machineLine()}; ${startedAt.toISOString()}.`,
    `- Command: \`${command}\`.`,
    `- Load average (1, 5, 15 min): ${load(loadBefore)} at start, ${load(loadAfter)} at the end. The machine is shared: read the ratios, not the absolute rates.`,
    `- Rounds: ${pairs} off/on pairs in ABBA order, after one discarded warm-up round per mode; ${messages} messages a round from ${concurrency} concurrent nodemailer clients, one SMTP session per message, 1 in 60 with a wrong password and 1 in 30 with an extra unknown recipient.`,
    '- One child process per mode, kept across its rounds: a mail server is long-lived, so this measures a warm JIT and a filled history rather than start-up in every round. The two children take turns; the idle one does no mail work. Each runs bench/e2e/server.ts compiled to plain JavaScript, with no TypeScript loader in the process.',
    '- The server: `smtp-server` on 127.0.0.1 with AUTH PLAIN/LOGIN, a mailbox table (550 for unknown recipients) and a 64 KiB size limit; each message is read, given a queue id and relayed through a pooled nodemailer transport to a local delivery agent in the same process, which writes it into a maildir (tmp, then new).',
    "- `off`: the library is never loaded. `on`: `instrumentSmtpServer` and `instrumentTransport` with the adapters' level presets; a JSON console tracer on stdout (/dev/null); history with series every second; one webhook (signed both ways) to a receiver in the parent; one SSE client on the live trace stream (parent); a Prometheus scrape every second (parent); two alert rules (failed logins, queue count) evaluated every second.",
    `- Throughput is messages sent over the wall time from the first send to the last maildir file. Server CPU (\`process.cpuUsage\`) covers the round plus a ${DRAIN_MS} ms drain, so that work the library batches (webhook throttle, live batch window) is counted; the event-loop delay p99 (\`monitorEventLoopDelay\`, 2 ms resolution) covers the round until the last file. Memory is read at round end ${gcNote}, and once more after the last round and ${IDLE_MS / 1000} s of idling (the scrapes and the SSE client go on; no mail).`,
    '',
    '## Throughput and cost',
    '',
    headline(rounds, pairsRun, idle),
    '',
    consumersLine(counts, rounds.filter((r) => r.mode === 'on').length),
    '',
    '<details><summary>Every measured round</summary>',
    '',
    roundsTable(rounds),
    '',
    '</details>',
  ];
  if (attribution !== undefined) {
    sections.push(
      '',
      "## Where the server's CPU goes with everything on",
      '',
      `One more \`on\` child, loading the library unbundled from \`build/modules/\` (tsc's output, the same code as \`dist/\`) so that samples name its folders, under \`--cpu-prof --cpu-prof-interval ${PROFILE_INTERVAL_US}\`: a warm-up round, then one measured round whose samples (from round start to the end of its drain, on the profile's clock) are attributed by the file of the sampled frame. "Self" charges native functions and \`node:\` modules to Node; the second column charges them to the nearest caller outside Node, so a write the console tracer asks for counts as tracing.`,
      '',
      profileTables(attribution),
    );
  } else sections.push('', '_The CPU profile was skipped (`--no-profile`)._');
  const report = `${sections.join('\n')}\n`;
  process.stdout.write(`\n${report}\n`);
  // Only the default run is the published one: any option that changes what is measured leaves the docs alone.
  const published =
    !quick &&
    profile &&
    [values.setup, values.rounds, values.messages, values.concurrency, values['node-flags'], values['history-capacity']].every(
      (v) => v === undefined,
    );
  if (!published) log('a smoke run, one setup or other options: docs/benchmarks-e2e.md and the README were left as they were.');
  else {
    writeFileSync(join(repoRoot, 'docs/benchmarks-e2e.md'), report);
    log('wrote docs/benchmarks-e2e.md');
    const readme = join(repoRoot, 'README.md');
    const text = readFileSync(readme, 'utf8');
    const start = text.indexOf(README_E2E_START);
    const end = text.indexOf(README_E2E_END);
    if (start >= 0 && end > start) {
      const block = readmeBlock(
        headline(rounds, pairsRun, idle, false),
        attribution,
        command,
        `${machineLine()}, ${startedAt.toISOString().slice(0, 10)}`,
      );
      writeFileSync(readme, `${text.slice(0, start + README_E2E_START.length)}\n${block}\n${text.slice(end)}`);
      log('updated the README between its bench-e2e markers');
    }
  }
  log(`produced by: ${command}`);
}

await main();
