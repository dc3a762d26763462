/**
 * The main entry loads ky and the OpenTelemetry API only when a feature needs them: an instance
 * with no webhook, alert action or otel tracer resolves neither (a resolve hook in a fresh process
 * lists every module the import asks for). Node's heavier built-ins (crypto, zlib, the file
 * system's promises and streams, the public util module) load with the feature that uses them,
 * not with the import. Every built module is Latin-1 text, so V8 keeps its source (held for the
 * life of the process) at one byte a character, not two.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function requested(setup: string): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({ resolve(specifier, context, next) { seen.add(specifier); return next(specifier, context); } });
    const { createTelemetry } = await import(${JSON.stringify(`${root}dist/index.js`)});
    const telemetry = createTelemetry(${setup});
    telemetry.emit('auth.failed', { remoteIp: '192.0.2.7' });
    await telemetry.shutdown();
    console.log(JSON.stringify([...seen].filter((s) => s === 'ky' || s.startsWith('@opentelemetry/'))));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
}

/** Node's built-in modules loaded by `run` in a fresh process, as `process.moduleLoadList` names them. */
function builtinsLoaded(run: string): string[] {
  const script = `
    const before = new Set(process.moduleLoadList);
    const { createTelemetry } = await import(${JSON.stringify(`${root}dist/index.js`)});
    ${run}
    console.log(JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')).map((m) => m.slice(13))));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
}

const HEAVY = ['crypto', 'zlib', 'fs/promises', 'util', 'worker_threads', 'module'];

describe('import cost', () => {
  it('the built package exists', () => {
    expect(existsSync(`${root}dist/index.js`), 'run `npm run build` first').toBe(true);
  });

  it('history, live, dashboard and a console tracer load neither ky nor the OpenTelemetry API', () => {
    expect(
      requested(
        "{ history: {}, live: { tokenKey: 'k'.repeat(32) }, tracers: [{ type: 'console', stream: 'stdout', level: 'error' }] }",
      ),
    ).toEqual([]);
  });

  it('an otel tracer loads the OpenTelemetry API when it is made', () => {
    expect(requested("{ tracers: [{ type: 'otel' }] }")).toEqual(['@opentelemetry/api']);
  });

  it('importing the main entry and making a default instance load none of the heavier built-ins', () => {
    const loaded = builtinsLoaded(`
      const telemetry = createTelemetry();
      telemetry.emit('auth.failed', { remoteIp: '192.0.2.7' });
      await telemetry.flush();
      await telemetry.shutdown();
    `);
    expect(loaded.filter((m) => HEAVY.includes(m))).toEqual([]);
  });

  it('every built module is Latin-1, so its source takes one byte a character in the heap', () => {
    const wide: string[] = [];
    for (const file of readdirSync(`${root}dist`, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.js') && !file.endsWith('.cjs')) continue;
      const text = readFileSync(`${root}dist/${file}`, 'utf8');
      // A character above U+00FF anywhere, a comment included, makes V8 store the whole source two-byte.
      const at = text.search(/[^\t\n\r\u0020-\u00ff]/u);
      if (at >= 0) wide.push(`${file}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 1))}`);
    }
    expect(wide, 'write comments in ASCII (-> for an arrow, ... for an ellipsis)').toEqual([]);
  });

  it('a feature that needs one loads it when it runs: a live token loads crypto', () => {
    const loaded = builtinsLoaded(`
      const telemetry = createTelemetry({ live: { tokenKey: 'k'.repeat(32) } });
      const token = telemetry.live.issueToken({ scope: 'tracing' });
      if (!token.startsWith('mtl1.')) throw new Error('no token');
      await telemetry.shutdown();
    `);
    expect(loaded).toContain('crypto');
  });
});
