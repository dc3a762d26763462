/**
 * Every public option has a summary, and every optional one says its default: the API reference
 * (typedoc) and editors show these, so a missing one is a gap users see.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ENTRIES = [
  'src/index.ts',
  'src/otel.ts',
  'src/sqlite.ts',
  'src/smtp-server.ts',
  'src/nodemailer.ts',
  'src/haraka.ts',
  'src/cluster.ts',
  'src/postgres.ts',
];

function exportedOptionInterfaces(): ts.InterfaceDeclaration[] {
  const program = ts.createProgram(
    ENTRIES.map((e) => root + e),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2023,
      strict: true,
      noEmit: true,
    },
  );
  const checker = program.getTypeChecker();
  const found = new Map<string, ts.InterfaceDeclaration>();
  for (const entry of ENTRIES) {
    const source = program.getSourceFile(root + entry);
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    if (module === undefined) continue;
    for (const symbol of checker.getExportsOfModule(module)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      if (!/Options$/.test(target.getName())) continue;
      for (const declaration of target.getDeclarations() ?? []) {
        if (ts.isInterfaceDeclaration(declaration))
          found.set(`${declaration.getSourceFile().fileName}#${target.getName()}`, declaration);
      }
    }
  }
  return [...found.values()];
}

function problems(declaration: ts.InterfaceDeclaration): string[] {
  const out: string[] = [];
  const file = declaration.getSourceFile();
  for (const member of declaration.members) {
    if (!ts.isPropertySignature(member) && !ts.isMethodSignature(member)) continue;
    const name = member.name.getText(file);
    if (name === 'type') continue; // the discriminant of a union, documented by its interface
    const docs = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc);
    const doc = docs[docs.length - 1];
    const where = `${declaration.name.text}.${name} (${file.fileName.slice(root.length)})`;
    const summary = typeof doc?.comment === 'string' ? doc.comment : (doc?.comment ?? []).map((c) => c.text).join('');
    if (summary.trim() === '') out.push(`${where}: no summary`);
    const optional = member.questionToken !== undefined;
    if (optional && !(doc?.tags ?? []).some((tag) => tag.tagName.text === 'default')) out.push(`${where}: no @default`);
  }
  return out;
}

describe('the options reference', () => {
  it('has a summary for every option and a @default for every optional one', () => {
    const interfaces = exportedOptionInterfaces();
    expect(interfaces.length).toBeGreaterThan(15);
    expect(interfaces.flatMap(problems)).toEqual([]);
  });
});
