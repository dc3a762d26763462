import { MAX_MATCHED_LENGTH } from './regex.js';

/** How a label matcher compares: Prometheus' four operators. */
export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One `label op "value"` inside `name{…}`. */
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

/** Which series of a metric a reference reads, by their labels. */
export type LabelFilter = (labels: Readonly<Record<string, string>>) => boolean;

/** Distinct label values remembered per pattern; past it the memory starts afresh. */
const MEMO_SIZE = 1024;

/**
 * A filter that passes series whose labels all matchers accept; undefined for none (every series).
 * A label the series lacks reads as `""`, as in Prometheus.
 */
export function labelFilter(matchers: readonly LabelMatcher[]): LabelFilter | undefined {
  if (matchers.length === 0) return undefined;
  const tests = matchers.map(labelTest);
  return (labels) => {
    for (const test of tests) if (!test(labels)) return false;
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
      const test = memoised(m.regex as RegExp);
      return m.op === '=~' ? (labels) => test(read(labels, label)) : (labels) => !test(read(labels, label));
    }
  }
}

/** Own properties only: a label named `constructor` must not read `Object.prototype`'s. */
function read(labels: Readonly<Record<string, string>>, label: string): string {
  return Object.hasOwn(labels, label) ? String(labels[label]) : '';
}

/** Series keep their label values from one evaluation to the next: each is matched once. */
function memoised(regex: RegExp): (value: string) => boolean {
  const seen = new Map<string, boolean>();
  return (value) => {
    let hit = seen.get(value);
    if (hit === undefined) {
      if (seen.size >= MEMO_SIZE) seen.clear();
      // A backtracking engine: the length bound is what keeps one test short.
      hit = value.length <= MAX_MATCHED_LENGTH && regex.test(value);
      seen.set(value, hit);
    }
    return hit;
  };
}

/** The matchers as written, for messages: `{reason="mailbox-full",webhook!~"test-.*"}`. */
export function showMatchers(matchers: readonly LabelMatcher[]): string {
  return `{${matchers.map((m) => `${m.label}${m.op}${JSON.stringify(m.value)}`).join(',')}}`;
}
