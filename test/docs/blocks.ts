import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One fenced ```ts block of a Markdown page, with the directives written in HTML comments before it. */
export interface CodeBlock {
  /** The page, relative to the repository root. */
  readonly file: string;
  /** The 1-based line of the block's first code line in the page. */
  readonly line: number;
  readonly code: string;
  /** Named preludes the block opts into with `<!-- prelude: a, b -->`. */
  readonly preludes: readonly string[];
  /** `<!-- run -->`: the block is also run and must exit cleanly. */
  readonly run: boolean;
}

const FENCE = /^(\s*)(`{3,})\s*(\S*)\s*$/;
const DIRECTIVE = /^\s*<!--\s*(.*?)\s*-->\s*$/;
const TS_LANGUAGES = new Set(['ts', 'typescript']);

/** The pages whose code blocks are checked: README.md and docs/ (without the generated API reference). */
export function documentationPages(root: string): string[] {
  const pages = [join(root, 'README.md')];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (relative(root, path) !== join('docs', 'api')) walk(path);
      } else if (entry.name.endsWith('.md')) pages.push(path);
    }
  };
  walk(join(root, 'docs'));
  return pages;
}

/** The ```ts blocks of one page. Indented blocks (inside list items) lose their indentation. */
export function extractBlocks(root: string, path: string): CodeBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string);
    if (!open) continue;
    const [, indent = '', ticks = '', language = ''] = open;
    let end = i + 1;
    while (end < lines.length && !isClosing(lines[end] as string, ticks)) end++;
    if (TS_LANGUAGES.has(language.toLowerCase())) {
      const body = lines
        .slice(i + 1, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()));
      const directives = directivesBefore(lines, i);
      blocks.push({
        file: relative(root, path),
        line: i + 2,
        code: body.join('\n'),
        preludes: directives.flatMap((d) =>
          d.startsWith('prelude:')
            ? d
                .slice('prelude:'.length)
                .split(',')
                .map((s) => s.trim())
            : [],
        ),
        run: directives.includes('run'),
      });
    }
    i = end;
  }
  return blocks;
}

function isClosing(line: string, ticks: string): boolean {
  const trimmed = line.trim();
  return trimmed.startsWith(ticks) && /^`+$/.test(trimmed);
}

/** The HTML comments directly above line `index` (blank lines between them allowed). */
function directivesBefore(lines: readonly string[], index: number): string[] {
  const found: string[] = [];
  for (let j = index - 1; j >= 0; j--) {
    const line = lines[j] as string;
    if (line.trim() === '') continue;
    const match = DIRECTIVE.exec(line);
    if (!match) break;
    found.push((match[1] as string).trim());
  }
  return found;
}
