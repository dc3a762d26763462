/**
 * The last step of `npm run build`: the `require` condition of every entry in the package's
 * `exports` map (scripts/package-entries.ts), so that CommonJS hosts get the same module and the
 * same types as ES module hosts.
 *
 * - `dist/<entry>.cjs` is `module.exports = require('./<entry>.js');`: the ES module itself, loaded
 *   with require() (Node >= 22.12; the package has no top-level await). A host that both requires
 *   and imports the package gets one instance of it: there is no dual-package hazard. Since the
 *   require() of the ES module happens inside node_modules, Node 22 does not print its
 *   ExperimentalWarning for it either.
 * - `dist/<entry>.d.cts` gives TypeScript the entry's declarations in a CommonJS file. A plain
 *   `export * from './<entry>.js'` is refused there under `module: node16` (TS1479: TypeScript's
 *   node16 mode does not model require() of an ES module), and `skipLibCheck` would only hide that.
 *   So the types are re-exported with `export type * from ... with { 'resolution-mode': 'import' }`
 *   and each value is declared as `typeof` the ES module's own, which TypeScript (>= 5.3) accepts in
 *   a CommonJS file under every module setting. Every type keeps its identity: a class or an
 *   option type seen from a CommonJS file is the very declaration an ES module file sees.
 *
 * An export this form cannot carry faithfully (a generic class, an enum, a namespace, a default
 * export with a type) stops the build with its name, rather than ship a wrong declaration.
 */
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { type PackageEntry, packageEntries } from './package-entries.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const entries = packageEntries(root);
const program = ts.createProgram(
  entries.map((entry) => join(root, entry.esm.types)),
  {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    noEmit: true,
    skipLibCheck: true,
  },
);
const checker = program.getTypeChecker();
const problems: string[] = [];

/** The declaration's doc comment, verbatim, so that editors show the same documentation for require(). */
function docComment(symbol: ts.Symbol): string {
  for (const declaration of symbol.declarations ?? []) {
    const doc = ts.getJSDocCommentsAndTags(declaration).filter(ts.isJSDoc).at(-1);
    if (doc !== undefined) return `${declaration.getSourceFile().text.slice(doc.pos, doc.end)}\n`;
  }
  return '';
}

function isGeneric(symbol: ts.Symbol): boolean {
  return (symbol.declarations ?? []).some(
    (declaration) =>
      (ts.isClassDeclaration(declaration) || ts.isInterfaceDeclaration(declaration) || ts.isTypeAliasDeclaration(declaration)) &&
      (declaration.typeParameters?.length ?? 0) > 0,
  );
}

function typeDeclarations(entry: PackageEntry): string {
  const file = program.getSourceFile(join(root, entry.esm.types));
  if (file === undefined) throw new Error(`${entry.esm.types} is missing: the build did not write it`);
  const moduleSymbol = checker.getSymbolAtLocation(file);
  const exported = moduleSymbol === undefined ? [] : checker.getExportsOfModule(moduleSymbol);
  let esm = 'esm';
  while (exported.some((symbol) => symbol.name === esm)) esm = `_${esm}`;
  const from = `'./${basename(entry.base)}.js' with { 'resolution-mode': 'import' }`;
  const out = [
    `// The types of require('${entry.specifier}'): the declarations of ./${basename(entry.base)}.d.ts, in a form`,
    '// TypeScript accepts in a CommonJS file. Written by scripts/commonjs-entries.ts.',
    `import type * as ${esm} from ${from};`,
    `export type * from ${from};`,
  ];
  for (const symbol of exported) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    if (!(target.flags & ts.SymbolFlags.Value)) continue; // a type: `export type *` carries it
    const name = symbol.name;
    const hasType = (target.flags & ts.SymbolFlags.Type) !== 0;
    const where = `${entry.specifier}: export ${name}`;
    if (target.flags & ts.SymbolFlags.Namespace) problems.push(`${where} is an enum or a namespace`);
    else if (hasType && isGeneric(target)) problems.push(`${where} is a generic class or has a generic type of the same name`);
    else if (name === 'default' && hasType) problems.push(`${where} has a type meaning too (a class)`);
    else if (name === 'default') {
      out.push(`${docComment(target)}declare const ${esm}Default: typeof ${esm}.default;`, `export default ${esm}Default;`);
    } else if (!/^[A-Za-z_$][\w$]*$/.test(name)) problems.push(`${where} is not an identifier`);
    else {
      // The value shadows the type-only export of the same name, so a class also re-exports its type.
      out.push(`${docComment(target)}export declare const ${name}: typeof ${esm}.${name};`);
      if (hasType) out.push(`export type ${name} = ${esm}.${name};`);
    }
  }
  return `${out.join('\n')}\n`;
}

for (const entry of entries) {
  const name = basename(entry.base);
  writeFileSync(
    join(root, entry.cjs.js),
    `// require('${entry.specifier}'): the ES module itself (Node >= 22.12), one instance for require and import.\nmodule.exports = require('./${name}.js');\n`,
  );
  writeFileSync(join(root, entry.cjs.types), typeDeclarations(entry));
}
if (problems.length > 0) {
  console.error(
    `scripts/commonjs-entries.ts cannot declare these exports for require() (see the comment at its top):\n  ${problems.join('\n  ')}`,
  );
  process.exit(1);
}
