/**
 * Every test shuts its telemetry down. Instances made through test/support/telemetry.ts are shut
 * down after each test; the checks below read every test source and fail on one that creates an
 * instance another way and can leave it open.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { make, openCount, shutdownAll, track } from './telemetry.js';

const testRoot = fileURLToPath(new URL('..', import.meta.url));

/** Test sources that run: type tests (`.test-d.ts`) only compile, so they open nothing. */
function runtimeSources(dir: string = testRoot): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...runtimeSources(path));
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name) && !entry.name.endsWith('.test-d.ts')) out.push(path);
  }
  return out;
}

/** The index just past the `)` that closes the `(` at `open`, skipping quoted text; -1 if unclosed. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"' || c === '`') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return -1;
      i = end;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

/** What in `text` may leave an instance open, as `file:line what` lines. */
function leaks(file: string, text: string): string[] {
  const found: string[] = [];
  const line = (index: number) => text.slice(0, index).split('\n').length;
  // An instance held in a variable must be shut down, tracked or handed back by its helper.
  for (const m of text.matchAll(/\b(\w+)\s*=\s*createTelemetry\s*(<[^(]*>)?\(/g)) {
    const name = m[1] as string;
    const closed = new RegExp(`\\b${name}\\s*\\.shutdown\\(|\\btrack\\(\\s*${name}\\s*\\)|\\breturn\\s+${name}\\b`).test(text);
    if (!closed) found.push(`${file}:${line(m.index)} ${name} = createTelemetry(...) is never shut down`);
  }
  // An instance created inside expect(() => ...) that is expected not to throw is never closed.
  for (const m of text.matchAll(/expect\(\s*\(\)\s*=>\s*createTelemetry\s*(<[^(]*>)?\(/g)) {
    const end = closingParen(text, m.index + m[0].length - 1);
    if (end > 0 && /^\s*\)\s*\.not\s*\.toThrow/.test(text.slice(end))) {
      found.push(`${file}:${line(m.index)} expect(() => createTelemetry(...)).not.toThrow() leaves the instance open`);
    }
  }
  // A file that uses the support module makes every instance through it.
  if (/from '[./]*support\/telemetry\.js'|from '\.\/telemetry\.js'/.test(text)) {
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(\.\.\/)+src\/index\.js'/g)) {
      if (/(^|[\s,])createTelemetry\b/.test(m[1] as string)) {
        found.push(`${file}:${line(m.index)} imports createTelemetry beside test/support/telemetry.ts: use make()`);
      }
    }
  }
  return found;
}

describe('telemetry instances in tests', () => {
  it('are all shut down: every test source passes the checks', () => {
    // The support module is where instances are made; this file quotes leaks as examples.
    const exempt = [join('support', 'telemetry.ts'), join('support', 'shutdown.test.ts')];
    const sources = runtimeSources().filter((path) => !exempt.some((name) => path.endsWith(name)));
    expect(sources.length).toBeGreaterThan(50);
    const found = sources.flatMap((path) => leaks(relative(testRoot, path), readFileSync(path, 'utf8')));
    expect(found, 'create instances with make() from test/support/telemetry.ts, or shut each one down').toEqual([]);
  });

  it('the checks see the leaks they exist for, and pass the usual shapes', () => {
    expect(leaks('a.ts', 'const telemetry = createTelemetry({});\ntelemetry.emit("x");')).toHaveLength(1);
    expect(leaks('a.ts', 'const other = createTelemetry();\nconst t = make();\nawait t.shutdown();')).toHaveLength(1);
    expect(leaks('a.ts', "expect(() => createTelemetry(rule('a(b) > 1'))).not.toThrow();")).toHaveLength(1);
    expect(
      leaks('a.ts', "import { createTelemetry } from '../../src/index.js';\nimport { make } from '../support/telemetry.js';"),
    ).toHaveLength(1);
    expect(leaks('a.ts', 'const telemetry = createTelemetry();\ntry {} finally { await telemetry.shutdown(100); }')).toEqual([]);
    expect(leaks('a.ts', 'function f() {\n  const t = createTelemetry();\n  return t;\n}')).toEqual([]);
    expect(leaks('a.ts', "expect(() => createTelemetry({ colour: 'red' })).toThrow(/colour/);")).toEqual([]);
    expect(
      leaks('a.ts', "import { type Span } from '../../src/index.js';\nimport { make } from '../support/telemetry.js';"),
    ).toEqual([]);
  });
});

// These two tests run in order: the first leaves instances open, the second sees them shut down.
describe('make() and track()', () => {
  const left: { stream?: { readonly closed: boolean }; shutdowns: number } = { shutdowns: 0 };

  it('register what a test creates', () => {
    const telemetry = make();
    left.stream = telemetry.live.events({ events: ['smtp.ehlo'] });
    track({
      shutdown: async () => {
        left.shutdowns++;
      },
    });
    expect(left.stream.closed).toBe(false);
  });

  it('which is shut down once the test is over', async () => {
    expect(left.stream?.closed).toBe(true);
    expect(left.shutdowns).toBe(1);
    // Shut down already: a second round finds nothing to do.
    await shutdownAll();
    expect(left.shutdowns).toBe(1);
  });

  it('leave nothing to shut down when the options are refused', async () => {
    expect(openCount()).toBe(0);
    expect(() => make({ service: 5 as never })).toThrow(/options\.service/);
    expect(openCount()).toBe(0);
    make();
    expect(openCount()).toBe(1);
    await shutdownAll();
    expect(openCount()).toBe(0);
  });
});
