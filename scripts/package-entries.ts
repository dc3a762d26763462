/**
 * The entries of the package's `exports` map, read from package.json: the one list that the build
 * (scripts/bundle-dist.ts, scripts/commonjs-entries.ts), scripts/package-check.sh's checks and
 * the package tests work from, so that an entry added to package.json is built and tested without
 * being listed anywhere else.
 *
 * Every entry has the same shape: a `require` condition for CommonJS (a wrapper that requires the
 * ES module itself, with declarations TypeScript accepts in a CommonJS file) and a `default`
 * condition for everything else (the ES module):
 *
 * ```json
 * "./otel": {
 *   "require": { "types": "./dist/otel.d.cts", "default": "./dist/otel.cjs" },
 *   "default": { "types": "./dist/otel.d.ts", "default": "./dist/otel.js" }
 * }
 * ```
 *
 * and, for TypeScript's `moduleResolution: node10` (which reads no `exports` map), a line in
 * `typesVersions`: `"otel": ["./dist/otel.d.ts"]`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PackageEntry {
  /** The specifier a host writes: `mail-telemetry`, `mail-telemetry/otel`. */
  readonly specifier: string;
  /** The key in the `exports` map: `.`, `./otel`. */
  readonly subpath: string;
  /** The file name without extension, relative to dist/: `index`, `otel`. */
  readonly base: string;
  /** Paths relative to the package root: `dist/otel.js`, `dist/otel.d.ts`, `dist/otel.cjs`, `dist/otel.d.cts`. */
  readonly esm: { readonly js: string; readonly types: string };
  readonly cjs: { readonly js: string; readonly types: string };
}

interface PackageJson {
  readonly name: string;
  readonly exports: Readonly<Record<string, unknown>>;
  readonly typesVersions?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

/** The shape every entry of `exports` must have, for the error that names a wrong one. */
function expected(base: string): string {
  return JSON.stringify({
    require: { types: `./dist/${base}.d.cts`, default: `./dist/${base}.cjs` },
    default: { types: `./dist/${base}.d.ts`, default: `./dist/${base}.js` },
  });
}

/** Every JavaScript entry of the `exports` map (not `./package.json`), checked against the shape above. */
export function packageEntries(root: string): PackageEntry[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const entries: PackageEntry[] = [];
  const problems: string[] = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string' && target.endsWith('.json')) continue;
    const esmJs = (target as { default?: { default?: unknown } } | null)?.default?.default;
    const flatJs = (target as { default?: unknown } | null)?.default;
    const file = typeof esmJs === 'string' ? esmJs : typeof flatJs === 'string' ? flatJs : undefined;
    const base = file?.match(/^\.\/dist\/(.+)\.js$/)?.[1];
    if (base === undefined) {
      problems.push(`exports["${subpath}"] has no "./dist/<name>.js" file`);
      continue;
    }
    if (JSON.stringify(target) !== expected(base)) {
      problems.push(`exports["${subpath}"] must be ${expected(base)}`);
      continue;
    }
    const typesVersion = subpath === '.' ? undefined : pkg.typesVersions?.['*']?.[subpath.slice(2)];
    if (subpath !== '.' && JSON.stringify(typesVersion) !== JSON.stringify([`./dist/${base}.d.ts`])) {
      problems.push(`typesVersions["*"]["${subpath.slice(2)}"] must be ["./dist/${base}.d.ts"] (for moduleResolution node10)`);
    }
    entries.push({
      specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
      subpath,
      base,
      esm: { js: `dist/${base}.js`, types: `dist/${base}.d.ts` },
      cjs: { js: `dist/${base}.cjs`, types: `dist/${base}.d.cts` },
    });
  }
  for (const name of Object.keys(pkg.typesVersions?.['*'] ?? {})) {
    if (!entries.some((entry) => entry.subpath === `./${name}`))
      problems.push(`typesVersions["*"]["${name}"] has no entry in exports`);
  }
  if (problems.length > 0) throw new Error(`package.json:\n  ${problems.join('\n  ')}`);
  return entries;
}
