/**
 * `npm run bench`: each comparison runs in a fresh child process, ours and the peer alternating in
 * that process, so one case's JIT feedback does not skew the next. Prints a Markdown table.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { subscribedEmit, unwantedEmit } from './emit.bench.js';
import { type Comparison, compare, printTable, type Result } from './harness.js';
import { catalogueScrape, counterInc, histogramObserve, labelledCounterInc, labelledScrape } from './metrics.bench.js';

const comparisons: Record<string, () => Comparison> = {
  'emit-unwanted': unwantedEmit,
  'emit-subscribed': subscribedEmit,
  'metrics-counter': counterInc,
  'metrics-labelled-counter': labelledCounterInc,
  'metrics-histogram': histogramObserve,
  'metrics-scrape-catalogue': catalogueScrape,
  'metrics-scrape-10k-series': labelledScrape,
};

const only = process.argv[2];
if (only !== undefined) {
  const make = comparisons[only];
  if (make === undefined) throw new Error(`unknown comparison ${only}; known: ${Object.keys(comparisons).join(', ')}`);
  process.stdout.write(JSON.stringify(await compare(make())));
} else {
  console.log(`node ${process.version}, ${process.arch}; median of ${process.env.BENCH_RUNS ?? 9} runs each\n`);
  const self = fileURLToPath(import.meta.url);
  const results: Result[] = Object.keys(comparisons).map((name) =>
    JSON.parse(execFileSync(process.execPath, [...process.execArgv, self, name], { encoding: 'utf8' })),
  );
  printTable(results);
  const notes = results.flatMap((r) => (r.note === undefined ? [] : [r.note]));
  if (notes.length > 0) console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`);
  const missed = results.filter((r) => r.speedup < r.target);
  if (missed.length > 0) console.log(`\n${missed.length} target(s) not met on this run.`);
}
