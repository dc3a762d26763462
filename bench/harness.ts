/** A tiny side-by-side benchmark harness: median ns/op over repeated timed runs, printed as ratios. */
import { availableParallelism, cpus, platform, totalmem } from 'node:os';
import { median } from './stats.js';

export interface Case {
  readonly name: string;
  /** Runs `iterations` operations; may be async to let batched delivery happen. */
  readonly run: (iterations: number) => void | Promise<void>;
}

export interface Comparison {
  readonly title: string;
  readonly ours: Case;
  readonly peer: Case;
  /** What the issue requires, as a minimum ratio of peer time to our time. */
  readonly target: number;
  readonly iterations: number;
  /** Extra findings to print after the table, computed once the timed runs are done. */
  readonly note?: () => string | Promise<string>;
}

export interface Result {
  readonly title: string;
  readonly ours: string;
  readonly peer: string;
  readonly oursNs: number;
  readonly peerNs: number;
  /** Peer ns/op divided by ours: above 1 means we are faster. */
  readonly speedup: number;
  readonly target: number;
  readonly note?: string;
}

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
/**
 * Fresh processes each comparison runs in. A process's JIT can settle its hot path on a faster or a
 * slower tier for its whole life (one emit comparison gave 7.5×, 9.0× and 12.4× in three processes),
 * so the process with the median speed-up is kept.
 */
export const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 3);

async function timeRun(c: Case, iterations: number): Promise<number> {
  const start = process.hrtime.bigint();
  await c.run(iterations);
  return Number(process.hrtime.bigint() - start) / iterations;
}

/** Warms both cases up, then alternates their timed runs so machine noise hits both alike. */
export async function compare(c: Comparison): Promise<Result> {
  await c.ours.run(c.iterations);
  await c.peer.run(c.iterations);
  const ours: number[] = [];
  const peer: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    ours.push(await timeRun(c.ours, c.iterations));
    peer.push(await timeRun(c.peer, c.iterations));
  }
  const oursNs = median(ours);
  const peerNs = median(peer);
  const note = c.note === undefined ? undefined : await c.note();
  return {
    title: c.title,
    ours: c.ours.name,
    peer: c.peer.name,
    oursNs,
    peerNs,
    speedup: peerNs / oursNs,
    target: c.target,
    ...(note === undefined ? {} : { note }),
  };
}

/** The result of the process with the median speed-up, noting every process's speed-up when there were several. */
export function medianResult(results: readonly Result[]): Result {
  const sorted = [...results].sort((a, b) => a.speedup - b.speedup);
  const middle = sorted[sorted.length >> 1] as Result;
  if (results.length < 2) return middle;
  const each = `speed-up in each of ${results.length} processes: ${results.map((r) => `${r.speedup.toFixed(2)}×`).join(', ')}`;
  return { ...middle, note: middle.note === undefined ? each : `${middle.note}; ${each}` };
}

/** Results as a Markdown table. */
export function formatTable(results: readonly Result[]): string {
  const ns = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));
  const lines = [
    '| benchmark | mail-telemetry | peer | ns/op (ours) | ns/op (peer) | speed-up | target | met |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | :---: |',
  ];
  for (const r of results) {
    const met = r.target === 0 ? '—' : r.speedup >= r.target ? 'yes' : 'no';
    lines.push(
      `| ${r.title} | \`${r.ours}\` | \`${r.peer}\` | ${ns(r.oursNs)} | ${ns(r.peerNs)} | ${r.speedup.toFixed(2)}× | ${r.target === 0 ? 'reported' : `≥${r.target}×`} | ${met} |`,
    );
  }
  return lines.join('\n');
}

/**
 * A measured figure that has no peer to compare with: a throughput, a memory bound, a latency.
 * `limit` states what the issue requires; omit it for figures that are only reported.
 */
export interface Figure {
  readonly title: string;
  readonly value: number;
  /** Printed after the value: `ns/event`, `events/s`, `ms`, `MiB`, `bytes/event`. */
  readonly unit: string;
  readonly limit?: { readonly atMost?: number; readonly atLeast?: number };
  readonly note?: string;
}

