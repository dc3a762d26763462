/**
 * The otel tracer loads the OpenTelemetry SDK only on the path that needs it: `exporter` loads
 * sdk-trace and resources, `logExporter` sdk-logs, and `{ type: 'otel' }` alone neither
 * (test/package/import-cost.test.ts checks that one and the main entry's other paths).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const EXPORTER = '{ export(items, done) { done({ code: 0 }); }, shutdown() { return Promise.resolve(); } }';

/** The @opentelemetry modules a fresh process asks for, importing (`esm`) or requiring the built package. */
function requested(tracer: string, how: 'esm' | 'cjs' = 'esm'): string[] {
  const load =
    how === 'esm'
      ? `await import(${JSON.stringify(`${root}dist/index.js`)})`
      : `(await import('node:module')).createRequire(import.meta.url)(${JSON.stringify(`${root}dist/index.cjs`)})`;
  const script = `
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({ resolve(specifier, context, next) { seen.add(specifier); return next(specifier, context); } });
    const { createTelemetry } = ${load};
    const telemetry = createTelemetry({ tracers: [${tracer}] });
    telemetry.emit('auth.failed', { remoteIp: '192.0.2.7' });
    await telemetry.shutdown();
    console.log(JSON.stringify([...seen].filter((s) => s.startsWith('@opentelemetry/')).sort()));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
}

describe('the otel tracer’s import cost', () => {
  it('the built package exists', () => {
    expect(existsSync(`${root}dist/index.js`), 'run `npm run build` first').toBe(true);
  });

  it('an exporter loads sdk-trace and resources, not sdk-logs', () => {
    const seen = requested(`{ type: 'otel', exporter: ${EXPORTER} }`);
    expect(seen).toContain('@opentelemetry/sdk-trace');
    expect(seen).not.toContain('@opentelemetry/sdk-trace-base');
    expect(seen).toContain('@opentelemetry/resources');
    expect(seen).not.toContain('@opentelemetry/sdk-logs');
  });

  it('a log exporter loads sdk-logs, also through require()', () => {
    for (const how of ['esm', 'cjs'] as const) {
      const seen = requested(`{ type: 'otel', logExporter: ${EXPORTER} }`, how);
      expect(seen, how).toContain('@opentelemetry/sdk-logs');
      expect(seen, how).not.toContain('@opentelemetry/sdk-trace');
    }
  });
});
