import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { packageEntries } from '../../scripts/package-entries.js';

// TypeScript and JavaScript hosts of the built package, one small project per TypeScript setting
// (test/package/fixtures/ts-hosts/<setting>/: a package.json that makes its files CommonJS or ES
// modules, and a tsconfig.json). Each project is copied to a temporary folder whose
// node_modules/mail-telemetry links to this repository, as an installed package would be, then
// type-checked with the repository's own tsc (skipLibCheck off, so that the package's declarations
// are checked too) and, where it emits, run with node. The projects' sources are the shared
// host.ts and host-require.cts, and entries.ts, written here with an import of every entry of the
// exports map. host.ts and host-require.cts are also in the repository's own typecheck, which
// resolves the package by its own name: as an ES module and as a CommonJS module under nodenext.
// npm test builds the package first (in its typecheck step).
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(root, 'test', 'package', 'fixtures', 'ts-hosts');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const entries = packageEntries(root);
const TSC_TIMEOUT_MS = 120_000;

const temporary = mkdtempSync(join(tmpdir(), 'mail-telemetry-ts-hosts-'));
afterAll(() => rmSync(temporary, { recursive: true, force: true }));

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly output: string;
}

function run(args: readonly string[], cwd: string): Run {
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: TSC_TIMEOUT_MS });
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

interface Project {
  readonly name: string;
  readonly dir: string;
  readonly files: readonly string[];
  readonly emits: boolean;
}

/** entries.ts: an import of every entry, and a run-time line of what each one loaded as. */
function entriesSource(): string {
  const lines = [
    '// Written by test/package/typescript-hosts.test.ts: every entry of the exports map.',
    ...entries.map((entry, i) => `import * as entry${i} from '${entry.specifier}';`),
  ];
  const loaded = entries.map((entry, i) => `'${entry.specifier}': typeof entry${i}`).join(', ');
  lines.push(`console.log(JSON.stringify({ ${loaded} }));`, '');
  return lines.join('\n');
}

/** A copy of a fixture project in the temporary folder, with the package linked in as installed. */
function setUp(name: string, extraFiles: Readonly<Record<string, string>> = {}): Project {
  const dir = join(temporary, name);
  cpSync(join(fixtures, name), dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')) as {
    compilerOptions: { noEmit?: boolean };
    files: string[];
  };
  for (const file of config.files) {
    if (file === 'entries.ts') writeFileSync(join(dir, file), entriesSource());
    else if (extraFiles[file] !== undefined) cpSync(extraFiles[file], join(dir, file));
    else if (!existsSync(join(dir, file))) cpSync(join(fixtures, file), join(dir, file));
  }
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'mail-telemetry'), 'dir');
  symlinkSync(join(root, 'node_modules', '@types'), join(dir, 'node_modules', '@types'), 'dir');
  return { name, dir, files: config.files, emits: config.compilerOptions.noEmit !== true };
}

/** tsc's errors as `file(line,col): error TSnnnn: message` lines. */
function typeCheck(project: Project): Run {
  return run([tsc, '-p', project.dir, '--pretty', 'false'], project.dir);
}

const hostProjects = readdirSync(fixtures, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== 'jsdoc')
  .map((entry) => entry.name)
  .sort();

describe('the CommonJS entries of the built package', () => {
  it('has been built (npm test builds it first)', () => {
    for (const entry of entries) {
      expect(existsSync(join(root, entry.cjs.js)), `${entry.cjs.js} is missing: run \`npm run build\` first`).toBe(true);
      expect(existsSync(join(root, entry.cjs.types)), `${entry.cjs.types} is missing: run \`npm run build\` first`).toBe(true);
    }
  });

  it('covers every entry of the exports map, the Haraka plugin and the cluster scrape included', () => {
    const exportsMap = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> })
      .exports;
    expect(entries.map((entry) => entry.subpath)).toEqual(Object.keys(exportsMap).filter((key) => key !== './package.json'));
    expect(entries.map((entry) => entry.specifier)).toEqual(
      expect.arrayContaining(['mail-telemetry', 'mail-telemetry/haraka', 'mail-telemetry/cluster']),
    );
    for (const entry of entries) {
      const base = entry.base.split('/').at(-1);
      expect(readFileSync(join(root, entry.cjs.js), 'utf8')).toContain(`\nmodule.exports = require('./${base}.js');\n`);
    }
  });

  it('gives require() the very module import() gives: one instance, no dual-package hazard', () => {
    const script = [
      "import { createRequire } from 'node:module';",
      'const require = createRequire(import.meta.url);',
      `const specifiers = ${JSON.stringify(entries.map((entry) => entry.specifier))};`,
      'const out = {};',
      'for (const s of specifiers) out[s] = { same: require(s) === (await import(s)), file: require.resolve(s).split(/[\\\\/]/).pop() };',
      'console.log(JSON.stringify(out));',
    ].join('\n');
    const result = run(['--input-type=module', '-e', script], root);
    expect(result.status, result.output).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(
      Object.fromEntries(entries.map((entry) => [entry.specifier, { same: true, file: entry.cjs.js.split('/').at(-1) }])),
    );
  });
});

