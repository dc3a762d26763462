import { scalarJson } from '../base/json.js';
import { MAX_MATCHED_LENGTH, repeatsIn } from './regex.js';

/** How a label matcher compares: Prometheus' four operators. */
export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One `label op "value"` inside `name{...}`. */
export interface LabelMatcher {
  readonly label: string;
  readonly op: MatchOp;
  /** The value, or the pattern as written for `=~` and `!~`. */
  readonly value: string;
  /** The anchored pattern, compiled once when the expression is parsed (`=~` and `!~` only). */
  readonly regex?: RegExp;
  /** Offset of the label name in the expression. */
  readonly pos: number;
}

/**
 * The label-pattern work one rule's evaluation may still do. A pattern test of a value of n characters
 * costs (n + 1) to the power of the pattern's repeating quantifiers (at least 1): about the steps the
 * backtracking engine takes when the test fails. Remembered verdicts cost nothing.
 */
export interface LabelBudget {
  /** The most work units one evaluation of one rule may spend. */
  readonly limit: number;
  /** Work units spent so far in this evaluation. */
  spent: number;
  /** A test was refused for want of budget: the evaluation's result means nothing. */
  exhausted: boolean;
}

/**
 * Which series of a metric a reference reads, by their labels. Without a budget, tests are unbounded
 * (value length aside); with one, a test past it is refused and the budget marked exhausted.
 */
export type LabelFilter = (labels: Readonly<Record<string, string>>, budget?: LabelBudget) => boolean;

/** Distinct label values remembered per pattern; past it the memory starts afresh. */
const MEMO_SIZE = 1024;

/**
 * A filter that passes series whose labels all matchers accept; undefined for none (every series).
 * A label the series lacks reads as `""`, as in Prometheus.
 */
export function labelFilter(matchers: readonly LabelMatcher[]): LabelFilter | undefined {
  if (matchers.length === 0) return undefined;
  const tests = matchers.map(labelTest);
  return (labels, budget) => {
    for (const test of tests) if (!test(labels, budget)) return false;
    return true;
  };
}

function labelTest(m: LabelMatcher): LabelFilter {
  const { label, value } = m;
  switch (m.op) {
    case '=':
      return (labels) => read(labels, label) === value;
    case '!=':
      return (labels) => read(labels, label) !== value;
    default: {
      const test = memoised(m.regex as RegExp, repeatsIn(m.value));
      return m.op === '=~'
        ? (labels, budget) => test(read(labels, label), budget)
        : (labels, budget) => !test(read(labels, label), budget);
    }
  }
}

/**
 * Own properties only: a label named `constructor` must not read `Object.prototype`'s. A history
 * store's points may carry anything: a value that is not a string is matched as its JSON.
 */
function read(labels: Readonly<Record<string, string>>, label: string): string {
  if (!Object.hasOwn(labels, label)) return '';
  const value: unknown = labels[label];
  return typeof value === 'string' ? value : scalarJson(value);
}

/** The work units one test of a value of `length` characters costs against a pattern with `repeats`. */
export function testCost(length: number, repeats: number): number {
  return (length + 1) ** Math.max(1, repeats);
}

/**
 * Series keep their label values from one evaluation to the next: each is matched once. Past the
 * budget a value is not tested (and not remembered): the verdict is false and the budget exhausted.
 */
function memoised(regex: RegExp, repeats: number): (value: string, budget: LabelBudget | undefined) => boolean {
  const seen = new Map<string, boolean>();
  return (value, budget) => {
    let hit = seen.get(value);
    if (hit !== undefined) return hit;
    // A backtracking engine: the length bound keeps one test short, the budget keeps many of them short.
    if (value.length > MAX_MATCHED_LENGTH) hit = false;
    else {
      if (budget !== undefined) {
        const cost = testCost(value.length, repeats);
        if (budget.exhausted || budget.spent + cost > budget.limit) {
          budget.exhausted = true;
          return false;
        }
        budget.spent += cost;
      }
      hit = regex.test(value);
    }
    if (seen.size >= MEMO_SIZE) seen.clear();
    seen.set(value, hit);
    return hit;
  };
}

/** The matchers as written, for messages: `{reason="mailbox-full",webhook!~"test-.*"}`. */
export function showMatchers(matchers: readonly LabelMatcher[]): string {
  return `{${matchers.map((m) => `${m.label}${m.op}${JSON.stringify(m.value)}`).join(',')}}`;
}
