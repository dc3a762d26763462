/**
 * `npm run bench`: each comparison and each figure runs in a fresh child process, so one case's JIT
 * feedback and heap do not skew the next. Every `bench/*.bench.ts` file may export `comparisons`
 * (ours against a peer, side by side) and `figures` (measured values with a limit). Prints
 * Markdown tables. `npx tsx bench/index.ts <name>` runs one alone and prints its JSON.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Comparison, compare, type Figure, figureMet, printFigures, printTable, type Result } from './harness.js';

interface BenchModule {
  readonly comparisons?: Record<string, () => Comparison>;
  readonly figures?: Record<string, () => Promise<Figure>>;
}

const self = fileURLToPath(import.meta.url);
const files = readdirSync(dirname(self))
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();
const comparisons: Record<string, () => Comparison> = {};
const figures: Record<string, () => Promise<Figure>> = {};
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
  const result = JSON.stringify(
    comparison === undefined ? await (figure as () => Promise<Figure>)() : await compare(comparison()),
  );
  if (process.env.BENCH_RESULT !== undefined) writeFileSync(process.env.BENCH_RESULT, result);
  else process.stdout.write(`${result}\n`);
} else {
  console.log(`node ${process.version}, ${process.arch}; median of ${process.env.BENCH_RUNS ?? 9} runs each\n`);
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
  const results = Object.keys(comparisons).map((name) => run<Result>(name));
  const measured = Object.keys(figures).map((name) => run<Figure>(name));
  rmSync(dir, { recursive: true });
  printTable(results);
  if (measured.length > 0) {
    console.log('');
    printFigures(measured);
  }
  const notes = [...results, ...measured].flatMap((r) => (r.note === undefined ? [] : [`${r.title}: ${r.note}`]));
  if (notes.length > 0) console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`);
  const missed = results.filter((r) => r.speedup < r.target).length + measured.filter((f) => !figureMet(f)).length;
  if (missed > 0) console.log(`\n${missed} target(s) not met on this run.`);
}
