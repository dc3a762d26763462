import { ExpressionError } from './errors.js';

/** One token of an alert expression; `pos` is its offset in the source. */
export type Token =
  | { readonly type: 'number'; readonly value: number; readonly pos: number }
  | { readonly type: 'string'; readonly value: string; readonly pos: number }
  | { readonly type: 'name'; readonly value: string; readonly pos: number }
  | { readonly type: 'op'; readonly value: string; readonly pos: number }
  | { readonly type: 'end'; readonly value: ''; readonly pos: number };

// `=~`, `!~`, `{` and `}` only mean something in label matchers; `~` alone was never valid.
const TWO_CHAR_OPS = new Set(['&&', '||', '<=', '>=', '==', '!=', '=~', '!~']);
const ONE_CHAR_OPS = new Set(['+', '-', '*', '/', '%', '^', '<', '>', '=', '!', '(', ')', ',', '{', '}']);
const NUMBER = /\d(?:_?\d)*(?:\.\d(?:_?\d)*)?(?:[eE][+-]?\d+)?/y;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

/** Splits `source` into tokens; throws {@link ExpressionError} at the first character it cannot read. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c >= '0' && c <= '9') {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(source) as RegExpExecArray;
      const end = i + match[0].length;
      const next = source[end];
      if (next !== undefined && /[A-Za-z0-9_.]/.test(next)) {
        const hint = /[a-z]/.test(next) ? "a duration is a string, such as '5m'" : '"_" only goes between digits';
        throw new ExpressionError('malformed number', source, end, hint);
      }
      const value = Number(match[0].replaceAll('_', ''));
      if (!Number.isFinite(value)) throw new ExpressionError('number out of range', source, i);
      tokens.push({ type: 'number', value, pos: i });
      i = end;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = source.indexOf(c, i + 1);
      if (end < 0) throw new ExpressionError('unterminated string', source, i);
      tokens.push({ type: 'string', value: source.slice(i + 1, end), pos: i });
      i = end + 1;
      continue;
    }
    NAME.lastIndex = i;
    const name = NAME.exec(source);
    if (name !== null) {
      tokens.push({ type: 'name', value: name[0], pos: i });
      i += name[0].length;
      continue;
    }
    const two = source.slice(i, i + 2);
    if (TWO_CHAR_OPS.has(two)) {
      tokens.push({ type: 'op', value: two, pos: i });
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPS.has(c)) {
      tokens.push({ type: 'op', value: c, pos: i });
      i++;
      continue;
    }
    const hint = c === '&' || c === '|' ? `write "${c}${c}"` : c === ':' ? 'a label matcher is written label="value"' : undefined;
    throw new ExpressionError(`unexpected character ${JSON.stringify(c)}`, source, i, hint);
  }
  tokens.push({ type: 'end', value: '', pos: source.length });
  return tokens;
}
