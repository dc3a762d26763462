import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpressionError } from '../../src/alerts/errors.js';
import { type Expr, parseExpression } from '../../src/alerts/parser.js';
import { parseError, parsesOrPointsInside } from './helpers.js';

/** The AST as compact text, to check precedence and associativity. */
function show(e: Expr): string {
  switch (e.type) {
    case 'number':
      return String(e.value);
    case 'metric':
      return e.exact ? `metric(${e.name})` : e.name;
    case 'unary':
      return `(${e.op}${show(e.operand)})`;
    case 'binary':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'call':
      return `${e.fn}(${e.args.map(show).join(', ')})`;
    case 'window':
      return `${e.fn}(${show(e.metric)}, ${e.windowMs})`;
    case 'quantile':
      return `q${e.q}(${show(e.metric)})`;
  }
}

describe('the alert expression parser', () => {
  it('reads numbers with "_" separators, fractions and exponents', () => {
    expect(show(parseExpression('1_000_000'))).toBe('1000000');
    expect(show(parseExpression('2.5e3'))).toBe('2500');
    expect(show(parseExpression('1_024.5'))).toBe('1024.5');
  });

  it('gives operators the usual precedence; ^ is xor, below &&', () => {
    expect(show(parseExpression('1 + 2 * 3 - 4 % 3'))).toBe('((1 + (2 * 3)) - (4 % 3))');
    expect(show(parseExpression('a || b ^ c && d'))).toBe('(a || (b ^ (c && d)))');
    expect(show(parseExpression('a > 1 && b <= 2 || c != 3'))).toBe('(((a > 1) && (b <= 2)) || (c != 3))');
    expect(show(parseExpression('x = 1'))).toBe('(x == 1)');
    expect(show(parseExpression('-a * !b'))).toBe('((-a) * (!b))');
    expect(show(parseExpression('(1 + 2) * 3'))).toBe('((1 + 2) * 3)');
    expect(show(parseExpression('10 - 4 - 3'))).toBe('((10 - 4) - 3)');
  });

  it('reads metric references, window functions, percentiles and min, max, abs', () => {
    expect(show(parseExpression("metric('smtp.connection-start') > 3"))).toBe('(metric(smtp.connection-start) > 3)');
    expect(show(parseExpression("rate(smtp_connection_start, '5m')"))).toBe('rate(smtp_connection_start, 300000)');
    expect(show(parseExpression(`increase(metric("queue.count"), '15m')`))).toBe('increase(metric(queue.count), 900000)');
    expect(show(parseExpression("avg_over(delivery_total_time, '1h')"))).toBe('avg_over(delivery_total_time, 3600000)');
    expect(show(parseExpression('p95(delivery_total_time)'))).toBe('q0.95(delivery_total_time)');
    expect(show(parseExpression("p999(metric('smtp.request-time'))"))).toBe('q0.999(metric(smtp.request-time))');
    expect(show(parseExpression('max(a, b, 3) - min(c) + abs(-d)'))).toBe('((max(a, b, 3) - min(c)) + abs((-d)))');
  });

  it('points at the problem with a column and a caret', () => {
    const e = parseError('queue_count > (1 +');
    expect(e.position).toBe(18);
    expect(e.message).toBe('the expression ends too early at column 19\n  queue_count > (1 +\n                    ^');
    const unclosed = parseError('(a > 1 && b');
    expect(unclosed.message).toContain('the parenthesis at column 1 is not closed');
    expect(parseError('a > 1)').message).toContain('unbalanced parenthesis');
    expect(parseError('a & b').message).toContain('write "&&"');
    expect(parseError('rate(a, 5m)').message).toContain("a duration is a string, such as '5m'");
    expect(parseError("rate(a, '5 parsecs')").excerpt).toBe("  rate(a, '5 parsecs')\n          ^");
    expect(parseError('1__0').problem).toBe('malformed number');
    expect(parseError('10_').problem).toBe('malformed number');
    expect(parseError('a b').message).toContain('an operator is missing');
    expect(parseError("'text' > 1").problem).toContain('a string is only allowed');
    expect(parseError('eval(1)').problem).toBe('unknown function "eval"');
    expect(parseError('abs(1, 2)').problem).toBe('abs takes one argument');
    expect(parseError('min()').problem).toBe('min takes one or more arguments');
    expect(parseError('p95(1)').problem).toBe('p95 needs a metric name first');
    expect(parseError('p0(a)').problem).toBe('p0 is not a percentile');
    expect(parseError('metric(a)').problem).toContain('metric() takes a quoted metric name');
    expect(parseError("'unterminated").problem).toBe('unterminated string');
    expect(parseError('').problem).toBe('empty expression');
    expect(parseError('1e999').problem).toBe('number out of range');
  });

  it('shows a window of a long expression and never prints control characters', () => {
    const long = `${'a + '.repeat(40)}# + ${'b + '.repeat(40)}c`;
    const e = parseError(long);
    expect(e.excerpt.split('\n')[0]).toMatch(/^ {2}….*…$/);
    const caretLine = e.excerpt.split('\n')[1] as string;
    expect(e.excerpt.split('\n')[0]?.[caretLine.indexOf('^')]).toBe('#');
    expect(parseError('a >\u0007 1 $').excerpt.split('\n')[0]).not.toMatch(/\p{Cc}/u);
  });

  it('refuses expressions beyond the length, depth and node limits', () => {
    expect(parseError('1'.repeat(5000)).problem).toBe('longer than 4096 characters');
    expect(parseError(`${'('.repeat(100)}1${')'.repeat(100)}`).problem).toBe('nested deeper than 32 levels');
    expect(parseError(`${'-'.repeat(100)}1`).problem).toBe('nested deeper than 32 levels');
    expect(parseError(`${'abs('.repeat(40)}1${')'.repeat(40)}`).problem).toBe('nested deeper than 32 levels');
    expect(parseError(Array.from({ length: 600 }, () => '1').join('+')).problem).toBe('more than 512 terms');
    expect(parseExpression(Array.from({ length: 200 }, () => '1').join('+'))).toBeDefined();
  });

  it('never crashes or hangs on arbitrary input: it parses or throws an ExpressionError', () => {
    const pieces = fc.constantFrom(
      'a',
      'queue_count',
      '1',
      '1_0',
      '.',
      '(',
      ')',
      ',',
      '+',
      '-',
      '*',
      '/',
      '%',
      '^',
      '!',
      '&&',
      '||',
      '&',
      '|',
      '<',
      '>=',
      '=',
      '!=',
      ' ',
      "'5m'",
      "'",
      '"',
      'rate',
      'metric',
      'p95',
      'min',
      'abs',
      '{',
      '}',
      '=~',
      '!~',
      '"x"',
      '"(a+)+"',
      '\n',
      '💥',
    );
    const source = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.array(pieces, { maxLength: 80 }).map((p) => p.join('')),
    );
    fc.assert(fc.property(source, parsesOrPointsInside), { numRuns: 3000 });
  });

  it('stays cheap on hostile nesting and long flat input', () => {
    for (const text of ['('.repeat(4096), '!'.repeat(4096), 'abs('.repeat(1000), `${'1+'.repeat(2047)}1`, "'".repeat(4096)]) {
      expect(() => parseExpression(text)).toThrow(ExpressionError);
    }
  });
});
