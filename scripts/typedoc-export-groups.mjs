/**
 * A TypeDoc plugin: a `@group` tag on an export statement of a module's entry file (`/** @group Metrics *\/`
 * above `export type { … } from './metrics/…'` or `export * from './alerts/public.js'`) groups what that
 * statement exports. TypeDoc alone reads an export statement's comment only for exports that have no
 * comment of their own, so documented re-exports would land in the kind groups (Interfaces, Functions…).
 * A module that uses such tags must tag every export: an untagged one is a warning (an error under
 * treatWarningsAsErrors), so a new export cannot slip into the index ungrouped.
 */
import { Comment, CommentTag, Converter, ReflectionKind } from 'typedoc';
import ts from 'typescript';

const GROUP_TAG = /@group[ \t]+([^\n*]+)/;

/** The `@group` of the doc comment right above `statement`, if any. */
function groupOf(statement, text) {
  const ranges = ts.getLeadingCommentRanges(text, statement.pos) ?? [];
  const last = ranges.at(-1);
  if (last === undefined) return undefined;
  const comment = text.slice(last.pos, last.end);
  if (!comment.startsWith('/**')) return undefined;
  return GROUP_TAG.exec(comment)?.[1]?.trim();
}

/** Export name → group, for the export statements of `file` that carry a `@group` tag. */
function exportGroups(file, checker) {
  const groups = new Map();
  for (const statement of file.statements) {
    if (!ts.isExportDeclaration(statement)) continue;
    const group = groupOf(statement, file.text);
    if (group === undefined) continue;
    const clause = statement.exportClause;
    if (clause !== undefined && ts.isNamedExports(clause)) {
      for (const element of clause.elements) groups.set(element.name.text, group);
    } else if (statement.moduleSpecifier !== undefined) {
      const target = checker.getSymbolAtLocation(statement.moduleSpecifier);
      for (const symbol of target === undefined ? [] : checker.getExportsOfModule(target)) groups.set(symbol.name, group);
    }
  }
  return groups;
}

function addGroup(reflection, group) {
  const tag = new CommentTag('@group', [{ kind: 'text', text: group }]);
  const owner = reflection.comment ?? reflection.signatures?.find((s) => s.comment !== undefined)?.comment;
  // TypeDoc gave an export with no comment of its own the statement's comment, tag included.
  if (owner?.getTag('@group') !== undefined) return;
  if (owner !== undefined) owner.blockTags.push(tag);
  else reflection.comment = new Comment([], [tag]);
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  /** Module reflection → its export groups, read while its program is active. */
  const modules = new Map();
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    const file = context.getSymbolFromReflection(reflection)?.declarations?.find(ts.isSourceFile);
    if (file === undefined) return;
    const groups = exportGroups(file, context.checker);
    if (groups.size > 0) modules.set(reflection, groups);
  });
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const [module, groups] of modules) {
      for (const child of module.children ?? []) {
        const group = groups.get(child.name);
        if (group !== undefined) addGroup(child, group);
        else context.logger.warn(`${module.name}: the export ${child.name} has no @group on its export statement`);
      }
    }
  });
}
