/**
 * The last step of `npm run build`: bundles tsc's output into one module per package entry plus
 * shared chunks, so importing the package compiles a handful of modules instead of ~130 (the
 * import takes about 40 ms instead of about 90). The declarations stay as tsc wrote them. tsc's
 * unbundled JavaScript is kept in `build/modules/` (not published), where `npm run bench:e2e`
 * profiles it to attribute the CPU to the library's folders. The entries' CommonJS wrappers
 * (`dist/*.cjs`, `dist/*.d.cts`) are written next, by scripts/commonjs-entries.ts.
 */
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { packageEntries } from './package-entries.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const modules = join(root, 'build', 'modules');

/** The ES module of every entry in the package's `exports` map. */
function entries(): string[] {
  return packageEntries(root).map((entry) => join(root, entry.esm.js));
}

function javascriptFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...javascriptFiles(path));
    else if (name.endsWith('.js') || name.endsWith('.js.map')) out.push(path);
  }
  return out;
}

rmSync(modules, { recursive: true, force: true });
cpSync(dist, modules, { recursive: true });
const bundled = join(root, 'build', 'bundle');
rmSync(bundled, { recursive: true, force: true });
await build({
  entryPoints: entries().map((file) => file.replace(dist, modules)),
  outbase: modules,
  outdir: bundled,
  bundle: true,
  splitting: true, // one copy of the core for every entry, so instanceof and symbols agree across them
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
for (const file of javascriptFiles(dist)) rmSync(file);
cpSync(bundled, dist, { recursive: true });
rmSync(bundled, { recursive: true, force: true });
