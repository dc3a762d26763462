import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelFilter } from '../../src/alerts/labels.js';
import { type Expr, type MetricRef, parseExpression } from '../../src/alerts/parser.js';
import { compilePattern, MAX_MATCHED_LENGTH, MAX_PATTERN_LENGTH } from '../../src/alerts/regex.js';
import { parseError, parsesOrPointsInside } from './helpers.js';

/** The first metric reference of an expression, wherever it sits. */
function ref(source: string): MetricRef {
  const find = (e: Expr): MetricRef | undefined => {
    switch (e.type) {
      case 'metric':
        return e;
      case 'window':
      case 'quantile':
        return e.metric;
      case 'unary':
        return find(e.operand);
      case 'binary':
        return find(e.left) ?? find(e.right);
      case 'call':
        return e.args.map(find).find((m) => m !== undefined);
      default:
        return undefined;
    }
  };
  return find(parseExpression(source)) as MetricRef;
}

const shown = (source: string): string[] => ref(source).matchers.map((m) => `${m.label} ${m.op} ${m.value}`);

/** A label set's verdict under the matchers of `source`. */
const passes = (source: string, labels: Record<string, string>): boolean =>
  (labelFilter(ref(source).matchers) ?? (() => true))(labels);

describe('label matchers: syntax', () => {
  it('follow a bare name or metric(…), in every function that takes a metric', () => {
    expect(shown('mail_mta_bounces{reason="mailbox-full"} > 1')).toEqual(['reason = mailbox-full']);
    expect(ref(`metric('telemetry.webhook-failed'){webhook='hook1'}`)).toMatchObject({
      name: 'telemetry.webhook-failed',
      exact: true,
      matchers: [{ label: 'webhook', op: '=', value: 'hook1', pos: 35 }],
    });
    expect(shown(`rate(a{x="1"}, '5m')`)).toEqual(['x = 1']);
    expect(shown(`increase(metric('a.b'){x!="1"}, '1h')`)).toEqual(['x != 1']);
    expect(shown(`avg_over(a { x =~ "1|2" , y !~ 'z.*' , }, '1h')`)).toEqual(['x =~ 1|2', 'y !~ z.*']);
    expect(shown(`p95(metric('a.b'){x="1"})`)).toEqual(['x = 1']);
    expect(shown('max(1, min(a{x="1"}))')).toEqual(['x = 1']);
    expect(shown('abs(-a{x="1"})')).toEqual(['x = 1']);
  });

  it('read every series with {} or no braces at all', () => {
    expect(ref('a{} > 1').matchers).toEqual([]);
    expect(ref("metric('a.b'){}").matchers).toEqual([]);
    expect(ref('a').matchers).toEqual([]);
  });

  it('take label values verbatim: no escapes, so a backslash is the regex’s own', () => {
    expect(shown(String.raw`a{x=~"\d+"}`)).toEqual([String.raw`x =~ \d+`]);
    expect(shown(`a{x="it's"}`)).toEqual(["x = it's"]);
    expect(shown(`a{x=""}`)).toEqual(['x = ']);
  });

  it('point at the problem with a column and a caret', () => {
    const e = parseError('a{reason=="x"} > 1');
    expect(e.message).toBe(
      'expected =, !=, =~ or !~ after label "reason" but found "==" at column 9 (write "=")\n  a{reason=="x"} > 1\n          ^',
    );
    expect(parseError('a{reason="x" > 1').message).toContain('expected "," or "}" but found ">" at column 14');
    expect(parseError('a{reason="x",').message).toContain('the label matchers at column 2 are not closed at column 14');
    expect(parseError('a{reason="x"').message).toContain('the label matchers at column 2 are not closed at column 13');
    expect(parseError('a{reason=x}').problem).toBe('expected a quoted label value but found "x"');
    expect(parseError('a{reason=x}').position).toBe(9);
    expect(parseError('a{reason=1}').problem).toBe('expected a quoted label value but found number 1');
    expect(parseError('a{"reason"="x"}').problem).toBe('expected a label name but found a string');
    expect(parseError('a{,}').position).toBe(2);
    expect(parseError('a{reason}').problem).toBe('expected =, !=, =~ or !~ after label "reason" but found "}"');
    expect(parseError('a{reason~"x"}').problem).toBe('unexpected character "~"');
    expect(parseError('(a){x="1"}').message).toContain("label matchers go right after a metric name or metric('…')");
    expect(parseError('1 =~ 2').problem).toBe('unexpected "=~"');
  });

  it('have one form after metric(…): the braces follow its parenthesis', () => {
    const e = parseError(`metric('a.b', {x="1"}) > 1`);
    expect(e.problem).toBe('metric() takes only the name');
    expect(e.position).toBe(12);
    expect(e.message).toContain(`label matchers follow the parenthesis: metric('a.b'){label="value"}`);
    expect(parseError(`metric('a.b'){x: "1"}`).message).toContain('a label matcher is written label="value"');
  });

  it('refuse more than 16 matchers in one reference', () => {
    const many = (n: number) => `a{${Array.from({ length: n }, (_, i) => `l${i}="v"`).join(',')}}`;
    expect(ref(many(16)).matchers).toHaveLength(16);
    const e = parseError(many(17));
    expect(e.problem).toBe('more than 16 label matchers');
    expect(e.position).toBe(many(17).indexOf('l16'));
  });

  it('keep the expression limits: length, and terms across references', () => {
    expect(parseError(`a{x="${'v'.repeat(5000)}"}`).problem).toBe('longer than 4096 characters');
    expect(parseError(Array.from({ length: 600 }, () => 'a{}').join('+')).problem).toBe('more than 512 terms');
  });
});

