/**
 * `npm run bench:import`: the cost of importing the package's main entry (built `dist/`), against
 * pino, each in fresh Node processes: wall time of the `import()` and the RSS it adds, median of 9.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 9;
const probe = `
  const rss = process.memoryUsage().rss;
  const start = performance.now();
  await import(process.argv[1]);
  const ms = performance.now() - start;
  console.log(JSON.stringify({ ms, mib: (process.memoryUsage().rss - rss) / 2 ** 20 }));
`;

function measure(target: string): { ms: number; mib: number } {
  const runs: { ms: number; mib: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe, target], { encoding: 'utf8' });
    runs.push(JSON.parse(out) as { ms: number; mib: number });
  }
  return { ms: median(runs.map((r) => r.ms)), mib: median(runs.map((r) => r.mib)) };
}

if (!existsSync(`${root}dist/index.js`)) throw new Error('dist/ is missing: run `npm run build` first');
const ours = measure(`${root}dist/index.js`);
const pino = measure(`${root}node_modules/pino/pino.js`);
console.log('| import | time (ms) | RSS added (MiB) |');
console.log('| --- | ---: | ---: |');
console.log(`| \`import('mail-telemetry')\` | ${ours.ms.toFixed(1)} | ${ours.mib.toFixed(1)} |`);
console.log(`| \`import('pino')\` | ${pino.ms.toFixed(1)} | ${pino.mib.toFixed(1)} |`);
console.log(`\nNode ${process.version}, median of ${RUNS} fresh processes each.`);
