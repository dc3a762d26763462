const EXCERPT_WIDTH = 60;

/** A malformed or unsafe alert expression: where it went wrong, with a caret under the spot. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  /** Offset of the problem in the expression, from 0. */
  readonly position: number;
  /** The expression around the problem, and a second line with a caret under it. */
  readonly excerpt: string;
  /** What the problem is, without the position. */
  readonly problem: string;

  constructor(problem: string, source: string, position: number, hint?: string) {
    const excerpt = caret(source, position);
    super(`${problem} at column ${position + 1}${hint ? ` (${hint})` : ''}\n${excerpt}`);
    this.problem = problem;
    this.position = position;
    this.excerpt = excerpt;
  }
}

/** Up to 60 characters around `position` (control characters shown as spaces) and a caret line. */
function caret(source: string, position: number): string {
  const start = Math.max(0, Math.min(position - EXCERPT_WIDTH / 2, source.length - EXCERPT_WIDTH));
  const end = Math.min(source.length, start + EXCERPT_WIDTH);
  const before = start > 0 ? '…' : '';
  const after = end < source.length ? '…' : '';
  const text = source.slice(start, end).replace(/[\p{Cc}\u2028\u2029]/gu, ' ');
  return `  ${before}${text}${after}\n  ${' '.repeat(before.length + position - start)}^`;
}
