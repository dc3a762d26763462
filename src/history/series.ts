/**
 * The metric-series contract shared by history (which records it) and alerts (which reads it through
 * window functions).
 */
import { matchPattern } from '../base/patterns.js';
import type { MetricsSnapshot } from '../metrics/registry.js';

/** One metric's value over one snapshot interval. */
export interface SeriesPoint {
  /** The registry's metric name: `smtp.connection-start`, `queue.count`, `delivery.total-time`, ... */
  readonly metric: string;
  readonly kind: 'counter' | 'gauge' | 'histogram';
  /** The series' labels; `{}` for unlabelled metrics. */
  readonly labels: Readonly<Record<string, string>>;
  /** The snapshot time that ends the interval, in epoch ms. */
  readonly timestamp: number;
  /** Counter: the increase during the interval. Gauge: the value at `timestamp`. Histogram: the sum observed during the interval. */
  readonly value: number;
  /** Histogram only: the observations counted during the interval. */
  readonly count?: number;
  /** The node (process or machine) whose history holds the point, as stores give it back. */
  readonly node?: string;
}

/** Which series points to read. */
export interface SeriesQuery {
  /** Metric names; omitted means every recorded metric. */
  readonly metrics?: readonly string[];
  /** Inclusive lower bound on `timestamp`, epoch ms. */
  readonly from?: number;
  /** Inclusive upper bound on `timestamp`, epoch ms. */
  readonly to?: number;
  /** Only the points of this node (a store's `node` option). */
  readonly node?: string;
}

/** Sum of per-interval increases (counter) or observation counts (histogram) with `timestamp` in `(now - window, now]`. */
export function increase(points: readonly SeriesPoint[], windowMs: number, now: number): number {
  let total = 0;
  for (const p of points)
    if (p.timestamp > now - windowMs && p.timestamp <= now) total += p.kind === 'histogram' ? (p.count ?? 0) : p.value;
  return total;
}

/** Per-second rate over the window: `increase / (window in seconds)`. */
export function rate(points: readonly SeriesPoint[], windowMs: number, now: number): number {
  return windowMs > 0 ? increase(points, windowMs, now) / (windowMs / 1000) : 0;
}

/** Mean over the window: of gauge values, or of histogram sums divided by counts; NaN when the window is empty. */
export function avgOver(points: readonly SeriesPoint[], windowMs: number, now: number): number {
  let sum = 0;
  let n = 0;
  for (const p of points) {
    if (p.timestamp <= now - windowMs || p.timestamp > now) continue;
    if (p.kind === 'histogram') {
      sum += p.value;
      n += p.count ?? 0;
    } else {
      sum += p.value;
      n += 1;
    }
  }
  return n === 0 ? Number.NaN : sum / n;
}

/** A series' cumulative totals at the last snapshot that had it. */
interface Totals {
  value: number;
  count: number;
  /** The snapshot that last had the series: one that lost it forgets its totals. */
  seen: number;
}

/** Turns registry snapshots into series points: counter and histogram deltas, gauge values. */
export class SeriesRecorder {
  readonly #patterns: readonly string[];
  /** Metric name -> whether the patterns take it: matched once per name, not once per snapshot. */
  readonly #taken = new Map<string, boolean>();
  /** Cumulative value (and histogram count) of each series, updated in place each snapshot. */
  readonly #previous = new Map<string, Totals>();
  /**
   * One labels object per series, shared by all its points: a snapshot makes new ones, and a
   * point kept for days should not keep its own copy.
   */
  readonly #labels = new Map<string, Readonly<Record<string, string>>>();
  #snapshots = 0;

  constructor(patterns: readonly string[]) {
    this.#patterns = patterns;
  }

  /**
   * The points of the interval ending at `timestamp`. The first call only sets the baseline and
   * returns no counter or histogram points. Zero increases are left out: a missing point means no change.
   */
  record(snapshot: MetricsSnapshot, timestamp: number): SeriesPoint[] {
    const points: SeriesPoint[] = [];
    const baseline = this.#snapshots === 0;
    const stamp = ++this.#snapshots;
    let kept = 0;
    for (const metric of snapshot.metrics) {
      if (!this.#takes(metric.name)) continue;
      for (const series of metric.series) {
        // An unlabelled series is keyed by its metric's name, which holds no NUL: no JSON per series and snapshot.
        const key = isEmpty(series.labels) ? metric.name : `${metric.name}\u0000${JSON.stringify(series.labels)}`;
        let labels = this.#labels.get(key);
        if (labels === undefined) {
          labels = series.labels;
          this.#labels.set(key, labels);
        }
        if (metric.kind === 'gauge') {
          if ('value' in series) points.push({ metric: metric.name, kind: 'gauge', labels, timestamp, value: series.value });
          continue;
        }
        const value = 'value' in series ? series.value : series.sum;
        const count = 'value' in series ? 0 : series.count;
        kept++;
        const before = this.#previous.get(key);
        // A series new or back since the last snapshot, or whose total fell (it was reset): all it holds is new.
        const fresh = before === undefined || before.seen !== stamp - 1;
        const reset = fresh || value < before.value || count < before.count;
        const dv = reset ? value : value - before.value;
        const dc = reset ? count : count - before.count;
        if (before === undefined) this.#previous.set(key, { value, count, seen: stamp });
        else {
          before.value = value;
          before.count = count;
          before.seen = stamp;
        }
        if (baseline) continue;
        if (metric.kind === 'counter') {
          if (dv !== 0) points.push({ metric: metric.name, kind: 'counter', labels, timestamp, value: dv });
        } else if (dc !== 0) {
          points.push({ metric: metric.name, kind: 'histogram', labels, timestamp, value: dv, count: dc });
        }
      }
    }
    if (kept < this.#previous.size) {
      for (const [key, totals] of this.#previous) if (totals.seen !== stamp) this.#previous.delete(key);
    }
    return points;
  }

  #takes(name: string): boolean {
    let taken = this.#taken.get(name);
    if (taken === undefined) {
      taken = this.#patterns.some((p) => matchPattern(p, name));
      this.#taken.set(name, taken);
    }
    return taken;
  }
}

function isEmpty(labels: Readonly<Record<string, string>>): boolean {
  for (const _ in labels) return false;
  return true;
}
