import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

/** Runs an example as a user would (`npx tsx examples/frameworks/<file>`); rejects on a non-zero exit. */
async function run(example: string, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [tsx, `examples/frameworks/${example}`, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return stdout;
}

describe('the framework recipes run as written, check every route once and exit 0', () => {
  it.each([
    ['node-http.ts', [], 'node:http'],
    ['express.ts', [], 'express'],
    ['express.ts', ['--compression'], 'express + compression()'],
    ['fastify.ts', [], 'fastify (hijack)'],
    ['fastify.ts', ['--sync'], 'fastify (sync)'],
    ['hono.ts', [], 'hono (fetch)'],
    ['hono.ts', ['--node'], 'hono (node)'],
  ])('%s %j', async (example, args, name) => {
    const out = await run(example, ...args);
    expect(out).toContain('GET /telemetry/live/tracing → trace auth.success');
    expect(out).toContain('mail_auth_success_total 1');
    expect(out).toContain('GET /telemetry/history/telemetry/events → 200, 1 event(s)');
    expect(out).toContain('GET /telemetry/dashboard → 200 text/html; charset=utf-8');
    expect(out).toContain('GET /telemetry/nothing-here → 404');
    expect(out).toContain('GET /elsewhere → 404');
    expect(out).toContain(`${name}: all routes answered`);
    expect(out).not.toContain('an example key');
  });
});

describe('a recipe with --serve', () => {
  it('stays up serving the dashboard at the URL it prints, and ends cleanly on SIGINT', async () => {
    const child = spawn(process.execPath, [tsx, 'examples/frameworks/express.ts', '--serve'], { cwd: root });
    try {
      let out = '';
      child.stdout.setEncoding('utf8');
      const opened = new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          out += chunk;
          const url = /open (http:\/\/127\.0\.0\.1:\d+\/telemetry\/dashboard)#token=/.exec(out)?.[1];
          if (url !== undefined) resolve(url);
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
      });
      const url = await opened;
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<!doctype html>');
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      expect(await exited).toEqual([0, null]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
