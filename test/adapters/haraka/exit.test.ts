import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const tsx = fileURLToPath(new URL('../../../node_modules/tsx/dist/cli.mjs', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/exit.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'haraka-exit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(mode: string) {
  const file = join(dir, `${mode}.txt`);
  const result = spawnSync(process.execPath, [tsx, fixture, mode, file], { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, signal: result.signal, flushed: existsSync(file) && readFileSync(file, 'utf8') === 'flushed' };
}

describe('flushBeforeExit: the exit waits for one last flush', () => {
  it('flushes, then exits with the code process.exit was given', () => {
    expect(run('exit')).toEqual({ status: 3, signal: null, flushed: true });
  });

  it('exits all the same when the flush throws at once, or hangs past its timeout', () => {
    expect(run('throwing')).toMatchObject({ status: 4, signal: null });
    expect(run('hanging')).toMatchObject({ status: 5, signal: null });
  });

  it('exits at once on a second process.exit', () => {
    expect(run('twice')).toEqual({ status: 7, signal: null, flushed: false });
  });

  it('flushes on a SIGTERM nobody handles, then dies of it', () => {
    const result = run('sigterm');
    expect(result.flushed).toBe(true);
    // tsx runs the script in a child and reports its death by SIGTERM as 128 + 15.
    expect(result.signal === 'SIGTERM' || result.status === 143, JSON.stringify(result)).toBe(true);
  });
});
