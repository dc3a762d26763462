import { nearest } from '../base/errors.js';
import { avgOver, increase, rate, type SeriesPoint } from '../history/series.js';
import { currentName, STALWART_015_ALIASES } from '../stalwart/names.js';
import { ExpressionError } from './errors.js';
import { type LabelBudget, showMatchers } from './labels.js';
import type { BinaryOp, Expr, MetricRef, WindowFunction } from './parser.js';
import { pickPoints, selectorFor } from './select.js';
import { type MetricValue, quantile, scalar, selectSeries } from './values.js';

type Kind = MetricValue['kind'];

/** What one evaluation reads: the current values and the history's points of the windowed metrics. */
export interface Env {
  readonly now: number;
  readonly values: ReadonlyMap<string, MetricValue>;
  /** Points of `metric` covering the longest window any rule asked for. */
  points(metric: string): readonly SeriesPoint[];
  /** Called for a metric that is not in the registry (a host metric not created yet): it reads as NaN. */
  missing(metric: string): void;
  /** A metric's label names; undefined while it is not in the registry. */
  labelNames(metric: string): readonly string[] | undefined;
  /** Reports, once per rule and `key`, why a reference reads as NaN. */
  warn(key: string, reason: string, details?: string): void;
  /** The label-pattern work left to the rule under evaluation. */
  readonly budget: LabelBudget;
}

/** A window a rule reads from the history. */
export interface WindowUse {
  readonly metric: string;
  readonly windowMs: number;
}

/** A bound, ready-to-run condition. */
export interface Compiled {
  /**
   * Runs the condition: `value` is the left side of its first comparison (reached through `&&`, `||`,
   * `^` and `!`), else the condition's own value.
   */
  run(env: Env): { readonly active: boolean; readonly value: number };
  readonly metrics: readonly string[];
  readonly windows: readonly WindowUse[];
}

type Fn = (env: Env) => number;

const WINDOW_FNS: Readonly<Record<WindowFunction, typeof rate>> = { rate, increase, avg_over: avgOver };
const COMPARISONS = new Set<BinaryOp>(['<', '<=', '>', '>=', '==', '!=']);

/** A number as a truth value: zero and NaN are false. */
export const truthy = (x: number): boolean => x !== 0 && !Number.isNaN(x);

/** Replaces what Stalwart replaces in its variable names: every non-alphanumeric character. */
export const sanitise = (name: string): string => name.replace(/[^A-Za-z0-9]/g, '_');

/** The names a condition may use, prepared once for every rule bound against them. */
export interface BindScope {
  /** Registry metric name -> kind. */
  readonly known: ReadonlyMap<string, Kind>;
  /** Sanitised name -> registry name. */
  readonly bySanitised: ReadonlyMap<string, string>;
  /** Catalogue events that have no counter, and so no value: by name and by sanitised name. */
  readonly uncounted: ReadonlyMap<string, string>;
  /** Registry metric name -> label names; label matchers on a metric left out are not checked. */
  readonly labels: ReadonlyMap<string, readonly string[]>;
}

export function bindScope(
  known: ReadonlyMap<string, Kind>,
  uncountedEvents: Iterable<string> = [],
  labels: ReadonlyMap<string, readonly string[]> = new Map(),
): BindScope {
  const bySanitised = new Map<string, string>();
  for (const name of known.keys()) if (!bySanitised.has(sanitise(name))) bySanitised.set(sanitise(name), name);
  // Stalwart 0.15's names of renamed events (queue_queue_message) read the renamed counters.
  for (const [old, now] of Object.entries(STALWART_015_ALIASES)) {
    if (known.has(now) && !bySanitised.has(sanitise(old))) bySanitised.set(sanitise(old), now);
  }
  const uncounted = new Map<string, string>();
  for (const name of uncountedEvents) {
    if (known.has(name)) continue;
    uncounted.set(name, name);
    uncounted.set(sanitise(name), name);
  }
  return { known, bySanitised, uncounted, labels };
}

/**
 * Binds metric references to registry names and builds closures. A bare name must be known;
 * `metric('...')` may name a host metric created later, but not an event that has no counter.
 */
