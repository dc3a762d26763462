import type { SeriesPoint } from '../history/series.js';
import type { BindScope, Env } from './compile.js';
import { ExpressionError } from './errors.js';
import { type LabelFilter, type LabelMatcher, labelFilter } from './labels.js';
import type { MetricRef } from './parser.js';

/** How a metric reference picks its series. */
export interface Selector {
  /** Undefined: every series. */
  readonly filter: LabelFilter | undefined;
  /** For a host metric not created yet: checks its labels once it exists; false reads NaN. */
  readonly ready: ((env: Env) => boolean) | undefined;
}

const NO_SELECTOR: Selector = { filter: undefined, ready: undefined };

function unknownLabel(source: string, name: string, names: readonly string[], m: LabelMatcher): ExpressionError {
  if (names.length === 0) return new ExpressionError(`${name} has no labels, so it takes no label matchers`, source, m.pos);
  return new ExpressionError(`${name} has no label ${JSON.stringify(m.label)}`, source, m.pos, `its labels: ${names.join(', ')}`);
}

/** Checks, once the metric exists, that it has the labels the matchers name; until then the reference reads NaN. */
function lateLabelCheck(name: string, matchers: readonly LabelMatcher[]): (env: Env) => boolean {
  let verdict: boolean | undefined;
  return (env) => {
    if (verdict !== undefined) return verdict;
    const names = env.labelNames(name);
    if (names === undefined) return true;
    const unknown = matchers.find((m) => !names.includes(m.label));
    verdict = unknown === undefined;
    if (unknown !== undefined)
      env.warn(
        `${name}{${unknown.label}}`,
        `metric ${JSON.stringify(name)} has no label ${JSON.stringify(unknown.label)}; the condition reads it as NaN`,
        names.length > 0 ? `its labels: ${names.join(', ')}` : 'it has no labels',
      );
    return verdict;
  };
}

/** The history's points of the series the matchers pick; undefined when the store kept no labels to pick by. */
export function pickPoints(env: Env, name: string, where: string, filter: LabelFilter): SeriesPoint[] | undefined {
  const picked: SeriesPoint[] = [];
  for (const p of env.points(name)) {
    const labels: unknown = p.labels;
    if (typeof labels !== 'object' || labels === null) {
      env.warn(
        `${name} points without labels`,
        `the history store returned points of ${name} without labels, so ${name}${where} reads NaN`,
        'the store must keep each SeriesPoint.labels, as the memory and SQLite stores do',
      );
      return undefined;
    }
    if (filter(p.labels, env.budget)) picked.push(p);
  }
  return picked;
}

/**
 * The reference's label filter once its labels are known to exist (a configuration error if not),
 * and, for a host metric not created yet, the same check at run time.
 */
export function selectorFor(ref: MetricRef, name: string, scope: BindScope, source: string): Selector {
  if (ref.matchers.length === 0) return NO_SELECTOR;
  const filter = labelFilter(ref.matchers) as LabelFilter;
  const names = scope.labels.get(name);
  if (names !== undefined) {
    const unknown = ref.matchers.find((m) => !names.includes(m.label));
    if (unknown !== undefined) throw unknownLabel(source, name, names, unknown);
    return { filter, ready: undefined };
  }
  return { filter, ready: scope.known.has(name) ? undefined : lateLabelCheck(name, ref.matchers) };
}
