import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * The source files reachable from `entry` through relative static imports, and those of them that
 * import `module` directly: how a test proves that an entry does not load an optional dependency.
 */
export function importsOf(entry: string, module: string): { readonly reached: number; readonly importers: string[] } {
  const seen = new Set<string>();
  const visit = (file: string): string[] => {
    if (seen.has(file)) return [];
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const found: string[] = [];
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) {
      const spec = m[1] as string;
      if (spec === module) found.push(file);
      else if (spec.startsWith('.')) found.push(...visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts'))));
    }
    return found;
  };
  const importers = visit(entry);
  return { reached: seen.size, importers };
}
