import { parseDuration } from './duration.js';
import { ExpressionError } from './errors.js';
import type { LabelMatcher, MatchOp } from './labels.js';
import { type Token, tokenize } from './lexer.js';
import { compilePattern } from './regex.js';

/**
 * A metric as written: a sanitised bare name (`smtp_connection_start`) or `metric('smtp.connection-start')`,
 * either one maybe followed by label matchers (`{webhook="hook1"}`).
 */
export interface MetricRef {
  readonly type: 'metric';
  readonly name: string;
  readonly exact: boolean;
  readonly pos: number;
  /** All must match; none (no braces, or `{}`) reads every series. */
  readonly matchers: readonly LabelMatcher[];
}

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '<' | '<=' | '>' | '>=' | '==' | '!=' | '&&' | '||' | '^';
export type WindowFunction = 'rate' | 'increase' | 'avg_over';

/** The parsed expression: functions are already checked for arity and argument kinds. */
export type Expr =
  | { readonly type: 'number'; readonly value: number; readonly pos: number }
  | MetricRef
  | { readonly type: 'unary'; readonly op: '!' | '-'; readonly operand: Expr; readonly pos: number }
  | { readonly type: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly pos: number }
  | { readonly type: 'call'; readonly fn: 'min' | 'max' | 'abs'; readonly args: readonly Expr[]; readonly pos: number }
  | {
      readonly type: 'window';
      readonly fn: WindowFunction;
      readonly metric: MetricRef;
      readonly windowMs: number;
      readonly pos: number;
    }
  | { readonly type: 'quantile'; readonly q: number; readonly metric: MetricRef; readonly pos: number };

/** Bounds that keep hostile expressions cheap to reject. */
export interface ExpressionLimits {
  /** Most characters. */
  readonly maxLength: number;
  /** Most nested operators, calls and parentheses. */
  readonly maxDepth: number;
  /** Most AST nodes. */
  readonly maxNodes: number;
  /** Most label matchers in one metric reference. */
  readonly maxMatchers: number;
}

export const DEFAULT_LIMITS: ExpressionLimits = { maxLength: 4096, maxDepth: 32, maxNodes: 512, maxMatchers: 16 };

/** Binding powers: `||` < `^` < `&&` < comparisons < `+ -` < `* / %` < unary. */
const INFIX: Readonly<Record<string, number>> = {
  '||': 1,
  '^': 2,
  '&&': 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  '=': 4,
  '==': 4,
  '!=': 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
};
const PREFIX_POWER = 7;
const WINDOWS = new Set<string>(['rate', 'increase', 'avg_over']);
const QUANTILE = /^p(\d{1,2}|999)$/;
const MAX_WINDOW_MS = 366 * 86_400_000;
const MATCH_OPS = new Set<string>(['=', '!=', '=~', '!~']);
const NO_MATCHERS: readonly LabelMatcher[] = [];

/** The function names the language knows, for error hints. */
export const FUNCTIONS = ['metric', 'rate', 'increase', 'avg_over', 'min', 'max', 'abs', 'p50', 'p95', 'p99'] as const;

/** Parses an alert expression; throws {@link ExpressionError} with a position and a caret excerpt. */
export function parseExpression(source: string, limits: ExpressionLimits = DEFAULT_LIMITS): Expr {
  if (typeof source !== 'string') throw new ExpressionError('the expression is not a string', '', 0);
  if (source.length > limits.maxLength)
    throw new ExpressionError(`longer than ${limits.maxLength} characters`, source, limits.maxLength);
  if (source.trim() === '') throw new ExpressionError('empty expression', source, 0);
  return new Parser(source, tokenize(source), limits).parse();
}

class Parser {
  readonly #source: string;
  readonly #tokens: Token[];
  readonly #limits: ExpressionLimits;
  #at = 0;
  #nodes = 0;

  constructor(source: string, tokens: Token[], limits: ExpressionLimits) {
    this.#source = source;
    this.#tokens = tokens;
    this.#limits = limits;
  }

  parse(): Expr {
    const expr = this.#expression(0, 0);
    const next = this.#peek();
    if (next.type !== 'end') {
      const hint =
        next.type === 'op' && next.value === ')'
          ? 'unbalanced parenthesis'
          : next.type === 'op' && next.value === '{'
            ? "label matchers go right after a metric name or metric('…')"
            : 'an operator is missing';
      throw this.#error(`unexpected ${describe(next)}`, next.pos, hint);
    }
    return expr;
  }

