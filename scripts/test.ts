/**
 * `npm test`: typecheck, lint, the vitest suite, the API docs and the package checks, every step
 * run even when an earlier one fails so that one run reports everything. Closes with one line per
 * failed step, one line naming the tests skipped for a missing system program (and how to install
 * it), and the plain `N passed, N failed[, N skipped]` line. Exits non-zero when any step failed.
 *
 * `tsx scripts/test.ts --unit [vitest args]` (`npm run test:unit`) runs the vitest step alone;
 * without --unit, arguments go to vitest too (`npm test -- test/metrics`).
 * The `pretest` provisioning (scripts/provision.ts) has installed what it could before this runs.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { closingLine, countResults, type JsonReport, missingProgramsLine } from '../test/support/run-summary.js';

// Written by the json reporter of vitest.config.ts.
const REPORT = '.vitest/results.json';

interface Step {
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
}

const argv = process.argv.slice(2);
const unitOnly = argv[0] === '--unit';
const vitestArgs = unitOnly ? argv.slice(1) : argv;
const vitest: Step = { label: 'vitest run', command: 'vitest', args: ['run', ...vitestArgs] };
const npmRun = (script: string): Step => ({ label: `npm run ${script}`, command: 'npm', args: ['run', script] });
const steps: readonly Step[] = unitOnly
  ? [vitest]
  : [npmRun('typecheck'), npmRun('lint'), vitest, npmRun('docs'), npmRun('package-check')];

rmSync(REPORT, { force: true });
const failedSteps: string[] = [];
for (const step of steps) {
  const result = spawnSync(step.command, step.args, { stdio: 'inherit' });
  if (result.error !== undefined) failedSteps.push(`${step.label} (${result.error.message})`);
  else if (result.status !== 0) failedSteps.push(`${step.label} (${result.signal ?? `exit ${result.status}`})`);
}

let report: JsonReport | undefined;
try {
  report = JSON.parse(readFileSync(REPORT, 'utf8')) as JsonReport;
} catch {
  // vitest wrote no report: it did not start, or crashed; its step failed and says so.
}

console.log('');
for (const step of failedSteps) console.log(`failed: ${step}`);
const missing = report === undefined ? undefined : missingProgramsLine(report);
if (missing !== undefined) console.log(missing);
console.log(closingLine(report === undefined ? { passed: 0, failed: 0, skipped: 0 } : countResults(report)));
process.exitCode = failedSteps.length > 0 ? 1 : 0;
