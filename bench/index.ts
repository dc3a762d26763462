/**
 * `npm run bench`: each comparison runs in a fresh child process, ours and the peer alternating in
 * that process, so one case's JIT feedback does not skew the next. Prints a Markdown table.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { subscribedEmit, unwantedEmit } from './emit.bench.js';
import { type Comparison, compare, printTable, type Result } from './harness.js';
import { catalogueScrape, counterInc, histogramObserve, labelledCounterInc, labelledScrape } from './metrics.bench.js';
import { otelSpans } from './otel.bench.js';
import { jsonSink, textSink } from './tracing.bench.js';

const comparisons: Record<string, () => Comparison> = {
  'emit-unwanted': unwantedEmit,
  'emit-subscribed': subscribedEmit,
  'metrics-counter': counterInc,
  'metrics-labelled-counter': labelledCounterInc,
  'metrics-histogram': histogramObserve,
  'metrics-scrape-catalogue': catalogueScrape,
  'metrics-scrape-10k-series': labelledScrape,
  'tracing-json': jsonSink,
  'tracing-text': textSink,
  'tracing-otel': otelSpans,
};

const only = process.argv[2];
if (only !== undefined) {
  const make = comparisons[only];
  if (make === undefined) throw new Error(`unknown comparison ${only}; known: ${Object.keys(comparisons).join(', ')}`);
  // The result goes to a file: stdout is /dev/null, where the tracing benches write their lines.
  const result = JSON.stringify(await compare(make()));
  if (process.env.BENCH_RESULT !== undefined) writeFileSync(process.env.BENCH_RESULT, result);
  else process.stdout.write(result);
} else {
  console.log(`node ${process.version}, ${process.arch}; median of ${process.env.BENCH_RUNS ?? 9} runs each\n`);
  const self = fileURLToPath(import.meta.url);
  const dir = mkdtempSync(join(tmpdir(), 'mail-telemetry-bench-'));
  const devNull = openSync('/dev/null', 'w');
  const results: Result[] = Object.keys(comparisons).map((name) => {
    const file = join(dir, `${name}.json`);
    execFileSync(process.execPath, [...process.execArgv, self, name], {
      stdio: ['ignore', devNull, 'inherit'],
      env: { ...process.env, BENCH_RESULT: file },
    });
    return JSON.parse(readFileSync(file, 'utf8')) as Result;
  });
  rmSync(dir, { recursive: true });
  printTable(results);
  const notes = results.flatMap((r) => (r.note === undefined ? [] : [r.note]));
  if (notes.length > 0) console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`);
  const missed = results.filter((r) => r.speedup < r.target);
  if (missed.length > 0) console.log(`\n${missed.length} target(s) not met on this run.`);
}
