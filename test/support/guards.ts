import { afterAll, beforeAll, expect } from 'vitest';
import { TelemetryConfigError } from '../../src/base/errors.js';

/**
 * Collects every unhandled rejection while the calling test file runs: a test asserts the list
 * stays empty. Call it once at the top level of the file.
 */
export function collectUnhandled(): unknown[] {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });
  return unhandled;
}

/** Lets pending promise jobs and I/O callbacks run, so that a late write would happen (and fail) now. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Polls `check` every 5 ms until it holds or `ms` pass; returns its last answer. */
export async function until(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return check();
}

/** The error `fn` throws, which must be a TelemetryConfigError. */
export function thrown(fn: () => unknown): TelemetryConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TelemetryConfigError);
    return error as TelemetryConfigError;
  }
  throw new Error('expected a TelemetryConfigError');
}
