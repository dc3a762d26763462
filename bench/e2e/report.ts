/** Medians and the Markdown tables of an end-to-end run. */
import { availableParallelism, cpus, platform, totalmem } from 'node:os';
import { median } from '../stats.js';
import type { ConsumerCounts } from './consumers.js';
import type { LoadResult } from './load.js';
import { type Attribution, CATEGORIES, type Category, isLibrary } from './profile.js';
import type { MemoryStats, Mode, RoundStats } from './protocol.js';

export interface Round {
  readonly mode: Mode;
  readonly load: LoadResult;
  readonly stats: RoundStats;
}

export const throughput = (round: Round): number => round.load.sent / (round.load.wallMs / 1000);
const cpuPerMessage = (round: Round): number => round.stats.cpuMicros / round.load.sent;
const cpuPerMessageLoad = (round: Round): number => round.stats.cpuLoadMicros / round.load.sent;
const MiB = 2 ** 20;

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits: number): string => n.toFixed(digits);
const pct = (part: number, whole: number): string => (whole === 0 ? '–' : `${((100 * part) / whole).toFixed(1)}%`);

export function machineLine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const gib = (totalmem() / 2 ** 30).toFixed(1);
  return `${cpu}, ${availableParallelism()} cores, ${gib} GiB memory, ${platform()} ${process.arch}; Node ${process.version}`;
}

/** Each server's memory once idle: after the last round and {@link IDLE_MS} of scrapes and SSE heartbeats only. */
export type IdleMemory = Readonly<Record<Mode, MemoryStats>>;

/** How long the servers idle before their memory is read again. */
export const IDLE_MS = 8000;

/**
 * The headline: medians per mode, the pairwise on/off throughput ratio and the memory once idle.
 * `full` adds the CPU until the last file and how V8 had sized its heap (the docs page has them,
 * the README's short table does not).
 */
export function headline(
  rounds: readonly Round[],
  pairs: readonly (readonly [Round, Round])[],
  idle: IdleMemory | undefined,
  full = true,
): string {
  const of = (mode: Mode) => rounds.filter((r) => r.mode === mode);
  const col = (f: (r: Round) => number, format: (n: number) => string) =>
    `${format(median(of('off').map(f)))} | ${format(median(of('on').map(f)))}`;
  const ratios = pairs.map(([off, on]) => throughput(on) / throughput(off));
  const rows = [
    '| figure (median per mode) | off | on |',
    '| --- | ---: | ---: |',
    `| messages/s | ${col(throughput, int)} |`,
    `| throughput on/off, median of pairs (min–max) | | ${fixed(median(ratios), 3)} (${fixed(Math.min(...ratios), 2)}–${fixed(Math.max(...ratios), 2)}) |`,
    `| server CPU per message, round and drain (µs) | ${col(cpuPerMessage, int)} |`,
    ...(full ? [`| server CPU per message, until the last file (µs) | ${col(cpuPerMessageLoad, int)} |`] : []),
    `| event-loop delay p99 (ms) | ${col(
      (r) => r.stats.loopDelayP99Ms,
      (n) => fixed(n, 1),
    )} |`,
    `| RSS after a round (MiB) | ${col((r) => r.stats.rssBytes / MiB, int)} |`,
    `| heap used after GC (MiB) | ${col(
      (r) => r.stats.heapUsedBytes / MiB,
      (n) => fixed(n, 1),
    )} |`,
  ];
  if (full) {
    rows.push(
      `| V8 young generation committed (MiB) | ${col((r) => r.stats.newSpaceBytes / MiB, int)} |`,
      `| rest of the V8 heap committed (MiB) | ${col((r) => r.stats.otherHeapBytes / MiB, int)} |`,
    );
  }
  if (idle !== undefined) {
    const both = (f: (m: MemoryStats) => number, format: (n: number) => string = int) =>
      `${format(f(idle.off))} | ${format(f(idle.on))}`;
    rows.push(`| RSS after ${IDLE_MS / 1000} s idle (MiB) | ${both((m) => m.rssBytes / MiB)} |`);
    if (full) {
      rows.push(
        `| heap used after ${IDLE_MS / 1000} s idle (MiB) | ${both(
          (m) => m.heapUsedBytes / MiB,
          (n) => fixed(n, 1),
        )} |`,
        `| V8 young generation after ${IDLE_MS / 1000} s idle (MiB) | ${both((m) => m.newSpaceBytes / MiB)} |`,
      );
    }
  }
  return rows.join('\n');
}

