import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the built package', () => {
  it('has been built (npm test builds it first)', () => {
    expect(existsSync(`${root}/dist/index.js`), 'run `npm run build` first').toBe(true);
    expect(existsSync(`${root}/dist/index.d.ts`)).toBe(true);
  });

  it('loads with require() from CommonJS and works', () => {
    const out = execFileSync(process.execPath, [fileURLToPath(new URL('./fixtures/require.cjs', import.meta.url))], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({
      createTelemetry: 'function',
      defineEvents: 'function',
      delivered: ['smtp.ehlo'],
      count: 1,
    });
  });

  it('loads with import from ESM', () => {
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', "import('mail-telemetry').then((m) => console.log(typeof m.createTelemetry))"],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(out.trim()).toBe('function');
  });
});