describe('label matchers: matching', () => {
  it('= and != compare whole values; a label a series lacks reads as ""', () => {
    expect(passes('a{x="1"}', { x: '1' })).toBe(true);
    expect(passes('a{x="1"}', { x: '10' })).toBe(false);
    expect(passes('a{x!="1"}', { x: '10' })).toBe(true);
    expect(passes('a{x=""}', {})).toBe(true);
    expect(passes('a{x!=""}', {})).toBe(false);
    expect(passes('a{x="1",y="2"}', { x: '1', y: '3' })).toBe(false);
    expect(passes('a{x="1",y="2"}', { x: '1', y: '2' })).toBe(true);
  });

  it('never reads a label from Object.prototype', () => {
    expect(passes('a{constructor=""}', {})).toBe(true);
    expect(passes('a{toString=~".+"}', {})).toBe(false);
  });

  it('=~ and !~ are anchored at both ends, as in Prometheus', () => {
    expect(passes('a{x=~"mail"}', { x: 'mailbox-full' })).toBe(false);
    expect(passes('a{x=~"mail.*"}', { x: 'mailbox-full' })).toBe(true);
    expect(passes('a{x=~"box"}', { x: 'mailbox' })).toBe(false);
    // Alternation stays inside the anchors: `^(?:a|b)$`, not `^a|b$`.
    expect(passes('a{x=~"full|quota"}', { x: 'mailbox-full' })).toBe(false);
    expect(passes('a{x=~"full|quota"}', { x: 'quota' })).toBe(true);
    expect(passes('a{x!~"test-.*"}', { x: 'test-1' })).toBe(false);
    expect(passes('a{x!~"test-.*"}', { x: 'prod-1' })).toBe(true);
    expect(passes('a{x=~""}', {})).toBe(true);
    expect(passes('a{x=~".+"}', {})).toBe(false);
    expect(passes('a{x=~"[0-9]+"}', { x: '4xx' })).toBe(false);
  });

  it('gives the same verdict when a value is matched again (results are remembered)', () => {
    const filter = labelFilter(ref('a{x=~"m.*"}').matchers);
    for (let i = 0; i < 3000; i++) expect(filter?.({ x: i % 2 === 0 ? `m${i}` : `n${i}` })).toBe(i % 2 === 0);
  });
});