export function compile(expr: Expr, source: string, scope: BindScope): Compiled {
  const { known, bySanitised } = scope;
  const metrics = new Set<string>();
  const windows: WindowUse[] = [];
  // The comparison whose left side is the alert's value, as `$value` is the sample in Prometheus.
  const probe = leftmostComparison(expr);
  const slot = { value: Number.NaN };

  const resolve = (ref: MetricRef): string => {
    if (ref.exact) {
      if (!known.has(ref.name) && scope.uncounted.has(ref.name)) throw uncountedError(ref);
      const exact = known.has(ref.name) ? ref.name : currentName(ref.name);
      metrics.add(exact);
      return exact;
    }
    const name = bySanitised.get(ref.name);
    if (name === undefined && scope.uncounted.has(ref.name)) throw uncountedError(ref);
    if (name === undefined) {
      const near = nearest(ref.name, [...bySanitised.keys()]);
      const hint = near.length > 0 ? `nearest: ${near.join(', ')}` : "a host metric not created yet is named with metric('…')";
      throw new ExpressionError(`unknown metric ${JSON.stringify(ref.name)}`, source, ref.pos, hint);
    }
    metrics.add(name);
    return name;
  };

  const uncountedError = (ref: MetricRef): ExpressionError =>
    new ExpressionError(`${scope.uncounted.get(ref.name)} is an event without a counter, so it has no value`, source, ref.pos);

  /** The current value a reference reads: every series, or those its matchers pick; undefined reads NaN. */
  const reader = (ref: MetricRef, name: string): ((env: Env) => MetricValue | undefined) => {
    const { filter, ready } = selectorFor(ref, name, scope, source);
    return (env) => {
      const metric = env.values.get(name);
      if (metric === undefined) {
        env.missing(name);
        return undefined;
      }
      if (filter === undefined) return metric;
      if (ready !== undefined && !ready(env)) return undefined;
      return selectSeries(metric, filter, env.budget);
    };
  };

  const needKind = (ref: MetricRef, name: string, kinds: readonly Kind[], what: string): void => {
    const kind = known.get(name);
    if (kind !== undefined && !kinds.includes(kind))
      throw new ExpressionError(`${what} needs a ${kinds.join(' or ')}, and ${name} is a ${kind}`, source, ref.pos);
  };

  const build = (node: Expr): Fn => {
    switch (node.type) {
      case 'number': {
        const value = node.value;
        return () => value;
      }
      case 'metric': {
        const read = reader(node, resolve(node));
        return (env) => {
          const metric = read(env);
          return metric === undefined ? Number.NaN : scalar(metric);
        };
      }
      case 'quantile': {
        const name = resolve(node.metric);
        needKind(node.metric, name, ['histogram'], `p${Math.round(node.q * 100)}`);
        const read = reader(node.metric, name);
        const q = node.q;
        return (env) => {
          const metric = read(env);
          return metric === undefined ? Number.NaN : quantile(q, metric.bounds, metric.counts);
        };
      }
      case 'window': {
        const name = resolve(node.metric);
        const kinds: readonly Kind[] = node.fn === 'avg_over' ? ['gauge', 'histogram'] : ['counter', 'histogram'];
        needKind(node.metric, name, kinds, node.fn);
        const { filter, ready } = selectorFor(node.metric, name, scope, source);
        const windowMs = node.windowMs;
        const fn = WINDOW_FNS[node.fn];
        windows.push({ metric: name, windowMs });
        if (filter === undefined) return (env) => fn(env.points(name), windowMs, env.now);
        const where = showMatchers(node.metric.matchers);
        return (env) => {
          if (ready !== undefined && !ready(env)) return Number.NaN;
          const points = pickPoints(env, name, where, filter);
          return points === undefined ? Number.NaN : fn(points, windowMs, env.now);
        };
      }
      case 'unary': {
        const operand = build(node.operand);
        return node.op === '-' ? (env) => -operand(env) : (env) => (truthy(operand(env)) ? 0 : 1);
      }
      case 'call': {
        const args = node.args.map(build);
        if (node.fn === 'abs') {
          const x = args[0] as Fn;
          return (env) => Math.abs(x(env));
        }
        const pick = node.fn === 'min' ? Math.min : Math.max;
        return (env) => {
          let out = (args[0] as Fn)(env);
          for (let i = 1; i < args.length; i++) out = pick(out, (args[i] as Fn)(env));
          return out;
        };
      }
      case 'binary': {
        const left = build(node.left);
        const right = build(node.right);
        if (node !== probe) return binary(node.op, left, right);
        const test = comparison(node.op);
        return (env) => {
          const value = left(env);
          slot.value = value;
          return test(value, right(env)) ? 1 : 0;
        };
      }
    }
  };

  const fn = build(expr);
  const run: Compiled['run'] =
    probe === undefined
      ? (env) => {
          const value = fn(env);
          return { active: truthy(value), value };
        }
      : (env) => {
          slot.value = Number.NaN;
          const active = truthy(fn(env));
          return { active, value: slot.value };
        };
  return { run, metrics: [...metrics], windows };
}

/** The first comparison reached through `&&`, `||`, `^` and `!`: it is always evaluated. */
function leftmostComparison(expr: Expr): Expr | undefined {
  let node = expr;
  for (;;) {
    if (node.type === 'unary' && node.op === '!') node = node.operand;
    else if (node.type === 'binary' && COMPARISONS.has(node.op)) return node;
    else if (node.type === 'binary' && (node.op === '&&' || node.op === '||' || node.op === '^')) node = node.left;
    else return undefined;
  }
}

function comparison(op: BinaryOp): (a: number, b: number) => boolean {
  switch (op) {
    case '<':
      return (a, b) => a < b;
    case '<=':
      return (a, b) => a <= b;
    case '>':
      return (a, b) => a > b;
    case '>=':
      return (a, b) => a >= b;
    case '==':
      return (a, b) => a === b;
    default:
      return (a, b) => a !== b;
  }
}

function binary(op: BinaryOp, l: Fn, r: Fn): Fn {
  switch (op) {
    case '+':
      return (env) => l(env) + r(env);
    case '-':
      return (env) => l(env) - r(env);
    case '*':
      return (env) => l(env) * r(env);
    case '/':
      return (env) => l(env) / r(env);
    case '%':
      return (env) => l(env) % r(env);
    case '&&':
      return (env) => (truthy(l(env)) && truthy(r(env)) ? 1 : 0);
    case '||':
      return (env) => (truthy(l(env)) || truthy(r(env)) ? 1 : 0);
    case '^':
      return (env) => (truthy(l(env)) !== truthy(r(env)) ? 1 : 0);
    default: {
      const test = comparison(op);
      return (env) => (test(l(env), r(env)) ? 1 : 0);
    }
  }
}
