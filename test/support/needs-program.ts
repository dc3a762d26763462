/**
 * Tests that drive a system program (promtool, Alertmanager, Chromium, fail2ban-regex) declare it
 * here. Found on PATH: they run. Missing: they are skipped, marked with the program in their `meta`
 * so that `npm test` closes with one line naming what was skipped and how to install it. With
 * `CI` set, nothing is skipped: each such test fails with that install message instead (and the
 * closing line names them as failed).
 */
import { beforeEach, type TestFunction, describe as vitestDescribe, it as vitestIt } from 'vitest';
import { findProgram, isCi, missingMessage, NEEDS_PROGRAM_META, PROGRAM_MISSING_META, type ProgramName } from './programs.js';

declare module 'vitest' {
  interface TaskMeta {
    /** The system program this test needs (see test/support/programs.ts). */
    needsProgram?: ProgramName;
    /** True when that program was not found: the test was skipped, or failed under CI. */
    programMissing?: boolean;
  }
}

export interface ProgramNeed {
  /** The program's absolute path on PATH; '' when it is missing. */
  readonly path: string;
  readonly found: boolean;
  /** A `describe` whose tests run when the program is found, are skipped when not, and fail on CI. */
  readonly describe: (name: string, factory: () => void) => void;
  /** An `it` that runs when the program is found, is skipped when not, and fails on CI. */
  readonly it: (name: string, fn: TestFunction, timeout?: number) => void;
}

/** Looks `program` up on PATH once, for a test file. */
export function needsProgram(program: ProgramName): ProgramNeed {
  const path = findProgram(program) ?? '';
  const found = path !== '';
  const meta = found ? { [NEEDS_PROGRAM_META]: program } : { [NEEDS_PROGRAM_META]: program, [PROGRAM_MISSING_META]: true };
  const failOnCi = !found && isCi();
  const fail = (): never => {
    throw new Error(missingMessage(program));
  };
  return {
    path,
    found,
    describe(name, factory) {
      if (!failOnCi) {
        vitestDescribe(name, { meta, skip: !found }, factory);
        return;
      }
      vitestDescribe(name, { meta }, () => {
        beforeEach(fail);
        factory();
      });
    },
    it(name, fn, timeout) {
      const options = timeout === undefined ? { meta } : { meta, timeout };
      if (failOnCi) vitestIt(name, options, fail);
      else vitestIt(name, { ...options, skip: !found }, fn);
    },
  };
}