describe('label matchers: regular expressions refused at configuration time', () => {
  it('an invalid pattern, with the engine’s reason', () => {
    const e = parseError('a{x=~"(mail"} > 1');
    expect(e.problem).toBe('invalid regular expression: Unterminated group');
    expect(e.position).toBe(6);
    expect(parseError('a{x!~"*"}').problem).toMatch(/^invalid regular expression: /);
    // An unbalanced ")" cannot break out of the anchoring group.
    expect(parseError('a{x=~"a)|(b"}').problem).toMatch(/^invalid regular expression: /);
  });

  it('a pattern longer than the cap', () => {
    const long = `a{x=~"${'a'.repeat(MAX_PATTERN_LENGTH + 1)}"}`;
    expect(parseError(long).problem).toBe(`regular expression longer than ${MAX_PATTERN_LENGTH} characters`);
    expect(ref(`a{x=~"${'a'.repeat(MAX_PATTERN_LENGTH)}"}`).matchers).toHaveLength(1);
  });

  it('nested quantifiers and repeated alternations, with the caret on the outer quantifier', () => {
    for (const pattern of ['(a+)+', '(a*)*', '(a|aa)+', '(.*a){3}', '((ab)*c)+', '(?:x+y)*', '(?<n>a?)+', '([a-z]+\\.)+com']) {
      const e = parseError(`a{x=~"${pattern}"}`);
      expect(e.problem, pattern).toBe('a repeated group holds a quantifier or "|", which can take exponential time');
    }
    expect(parseError('a{x=~"(a+)+"}').position).toBe(10);
    expect(parseError('a{x=~"(a+){2,}"}').position).toBe(10);
  });

  it('more than two repeating quantifiers, which cost value length ^ k on a failing match', () => {
    const e = parseError('a{x=~".*a.*b(d)+"}');
    expect(e.problem).toBe('more than 2 repeating quantifiers (*, +, {n,m}) in one pattern, which can take polynomial time');
    expect(e.position).toBe(15);
    expect(e.message).toContain('split it into several matchers on the label, which must all match');
    expect(parseError(`a{x=~"a{2,}b*c+d{1,3}"}`).position).toBe(14);
    // `?`, `{1}` and `{0,1}` do not repeat; the workaround is several matchers, all of which must match.
    expect(ref('a{x=~".*a.*b?c{1}d{0,1}", x=~".*e.*"}').matchers).toHaveLength(2);
  });

  it('backreferences and lookarounds (RE2 has neither)', () => {
    expect(parseError(String.raw`a{x=~"(a)\1"}`).problem).toBe('backreferences are not supported in label patterns');
    expect(parseError(String.raw`a{x=~"(?<n>a)\k<n>"}`).position).toBe(13);
    for (const look of ['(?=a)a', '(?!a)b', '(?<=a)b', '(?<!a)b'])
      expect(parseError(`a{x=~"${look}"}`).problem).toBe('lookarounds are not supported in label patterns');
  });

  it('accepts the patterns label matching needs', () => {
    for (const pattern of [
      'mailbox-full|quota-exceeded',
      '5..',
      '(mx|smtp)[0-9]+',
      '(?:hook)?[0-9]*',
      '(ab)?c+',
      '(ab){2}',
      '[(+*)]+',
      String.raw`\(a+\)+`,
      String.raw`\p{L}+`,
      '.*-test',
      '',
    ]) {
      expect(compilePattern(pattern), pattern).toBeInstanceOf(RegExp);
    }
  });

  it('stays fast on a hostile pattern that is allowed: every value is matched once', () => {
    // Polynomial at worst once nesting is refused; the check itself is linear in the pattern.
    const pattern = compilePattern(`${'a*'.repeat(2)}b`) as RegExp;
    expect(pattern.test(`${'a'.repeat(MAX_MATCHED_LENGTH)}c`)).toBe(false);
  });

  it('never tests a pattern against a value longer than the bound: =~ is false and !~ true there', () => {
    const long = 'a'.repeat(MAX_MATCHED_LENGTH + 1);
    const matches = labelFilter(ref('a{x=~"a+"}').matchers);
    const excludes = labelFilter(ref('a{x!~"a+"}').matchers);
    expect(matches?.({ x: 'a'.repeat(MAX_MATCHED_LENGTH) })).toBe(true);
    expect(matches?.({ x: long })).toBe(false);
    expect(excludes?.({ x: long })).toBe(true);
  });
});

describe('label matchers: fuzzing', () => {
  const pieces = fc.constantFrom(
    'a',
    'q_count',
    "metric('a.b')",
    '{',
    '}',
    ',',
    '=',
    '!=',
    '=~',
    '!~',
    '~',
    '"',
    "'",
    '"x"',
    '"(a+)+"',
    '"(?=a)"',
    '"[a-"',
    '"\\1"',
    '"(a|b)*"',
    '".*"',
    '(',
    ')',
    '+',
    '*',
    '?',
    '|',
    '\\',
    ' ',
    'rate(',
    "'5m'",
    'p95(',
    '>',
    '1',
  );

  it('random matcher text parses or throws an ExpressionError, and never hangs', () => {
    const matchers = fc.array(pieces, { maxLength: 60 }).map((p) => `a{${p.join('')}`);
    const anywhere = fc.array(pieces, { maxLength: 80 }).map((p) => p.join(''));
    fc.assert(fc.property(fc.oneof(matchers, anywhere), parsesOrPointsInside), { numRuns: 3000 });
  });

  it('random patterns compile, or are refused with an offset inside them; accepted ones stay anchored', () => {
    const chars = fc.constantFrom(
      'a',
      'b',
      '.',
      '*',
      '+',
      '?',
      '|',
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      '2',
      ',',
      '\\',
      '^',
      '$',
      '-',
      ':',
      '<',
      '>',
      '=',
      '!',
    );
    fc.assert(
      fc.property(
        fc.array(chars, { maxLength: 40 }).map((c) => c.join('')),
        (pattern) => {
          const out = compilePattern(pattern);
          if (out instanceof RegExp) {
            expect(out.source.startsWith('^(?:')).toBe(true);
            // Nothing accepted can backtrack badly on a short hostile value.
            out.test(`${'a'.repeat(24)}!`);
          } else {
            expect(out.offset).toBeGreaterThanOrEqual(0);
            expect(out.offset).toBeLessThanOrEqual(pattern.length);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
