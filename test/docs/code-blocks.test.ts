import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { type CodeBlock, documentationPages, extractBlocks } from './blocks.js';
import { PRELUDES } from './preludes.js';

// Every ```ts block of README.md and docs/ is written to a git-ignored folder, type-checked in one
// program under the project's strict settings, and, when marked `<!-- run -->`, run with tsx.
const root = resolve(import.meta.dirname, '../..');
const outDir = join(root, '.docs-check');
const RUN_TIMEOUT_MS = 20_000;

interface WrittenBlock {
  readonly block: CodeBlock;
  readonly path: string;
  /** Lines added above the block's code. */
  readonly offset: number;
}

function writeBlocks(blocks: readonly CodeBlock[]): WrittenBlock[] {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'tsconfig.json'),
    JSON.stringify({
      extends: '../tsconfig.json',
      compilerOptions: {
        // The package's own name resolves to its sources, so the docs track src/ without a build.
        paths: {
          'mail-telemetry': ['../src/index.ts'],
          'mail-telemetry/otel': ['../src/otel.ts'],
          'mail-telemetry/sqlite': ['../src/sqlite.ts'],
          'mail-telemetry/smtp-server': ['../src/smtp-server.ts'],
          'mail-telemetry/nodemailer': ['../src/nodemailer.ts'],
          'mail-telemetry/haraka': ['../src/haraka.ts'],
          'mail-telemetry/cluster': ['../src/cluster.ts'],
          'mail-telemetry/postgres': ['../src/postgres.ts'],
        },
      },
      include: ['./*.ts'],
    }),
  );
  return blocks.map((block) => {
    const prelude = block.preludes.map((name) => {
      const text = PRELUDES[name];
      if (text === undefined) throw new Error(`${block.file}:${block.line}: unknown prelude "${name}"`);
      return text;
    });
    const head = prelude.length > 0 ? `${prelude.join('\n')}\n` : '';
    const path = join(outDir, `${block.file.replace(/[/\\]/g, '_').replace(/\.md$/, '')}-L${block.line}.ts`);
    // `export {}` keeps each block a module of its own: top-level await, no clashing names.
    writeFileSync(path, `${head}${block.code}\nexport {};\n`);
    return { block, path, offset: head === '' ? 0 : head.split('\n').length - 1 };
  });
}

/** Type errors in the blocks, as `page:line: message`. */
function typeErrors(written: readonly WrittenBlock[]): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(outDir, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('no tsconfig for the documentation blocks');
  const program = ts.createProgram(
    written.map((w) => w.path),
    { ...config.options, noEmit: true },
  );
  const byPath = new Map(written.map((w) => [resolve(w.path), w]));
  const errors: string[] = [];
  for (const diagnostic of [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]) {
    errors.push(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  }
  for (const w of written) {
    const source = program.getSourceFile(w.path);
    if (!source) continue;
    for (const diagnostic of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const target = byPath.get(resolve(diagnostic.file?.fileName ?? w.path)) ?? w;
      const line =
        diagnostic.file && diagnostic.start !== undefined ? source.getLineAndCharacterOfPosition(diagnostic.start).line : 0;
      const pageLine = target.block.line + line - target.offset;
      const where =
        line < target.offset ? `${target.block.file}:${target.block.line} (prelude)` : `${target.block.file}:${pageLine}`;
      errors.push(`${where}: TS${diagnostic.code} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
    }
  }
  return errors;
}

interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

function runBlock(w: WrittenBlock): Promise<RunResult> {
  const cli = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  return new Promise((done) => {
    const child = spawn(process.execPath, [cli, '--tsconfig', join(outDir, 'tsconfig.json'), w.path], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: RUN_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      if (output.length < 20_000) output += chunk.toString('utf8');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code, signal) => done({ code, signal, output }));
  });
}

const blocks = documentationPages(root).flatMap((page) => extractBlocks(root, page));
// A block with a known error, checked in the same program: proves errors are found and placed.
const broken: CodeBlock = {
  file: 'broken.md',
  line: 10,
  code: "// fine\nconst count: number = 'one';",
  preludes: ['telemetry'],
  run: false,
};
const written = writeBlocks([...blocks, broken]);

afterAll(() => {
  // Left behind, the folder would be linted and type-checked with the project.
  rmSync(outDir, { recursive: true, force: true });
});

describe('documentation code blocks', () => {
  it('finds the blocks, with a runnable quick start in README.md', () => {
    expect(blocks.length).toBeGreaterThan(20);
    expect(blocks.some((b) => b.file === 'README.md' && b.run)).toBe(true);
  });

  it('type-checks every ```ts block under the project settings, naming the page and line of an error', () => {
    const all = typeErrors(written);
    expect(all.filter((e) => e.startsWith('broken.md:'))).toEqual([
      "broken.md:11: TS2322 Type 'string' is not assignable to type 'number'.",
    ]);
    const errors = all.filter((e) => !e.startsWith('broken.md:'));
    expect(errors, `type errors in documentation blocks:\n${errors.join('\n')}`).toEqual([]);
  }, 120_000);

  const runnable = written.filter((w) => w.block.run);
  it.each(runnable.map((w) => [`${w.block.file}:${w.block.line}`, w] as const))(
    'runs %s to a clean exit',
    async (_where, w) => {
      expect(w.block.preludes, 'a runnable block must not rely on a declared prelude').toEqual([]);
      const result = await runBlock(w);
      expect(result.signal, `killed after ${RUN_TIMEOUT_MS} ms:\n${result.output}`).toBeNull();
      expect(result.code, result.output).toBe(0);
    },
    RUN_TIMEOUT_MS + 10_000,
  );
});
