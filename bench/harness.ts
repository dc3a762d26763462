/** A tiny side-by-side benchmark harness: median ns/op over repeated timed runs, printed as ratios. */

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

async function timeRun(c: Case, iterations: number): Promise<number> {
  const start = process.hrtime.bigint();
  await c.run(iterations);
  return Number(process.hrtime.bigint() - start) / iterations;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
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

/** Prints results as a Markdown table, ready for the README. */
export function printTable(results: readonly Result[]): void {
  const ns = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));
  console.log('| benchmark | mail-telemetry | peer | ns/op (ours) | ns/op (peer) | speed-up | target | met |');
  console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | :---: |');
  for (const r of results) {
    const met = r.target === 0 ? '—' : r.speedup >= r.target ? 'yes' : 'no';
    console.log(
      `| ${r.title} | \`${r.ours}\` | \`${r.peer}\` | ${ns(r.oursNs)} | ${ns(r.peerNs)} | ${r.speedup.toFixed(2)}× | ${r.target === 0 ? 'reported' : `≥${r.target}×`} | ${met} |`,
    );
  }
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

/** Prints figures as a Markdown table, ready for the README. */
export function printFigures(figures: readonly Figure[]): void {
  const fmt = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3));
  console.log('| figure | value | limit | met |');
  console.log('| --- | ---: | ---: | :---: |');
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
    console.log(
      `| ${f.title} | ${fmt(f.value)} ${f.unit} | ${limit} | ${f.limit === undefined ? '—' : figureMet(f) ? 'yes' : 'no'} |`,
    );
  }
}