/** Every measured round, in the order it ran. */
export function roundsTable(rounds: readonly Round[]): string {
  const rows = [
    '| # | mode | messages/s | wall (ms) | CPU µs/msg | loop p99 (ms) | RSS (MiB) | heap (MiB) | young gen (MiB) | delivered | refused (auth, rcpt) |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  rounds.forEach((r, i) => {
    rows.push(
      `| ${i + 1} | ${r.mode} | ${int(throughput(r))} | ${int(r.load.wallMs)} | ${int(cpuPerMessage(r))} | ${fixed(r.stats.loopDelayP99Ms, 1)} | ${int(r.stats.rssBytes / MiB)} | ${fixed(r.stats.heapUsedBytes / MiB, 1)} | ${int(r.stats.newSpaceBytes / MiB)} | ${r.load.delivered}/${r.load.sent} | ${r.load.authRefused}, ${r.load.recipientsRefused} |`,
    );
  });
  return rows.join('\n');
}

export function consumersLine(counts: ConsumerCounts, onRounds: number): string {
  return `What the parent's consumers of the \`on\` server received over its life (${onRounds} measured rounds plus warm-up): ${int(counts.webhookRequests)} webhook requests holding ${int(counts.webhookEvents)} events, ${int(counts.sseFrames)} SSE trace frames holding ${int(counts.sseEvents)} events, ${int(counts.scrapes)} scrapes (${counts.scrapeFailures} failed).`;
}

/** The CPU profile, by where the sampled frame's code lives. */
export function profileTables(a: Attribution): string {
  const busy = a.samples - a.idle;
  const get = (map: ReadonlyMap<Category, number>, c: Category) => map.get(c) ?? 0;
  const rows = [
    '| where the sampled frame is | self | Node internals and native calls charged to their caller |',
    '| --- | ---: | ---: |',
  ];
  for (const c of CATEGORIES) rows.push(`| ${c} | ${pct(get(a.self, c), busy)} | ${pct(get(a.charged, c), busy)} |`);
  const librarySum = (map: ReadonlyMap<Category, number>) =>
    [...map].filter(([c]) => isLibrary(c)).reduce((sum, [, n]) => sum + n, 0);
  rows.push(`| **the library (dist/)** | **${pct(librarySum(a.self), busy)}** | **${pct(librarySum(a.charged), busy)}** |`);
  const lines = [
    rows.join('\n'),
    '',
    `- ${int(a.samples)} samples (${a.window === 'round' ? 'the measured round and its drain only' : 'the whole profile'}); ${pct(a.idle, a.samples)} of them idle. Shares are of the ${int(busy)} non-idle samples.`,
    `- **The library's share of non-idle server CPU: ${pct(librarySum(a.self), busy)} in its own frames, ${pct(librarySum(a.charged), busy)} with the Node and native calls it makes itself.**`,
    `- ${pct(a.underLibrary, busy)} of non-idle samples have a library frame anywhere on the stack. That upper bound overstates the cost: the adapters wrap smtp-server's reply writer, the host's hooks and \`sendMail\`, so the work those do sits under a library frame too.`,
  ];
  if (a.note !== undefined) lines.push(`- ${a.note}.`);
  if (a.packages.size > 0) {
    const named = [...a.packages].sort((x, y) => y[1] - x[1]).map(([name, n]) => `${name} ${pct(n, busy)}`);
    lines.push(`- Other packages: ${named.join(', ')}.`);
  }
  if (a.topLeaves.length > 0) {
    lines.push(
      '',
      '| most sampled leaves charged to the library (← the library frame that called into Node) | share |',
      '| --- | ---: |',
    );
    for (const leaf of a.topLeaves) lines.push(`| \`${leaf.name.replaceAll('|', '\\|')}\` | ${pct(leaf.samples, busy)} |`);
  }
  return lines.join('\n');
}

/** The library's share of non-idle samples: its own frames, and with the Node calls it makes. */
export function libraryShare(a: Attribution): { readonly self: string; readonly charged: string } {
  const busy = a.samples - a.idle;
  const sum = (map: ReadonlyMap<Category, number>) =>
    [...map].filter(([c]) => isLibrary(c)).reduce((total, [, n]) => total + n, 0);
  return { self: pct(sum(a.self), busy), charged: pct(sum(a.charged), busy) };
}

/** The README's summary: the headline table, the library's CPU share, and where it was measured. */
export function readmeBlock(
  headlineTable: string,
  attribution: Attribution | undefined,
  command: string,
  machine: string,
): string {
  const share =
    attribution === undefined
      ? []
      : [
          `| the library's share of server CPU (CPU profile) | | ${libraryShare(attribution).self} (${libraryShare(attribution).charged} with the Node calls it makes) |`,
        ];
  return [
    headlineTable,
    ...share,
    '',
    `\`${command}\` on ${machine}. Details: [docs/benchmarks-e2e.md](docs/benchmarks-e2e.md).`,
  ].join('\n');
}

/** The library's share of server CPU for each consumer setup, one profiled round each. */
export function consumerTable(rows: readonly (readonly [string, Attribution])[]): string {
  const lines = [
    "| what runs in the server | library's share of server CPU: own frames | with the Node calls it makes |",
    '| --- | ---: | ---: |',
  ];
  for (const [name, a] of rows) {
    const share = libraryShare(a);
    lines.push(`| ${name} | ${share.self} | ${share.charged} |`);
  }
  return lines.join('\n');
}
