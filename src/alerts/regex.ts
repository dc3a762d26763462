/** Longest regular expression a label matcher accepts, in characters. */
export const MAX_PATTERN_LENGTH = 256;
/** Most repeating quantifiers in one pattern: k of them in a row can cost value length^k on a failing match. */
export const MAX_REPEATS = 2;
/**
 * Longest label value a pattern is tested against: with {@link MAX_REPEATS} repeats a failing match
 * then costs about a million steps at most. A longer value never matches `=~` (and so matches `!~`).
 */
export const MAX_MATCHED_LENGTH = 1024;

/** Why a label pattern is refused; `offset` is where in the pattern, from 0. */
export interface PatternProblem {
  readonly offset: number;
  readonly problem: string;
  readonly hint?: string;
}

/**
 * Compiles a label matcher's pattern, anchored at both ends as Prometheus does (`^(?:re)$`).
 * JavaScript's engine backtracks, so patterns that can take exponential time are refused up front:
 * a repeated group that holds a quantifier or `|` (`(a+)+`, `(a|b)*`), more than
 * {@link MAX_REPEATS} repeating quantifiers (`.*a.*b.*`), backreferences and lookarounds (which
 * RE2, and so Prometheus, lacks too).
 */
export function compilePattern(pattern: string): RegExp | PatternProblem {
  if (pattern.length > MAX_PATTERN_LENGTH)
    return { offset: 0, problem: `regular expression longer than ${MAX_PATTERN_LENGTH} characters` };
  // Compiled alone first, so that an unbalanced `)` cannot break out of the anchoring group.
  try {
    new RegExp(pattern, 'u');
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split(': ').at(-1) ?? error.message) : String(error);
    return { offset: 0, problem: `invalid regular expression: ${reason}` };
  }
  const unsafe = scan(pattern);
  if (typeof unsafe !== 'number') return unsafe;
  return new RegExp(`^(?:${pattern})$`, 'u');
}

interface Group {
  /** It holds a quantifier or an alternation. */
  branching: boolean;
}

/**
 * How many repeating quantifiers a pattern that {@link compilePattern} accepts holds: a failing test
 * of a value of n characters costs the engine about n to that power (n for none).
 */
export function repeatsIn(pattern: string): number {
  const scanned = scan(pattern);
  return typeof scanned === 'number' ? scanned : MAX_REPEATS;
}

/** The first construct that risks catastrophic backtracking, else the count of repeating quantifiers. Assumes `pattern` compiles. */
function scan(pattern: string): PatternProblem | number {
  const stack: Group[] = [{ branching: false }];
  let repeats = 0;
  const tooMany = (offset: number): PatternProblem => ({
    offset,
    problem: `more than ${MAX_REPEATS} repeating quantifiers (*, +, {n,m}) in one pattern, which can take polynomial time`,
    hint: 'split it into several matchers on the label, which must all match',
  });
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    const top = stack.at(-1) as Group;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9k]/.test(next))
        return { offset: i, problem: 'backreferences are not supported in label patterns', hint: 'Prometheus has none either' };
      i += 2;
      continue;
    }
    if (c === '[') {
      i = classEnd(pattern, i + 1);
      continue;
    }
    if (c === '(') {
      if (/^\(\?<?[=!]/.test(pattern.slice(i, i + 4)))
        return { offset: i, problem: 'lookarounds are not supported in label patterns', hint: 'Prometheus has none either' };
      stack.push({ branching: false });
      // Skip a group's `?:` or `?<name>` so its `?` is not taken for a quantifier.
      const body = pattern[i + 1] === '?' ? pattern.slice(i).search(/[:>]/) : -1;
      i += body > 0 ? body + 1 : 1;
      continue;
    }
    if (c === ')') {
      const group = stack.length > 1 ? (stack.pop() as Group) : { branching: false };
      const q = quantifierAt(pattern, i + 1);
      if (q?.repeats && group.branching)
        return {
          offset: i + 1,
          problem: 'a repeated group holds a quantifier or "|", which can take exponential time',
          hint: 'spell the repetition out: \\d+\\.\\d+\\. rather than (\\d+\\.){2}',
        };
      if (q?.repeats && ++repeats > MAX_REPEATS) return tooMany(i + 1);
      const parent = stack.at(-1) as Group;
      parent.branching ||= group.branching || q !== undefined;
      i += 1 + (q?.length ?? 0);
      continue;
    }
    if (c === '|') {
      top.branching = true;
      i++;
      continue;
    }
    const q = quantifierAt(pattern, i);
    if (q !== undefined) {
      if (q.repeats && ++repeats > MAX_REPEATS) return tooMany(i);
      top.branching = true;
      i += q.length;
      continue;
    }
    i++;
  }
  return repeats;
}

/** The index after the character class that starts before `from`. */
function classEnd(pattern: string, from: number): number {
  let i = from;
  while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
  return i + 1;
}

const BRACES = /\{(\d+)(,(\d*))?\}\??/y;

/** A quantifier at `i` (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each maybe lazy): its length and whether it repeats. */
function quantifierAt(pattern: string, i: number): { readonly length: number; readonly repeats: boolean } | undefined {
  const c = pattern[i];
  if (c === '*' || c === '+' || c === '?') return { length: pattern[i + 1] === '?' ? 2 : 1, repeats: c !== '?' };
  if (c !== '{') return undefined;
  BRACES.lastIndex = i;
  const m = BRACES.exec(pattern);
  if (m === null) return undefined;
  const most = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
  return { length: m[0].length, repeats: most > 1 };
}