describe('TypeScript hosts type-check against the built package and run', () => {
  it('has a project for each setting', () => {
    expect(hostProjects).toEqual([
      'bundler-esnext',
      'bundler-preserve',
      'node10-cjs',
      'node16-cjs',
      'node16-esm',
      'nodenext-cjs',
      'nodenext-esm',
    ]);
  });

  it.each(hostProjects)(
    '%s',
    (name) => {
      const project = setUp(name);
      const checked = typeCheck(project);
      expect(checked.output, `tsc -p ${name}`).toBe('');
      expect(checked.status).toBe(0);
      if (!project.emits) return;

      const host = run([join(project.dir, 'out', 'host.js')], project.dir);
      expect(host.status, host.output).toBe(0);
      expect(JSON.parse(host.stdout)).toEqual({
        delivered: ['smtp.connection-start', 'smtp.ehlo', 'smtp.mail-from'],
        count: 1,
        refused: 'options.service',
      });

      const loaded = run([join(project.dir, 'out', 'entries.js')], project.dir);
      expect(loaded.status, loaded.output).toBe(0);
      expect(JSON.parse(loaded.stdout)).toEqual(Object.fromEntries(entries.map((entry) => [entry.specifier, 'object'])));

      if (project.files.includes('host-require.cts')) {
        const required = run([join(project.dir, 'out', 'host-require.cjs')], project.dir);
        expect(required.status, required.output).toBe(0);
        expect(JSON.parse(required.stdout)).toEqual({ service: 'ts-host-require', store: true });
      }
    },
    TSC_TIMEOUT_MS,
  );
});

describe('a JavaScript host typed with JSDoc', () => {
  const example = join(root, 'examples', 'jsdoc-plugin.cjs');

  it(
    'examples/jsdoc-plugin.cjs passes tsc --checkJs; its wrong variant fails on each marked line and no other',
    () => {
      const project = setUp('jsdoc', { 'jsdoc-plugin.cjs': example });
      const checked = typeCheck(project);
      const errors = checked.stdout
        .split('\n')
        .map((line) => /^(.+?)\((\d+),\d+\): error (TS\d+)/.exec(line))
        .filter((match) => match !== null);
      expect(checked.stdout.split('\n').filter((line) => line.startsWith('jsdoc-plugin.cjs'))).toEqual([]);
      const wrong = readFileSync(join(project.dir, 'wrong-plugin.cjs'), 'utf8')
        .split('\n')
        .flatMap((line, i) => (/\S.*\/\/ wrong: /.test(line) && !/^\s*\*/.test(line) ? [i + 1] : []));
      expect(wrong.length).toBeGreaterThanOrEqual(8);
      expect(errors.every((match) => match[1] === 'wrong-plugin.cjs')).toBe(true);
      expect(
        [...new Set(errors.map((match) => Number(match[2])))].sort((a, b) => a - b),
        checked.output,
      ).toEqual(wrong);
      expect(checked.status).toBe(2);
    },
    TSC_TIMEOUT_MS,
  );

  it('examples/jsdoc-plugin.cjs runs with node and reports the session it replays', () => {
    const result = run([example], root);
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toContain('smtp.connection-start {"remoteIp":"192.0.2.10","remotePort":40000');
    expect(result.stdout).toContain('smtp.mail-from {"from":"alice@example.org"');
    expect(result.stdout).toContain('smtp.rcpt-to {"to":"bob@example.com"');
    expect(result.stdout).toContain('smtp.connection-end {"elapsed":');
    expect(result.stdout).toContain('sessions: 1');
  });
});

describe('docs/commonjs-and-javascript.md', () => {
  const page = readFileSync(join(root, 'docs', 'commonjs-and-javascript.md'), 'utf8');

  it('shows the JSDoc example as it is tested: each ```js block with // @ts-check is a part of examples/jsdoc-plugin.cjs', () => {
    const example = readFileSync(join(root, 'examples', 'jsdoc-plugin.cjs'), 'utf8');
    const blocks = [...page.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string);
    const jsdoc = blocks.filter((block) => block.startsWith('// @ts-check'));
    expect(jsdoc.length).toBeGreaterThan(0);
    for (const block of jsdoc) {
      for (const part of block.split(/^\/\/ …\n/m)) expect(example).toContain(part);
    }
  });

  it('names the require() of every entry', () => {
    for (const entry of entries) expect(page).toContain(`require('${entry.specifier}')`);
  });
});
