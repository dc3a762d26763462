/**
 * `logExporter` without `@opentelemetry/sdk-logs` installed (an optional peer): `createTelemetry`
 * throws a configuration error naming the option and what to install, from ESM and from CommonJS.
 * The built package is laid out in a temporary node_modules where sdk-logs really is absent: dist/
 * copied into node_modules/mail-telemetry (so that lookups start there, not in this repository),
 * and its runtime dependencies linked beside it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
const host = mkdtempSync(join(tmpdir(), 'mail-telemetry-no-sdk-logs-'));
afterAll(() => rmSync(host, { recursive: true, force: true }));

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('run `npm run build` first');
  const modules = join(host, 'node_modules');
  const own = join(modules, 'mail-telemetry');
  mkdirSync(own, { recursive: true });
  cpSync(join(root, 'dist'), join(own, 'dist'), { recursive: true });
  cpSync(join(root, 'package.json'), join(own, 'package.json'));
  // The runtime dependencies and the API peer: the host's own, everything but sdk-logs.
  for (const name of [...Object.keys(manifest.dependencies), '@opentelemetry/api']) {
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), join(modules, name), 'dir');
  }
  writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'host', private: true }));
});

const EXPORTER = '{ export(records, done) { done({ code: 0 }); }, shutdown() { return Promise.resolve(); } }';
const CREATE = `createTelemetry({ tracers: [{ type: 'otel', logExporter: ${EXPORTER} }] })`;
const REPORT = `(error) => console.log(JSON.stringify({ name: error.name, path: error.path, message: error.message }))`;

function attempt(how: 'esm' | 'cjs'): { name: string; path: string; message: string } {
  const script =
    how === 'esm'
      ? `import { createTelemetry } from 'mail-telemetry'; try { ${CREATE}; console.log('{}'); } catch (error) { (${REPORT})(error); }`
      : `const { createTelemetry } = require('mail-telemetry'); try { ${CREATE}; console.log('{}'); } catch (error) { (${REPORT})(error); }`;
  const args = how === 'esm' ? ['--input-type=module', '-e', script] : ['-e', script];
  return JSON.parse(execFileSync(process.execPath, args, { cwd: host, encoding: 'utf8' }));
}

describe('a logExporter without @opentelemetry/sdk-logs installed', () => {
  it('is really absent from the laid-out host', () => {
    expect(() =>
      execFileSync(process.execPath, ['-e', "require.resolve('@opentelemetry/sdk-logs')"], { cwd: host, stdio: 'pipe' }),
    ).toThrow(/Cannot find module '@opentelemetry\/sdk-logs'/);
  });

  it.each(['esm', 'cjs'] as const)('is a configuration error naming the option and what to install (%s)', (how) => {
    const error = attempt(how);
    expect(error.name).toBe('TelemetryConfigError');
    expect(error.path).toBe('options.tracers[0].logExporter');
    expect(error.message).toContain(
      'options.tracers[0].logExporter: expected a LogRecordExporter with @opentelemetry/sdk-logs installed',
    );
    // The install hint is the package's own peer range, and Node's reason follows it.
    expect(error.message).toContain(
      `npm install @opentelemetry/sdk-logs@"${manifest.peerDependencies['@opentelemetry/sdk-logs']}"`,
    );
    expect(error.message).toMatch(/Cannot find module '@opentelemetry\/sdk-logs'/);
  });
});
