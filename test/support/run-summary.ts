/**
 * The closing lines of `npm test`, read from vitest's JSON report (.vitest/results.json): one line
 * naming the tests skipped for a missing system program and the command that installs it, then the
 * plain `N passed, N failed[, N skipped]` line CI reads.
 */
import { relative } from 'node:path';
import { installCommand, NEEDS_PROGRAM_META, PROGRAM_MISSING_META, PROGRAMS, type ProgramName } from './programs.js';

/** The part of vitest's JSON report these lines read. */
export interface JsonReport {
  readonly testResults: readonly {
    /** The test file's absolute path. */
    readonly name: string;
    readonly status: string;
    readonly assertionResults: readonly {
      readonly status: string;
      readonly meta?: Readonly<Record<string, unknown>>;
    }[];
  }[];
}

export interface RunCounts {
  readonly passed: number;
  /** Failed tests, plus test files that failed outside any test (an import error, a failing hook). */
  readonly failed: number;
  /** Skipped, todo and never-run tests. */
  readonly skipped: number;
}

export function countResults(report: JsonReport): RunCounts {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const file of report.testResults) {
    let failedHere = 0;
    for (const test of file.assertionResults) {
      if (test.status === 'passed') passed++;
      else if (test.status === 'failed') failedHere++;
      else skipped++;
    }
    failed += file.status === 'failed' && failedHere === 0 ? 1 : failedHere;
  }
  return { passed, failed, skipped };
}

/** `N passed, N failed`, with `, N skipped` when any. */
export function closingLine(counts: RunCounts): string {
  return `${counts.passed} passed, ${counts.failed} failed${counts.skipped > 0 ? `, ${counts.skipped} skipped` : ''}`;
}

function isProgramName(value: unknown): value is ProgramName {
  return typeof value === 'string' && Object.hasOwn(PROGRAMS, value);
}

/**
 * One line naming the tests that ran without their program (skipped, or failed under CI), their
 * files and the command that installs it; undefined when there were none.
 */
export function missingProgramsLine(report: JsonReport, root: string = process.cwd()): string | undefined {
  const files = new Map<ProgramName, Set<string>>();
  let skipped = 0;
  let failed = 0;
  for (const file of report.testResults) {
    for (const test of file.assertionResults) {
      const program = test.meta?.[NEEDS_PROGRAM_META];
      if (test.meta?.[PROGRAM_MISSING_META] !== true || !isProgramName(program)) continue;
      if (test.status === 'failed') failed++;
      else if (test.status !== 'passed') skipped++;
      else continue;
      const set = files.get(program) ?? new Set<string>();
      set.add(relative(root, file.name));
      files.set(program, set);
    }
  }
  if (files.size === 0) return undefined;
  const tests = (n: number) => `${n} test${n === 1 ? '' : 's'}`;
  const counts = [skipped > 0 ? `${tests(skipped)} skipped` : '', failed > 0 ? `${tests(failed)} failed (CI is set)` : ''];
  const programs = [...files.keys()].sort();
  const which = programs.map((p) => `${p} (${[...(files.get(p) ?? [])].sort().join(', ')})`).join('; ');
  return `${counts.filter(Boolean).join(', ')} because a program is not on PATH: ${which}. Install with \`${installCommand(programs)}\` as root, or run \`npm test\` as root`;
}