/** True when a figure meets its limit (or has none). */
export function figureMet(f: Figure): boolean {
  return (
    (f.limit?.atMost === undefined || f.value <= f.limit.atMost) && (f.limit?.atLeast === undefined || f.value >= f.limit.atLeast)
  );
}

/** Figures as a Markdown table. */
export function formatFigures(figures: readonly Figure[]): string {
  const fmt = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3));
  const lines = ['| figure | value | limit | met |', '| --- | ---: | ---: | :---: |'];
  for (const f of figures) {
    const limit =
      f.limit === undefined
        ? 'reported'
        : [
            f.limit.atLeast === undefined ? '' : `≥ ${fmt(f.limit.atLeast)}`,
            f.limit.atMost === undefined ? '' : `≤ ${fmt(f.limit.atMost)}`,
          ]
            .filter(Boolean)
            .join(', ');
    lines.push(
      `| ${f.title} | ${fmt(f.value)} ${f.unit} | ${limit} | ${f.limit === undefined ? '—' : figureMet(f) ? 'yes' : 'no'} |`,
    );
  }
  return lines.join('\n');
}

/** Where a run was measured: printed with its tables, so that figures are never read without it. */
export interface Machine {
  /** The first CPU's model string. */
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly platform: string;
  readonly arch: string;
  readonly node: string;
  /** The day of the run, YYYY-MM-DD (UTC). */
  readonly date: string;
  /** Timed runs per case; the median is reported. */
  readonly runs: number;
  readonly processes: number;
}

/** The machine this process runs on. */
export function thisMachine(now: Date = new Date()): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    platform: platform(),
    arch: process.arch,
    node: process.version,
    date: now.toISOString().slice(0, 10),
    runs: RUNS,
    processes: PROCESSES,
  };
}

/** One line naming the machine, the Node version and the date. */
export function describeMachine(m: Machine): string {
  const gib = (m.memoryBytes / 2 ** 30).toFixed(1);
  return `${m.cpu}, ${m.cores} cores, ${gib} GiB memory, ${m.platform} ${m.arch}; Node ${m.node}; ${m.date}; median of ${m.runs} runs each (comparisons: the median of ${m.processes} processes)`;
}

/** The Markdown tables of a run, then its notes and the targets it missed. */
export function formatRun(results: readonly Result[], figures: readonly Figure[]): string {
  const parts = [formatTable(results)];
  if (figures.length > 0) parts.push(formatFigures(figures));
  const notes = [...results, ...figures].flatMap((r) => (r.note === undefined ? [] : [`${r.title}: ${r.note}`]));
  if (notes.length > 0) parts.push(notes.map((n) => `- ${n}`).join('\n'));
  const missed = results.filter((r) => r.speedup < r.target).length + figures.filter((f) => !figureMet(f)).length;
  if (missed > 0) parts.push(`${missed} target(s) not met on this run.`);
  return parts.join('\n\n');
}

/** docs/benchmarks.md: the whole run and where it ran. */
export function benchmarksPage(machine: Machine, run: string): string {
  return [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench` (bench/index.ts): run it again rather than editing this file. -->',
    '',
    '`npm run bench` builds the package and measures `dist/` side by side with the peer a user would otherwise pick, each case in a fresh process.',
    '',
    `Measured on: ${describeMachine(machine)}.`,
    '',
    run,
    '',
  ].join('\n');
}

export const README_START = '<!-- bench:start -->';
export const README_END = '<!-- bench:end -->';

/**
 * `text` with what lies between the bench markers replaced by `block`; undefined when the markers
 * are absent or out of order, so that a README without them is left alone.
 */
export function replaceBetweenMarkers(text: string, block: string): string | undefined {
  const start = text.indexOf(README_START);
  const end = start < 0 ? -1 : text.indexOf(README_END, start + README_START.length);
  if (start < 0 || end < 0) return undefined;
  return `${text.slice(0, start + README_START.length)}\n${block}\n${text.slice(end)}`;
}
