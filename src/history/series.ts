/**
 * The metric-series contract shared by history (which records it) and alerts (which reads it through
 * window functions).
 */

/** One metric's value over one snapshot interval. */
export interface SeriesPoint {
  /** The registry's metric name: `smtp.connection-start`, `queue.count`, `delivery.total-time`, … */
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
}

/** Which series points to read. */
export interface SeriesQuery {
  /** Metric names; omitted means every recorded metric. */
  readonly metrics?: readonly string[];
  /** Inclusive lower bound on `timestamp`, epoch ms. */
  readonly from?: number;
  /** Inclusive upper bound on `timestamp`, epoch ms. */
  readonly to?: number;
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