  #expression(minPower: number, depth: number): Expr {
    if (depth > this.#limits.maxDepth) throw this.#error(`nested deeper than ${this.#limits.maxDepth} levels`, this.#peek().pos);
    let left = this.#prefix(depth);
    for (;;) {
      const token = this.#peek();
      if (token.type !== 'op') break;
      const power = INFIX[token.value];
      if (power === undefined || power <= minPower) break;
      this.#at++;
      const right = this.#expression(power, depth + 1);
      const op = (token.value === '=' ? '==' : token.value) as BinaryOp;
      left = this.#node({ type: 'binary', op, left, right, pos: token.pos });
    }
    return left;
  }

  #prefix(depth: number): Expr {
    const token = this.#next();
    switch (token.type) {
      case 'number':
        return this.#node({ type: 'number', value: token.value, pos: token.pos });
      case 'string':
        throw this.#error('a string is only allowed as a metric name or a duration', token.pos);
      case 'name':
        return this.#peekOp('(') ? this.#call(token.value, token.pos, depth) : this.#metricName(token.value, token.pos);
      case 'end':
        throw this.#error('the expression ends too early', token.pos);
      case 'op':
        if (token.value === '(') {
          const inner = this.#expression(0, depth + 1);
          this.#expect(')', token.pos);
          return inner;
        }
        if (token.value === '!' || token.value === '-') {
          const operand = this.#expression(PREFIX_POWER - 1, depth + 1);
          return this.#node({ type: 'unary', op: token.value, operand, pos: token.pos });
        }
        if (token.value === '+') return this.#expression(PREFIX_POWER - 1, depth + 1);
        throw this.#error(`unexpected ${describe(token)}`, token.pos, 'a value is missing');
    }
  }

  #call(name: string, pos: number, depth: number): Expr {
    if (depth + 1 > this.#limits.maxDepth) throw this.#error(`nested deeper than ${this.#limits.maxDepth} levels`, pos);
    this.#at++; // (
    if (name === 'metric') return this.#metricCall(pos);
    if (WINDOWS.has(name)) {
      const metric = this.#metricArgument(name);
      this.#expect(',', pos, `${name} takes a metric and a window, such as ${name}(queue_count, '5m')`);
      const window = this.#next();
      const windowMs = window.type === 'string' ? parseDuration(window.value) : undefined;
      if (windowMs === undefined || windowMs <= 0 || windowMs > MAX_WINDOW_MS)
        throw this.#error("expected a window such as '30s', '5m', '1h' or '1d'", window.pos);
      this.#expect(')', pos);
      return this.#node({ type: 'window', fn: name as WindowFunction, metric, windowMs, pos });
    }
    const quantile = QUANTILE.exec(name);
    if (quantile !== null) {
      const digits = quantile[1] as string;
      const metric = this.#metricArgument(name);
      this.#expect(')', pos);
      const q = digits === '999' ? 0.999 : Number(digits) / 100;
      if (q <= 0) throw this.#error(`${name} is not a percentile`, pos, 'use p1 to p99, or p999');
      return this.#node({ type: 'quantile', q, metric, pos });
    }
    if (name === 'min' || name === 'max' || name === 'abs') {
      const args: Expr[] = [];
      if (!this.#peekOp(')')) {
        do args.push(this.#expression(0, depth + 1));
        while (this.#eat(','));
      }
      this.#expect(')', pos);
      if (args.length === 0 || (name === 'abs' && args.length !== 1))
        throw this.#error(`${name} takes ${name === 'abs' ? 'one argument' : 'one or more arguments'}`, pos);
      return this.#node({ type: 'call', fn: name, args, pos });
    }
    throw this.#error(`unknown function ${JSON.stringify(name)}`, pos, `known: ${FUNCTIONS.join(', ')}`);
  }

  /** A window or percentile function's first argument: a bare name or `metric('...')`. */
  #metricArgument(fn: string): MetricRef {
    const token = this.#next();
    if (token.type === 'name') {
      if (token.value === 'metric' && this.#eat('(')) return this.#metricCall(token.pos);
      return this.#metricName(token.value, token.pos);
    }
    throw this.#error(`${fn} needs a metric name first`, token.pos);
  }

  /** `metric('name')` after its `(`, then its label matchers: `metric('name'){label="value"}`. */
  #metricCall(openedAt: number): MetricRef {
    const token = this.#next();
    if (token.type !== 'string' || token.value === '')
      throw this.#error("metric() takes a quoted metric name, such as metric('smtp.connection-start')", token.pos);
    if (this.#peekOp(','))
      throw this.#error(
        'metric() takes only the name',
        this.#peek().pos,
        `label matchers follow the parenthesis: metric('${token.value}'){label="value"}`,
      );
    this.#expect(')', openedAt);
    return this.#node({ type: 'metric', name: token.value, exact: true, pos: token.pos, matchers: this.#matchers() });
  }

  #metricName(name: string, pos: number): MetricRef {
    return this.#node({ type: 'metric', name, exact: false, pos, matchers: this.#matchers() });
  }

  /** `{label="v", label!="v", label=~"re", label!~"re"}`, a trailing comma allowed; none without braces. */
  #matchers(): readonly LabelMatcher[] {
    if (!this.#peekOp('{')) return NO_MATCHERS;
    const open = this.#next();
    const matchers: LabelMatcher[] = [];
    while (!this.#eat('}')) {
      const label = this.#next();
      if (label.type === 'end') throw this.#error(`the label matchers at column ${open.pos + 1} are not closed`, label.pos);
      if (label.type !== 'name')
        throw this.#error(`expected a label name but found ${describe(label)}`, label.pos, 'such as {reason="mailbox-full"}');
      if (matchers.length >= this.#limits.maxMatchers)
        throw this.#error(`more than ${this.#limits.maxMatchers} label matchers`, label.pos);
      const op = this.#next();
      if (op.type !== 'op' || !MATCH_OPS.has(op.value))
        throw this.#error(
          `expected =, !=, =~ or !~ after label "${label.value}" but found ${describe(op)}`,
          op.pos,
          op.value === '==' ? 'write "="' : undefined,
        );
      const value = this.#next();
      if (value.type !== 'string')
        throw this.#error(
          `expected a quoted label value but found ${describe(value)}`,
          value.pos,
          `such as ${label.value}="value"`,
        );
      matchers.push(this.#matcher(label.value, op.value as MatchOp, value.value, label.pos, value.pos));
      if (!this.#eat(',') && !this.#peekOp('}')) {
        const next = this.#peek();
        if (next.type === 'end') throw this.#error(`the label matchers at column ${open.pos + 1} are not closed`, next.pos);
        throw this.#error(`expected "," or "}" but found ${describe(next)}`, next.pos);
      }
    }
    return matchers;
  }

  #matcher(label: string, op: MatchOp, value: string, pos: number, valuePos: number): LabelMatcher {
    if (op === '=' || op === '!=') return { label, op, value, pos };
    const regex = compilePattern(value);
    if (regex instanceof RegExp) return { label, op, value, regex, pos };
    // Past the opening quote: the caret lands on the offending part of the pattern.
    throw this.#error(regex.problem, valuePos + 1 + regex.offset, regex.hint);
  }

  #node<T extends Expr>(node: T): T {
    if (++this.#nodes > this.#limits.maxNodes) throw this.#error(`more than ${this.#limits.maxNodes} terms`, node.pos);
    return node;
  }

  #peek(): Token {
    return this.#tokens[this.#at] as Token;
  }

  #next(): Token {
    const token = this.#peek();
    if (token.type !== 'end') this.#at++;
    return token;
  }

  #peekOp(value: string): boolean {
    const token = this.#peek();
    return token.type === 'op' && token.value === value;
  }

  #eat(value: string): boolean {
    if (!this.#peekOp(value)) return false;
    this.#at++;
    return true;
  }

  #expect(value: string, openedAt: number, hint?: string): void {
    if (this.#eat(value)) return;
    const token = this.#peek();
    const why = value === ')' ? `the parenthesis at column ${openedAt + 1} is not closed` : hint;
    throw this.#error(`expected "${value}" but found ${describe(token)}`, token.pos, why);
  }

  #error(problem: string, pos: number, hint?: string): ExpressionError {
    return new ExpressionError(problem, this.#source, pos, hint);
  }
}

function describe(token: Token): string {
  switch (token.type) {
    case 'end':
      return 'the end';
    case 'number':
      return `number ${token.value}`;
    case 'string':
      return 'a string';
    default:
      return `"${token.value}"`;
  }
}
