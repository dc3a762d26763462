/**
 * `npm run bench`: each comparison and each figure runs in a fresh child process, so one case's JIT
 * feedback and heap do not skew the next. Every `bench/*.bench.ts` file may export `comparisons`
 * (ours against a peer, side by side) and `figures` (measured values with a limit). Prints
 * Markdown tables with the machine, Node version and date, writes them to docs/benchmarks.md and
 * replaces the README's table between its `<!-- bench:start -->` and `<!-- bench:end -->` markers.
 * `npx tsx bench/index.ts <name>` runs one alone and prints its JSON (and writes nothing).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  benchmarksPage,
  type Comparison,
  compare,
  describeMachine,
  type Figure,
  formatFigures,
  formatRun,
  formatTable,
  type Machine,
  medianResult,
  PROCESSES,
  README_END,
  README_START,
  type Result,
  replaceBetweenMarkers,
  thisMachine,
} from './harness.js';

/** A figure, or several measured in one run (a store's insert rate and its query times over one fill). */
type FigureRun = () => Promise<Figure | readonly Figure[]>;

interface BenchModule {
  readonly comparisons?: Record<string, () => Comparison>;
  readonly figures?: Record<string, FigureRun>;
}

const self = fileURLToPath(import.meta.url);
const files = readdirSync(dirname(self))
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();
const comparisons: Record<string, () => Comparison> = {};
const figures: Record<string, FigureRun> = {};
for (const file of files) {
  const module = (await import(pathToFileURL(join(dirname(self), file)).href)) as BenchModule;
  Object.assign(comparisons, module.comparisons);
  Object.assign(figures, module.figures);
}

const only = process.argv[2];
if (only !== undefined) {
  const comparison = comparisons[only];
  const figure = figures[only];
  if (comparison === undefined && figure === undefined) {
    throw new Error(`unknown benchmark ${only}; known: ${[...Object.keys(comparisons), ...Object.keys(figures)].join(', ')}`);
  }
  // The result goes to a file: stdout is /dev/null, where the tracing benches write their lines.
  const result = JSON.stringify(comparison === undefined ? await (figure as FigureRun)() : await compare(comparison()));
  if (process.env.BENCH_RESULT !== undefined) writeFileSync(process.env.BENCH_RESULT, result);
  else process.stdout.write(`${result}\n`);
} else {
  console.log(`${describeMachine(thisMachine())}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'mail-telemetry-bench-'));
  const devNull = openSync('/dev/null', 'w');
  const run = <T>(name: string): T => {
    const file = join(dir, `${name}.json`);
    execFileSync(process.execPath, [...process.execArgv, '--expose-gc', self, name], {
      stdio: ['ignore', devNull, 'inherit'],
      env: { ...process.env, BENCH_RESULT: file },
    });
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  };
  const results = Object.keys(comparisons).map((name) =>
    medianResult(Array.from({ length: PROCESSES }, () => run<Result>(name))),
  );
  const measured = Object.keys(figures).flatMap((name) => run<Figure | Figure[]>(name));
  rmSync(dir, { recursive: true });
  const machine = thisMachine();
  const report = formatRun(results, measured);
  console.log(report);
  writeReport(machine, report, results, measured);
}

/** Writes docs/benchmarks.md, and the README's table between its bench markers when it has them. */
function writeReport(machine: Machine, run: string, results: readonly Result[], measured: readonly Figure[]): void {
  const root = join(dirname(self), '..');
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(join(root, 'docs', 'benchmarks.md'), benchmarksPage(machine, run));
  console.log('\nwrote docs/benchmarks.md');
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const tables = [formatTable(results), ...(measured.length > 0 ? [formatFigures(measured)] : [])];
  const block = [...tables, `Measured on: ${describeMachine(machine)}. Notes: [docs/benchmarks.md](docs/benchmarks.md).`];
  const updated = replaceBetweenMarkers(readme, block.join('\n\n'));
  if (updated === undefined) console.log(`README.md has no ${README_START} … ${README_END} markers: left as it is`);
  else if (updated !== readme) {
    writeFileSync(readmePath, updated);
    console.log('updated the README between its bench markers');
  }
}
