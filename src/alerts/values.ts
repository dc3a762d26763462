import type { MetricsSnapshot, SeriesSnapshot } from '../metrics/registry.js';
import type { LabelBudget, LabelFilter } from './labels.js';

/** One metric's current value, its labelled series added together. */
export interface MetricValue {
  readonly kind: 'counter' | 'gauge' | 'histogram';
  /** Counter and gauge: the value. Histogram: the sum of observations. */
  readonly value: number;
  /** Histogram only. */
  readonly count: number;
  readonly bounds: readonly number[];
  /** Histogram only: cumulative counts per bound, the last one +Inf. */
  readonly counts: readonly number[];
  /** Every series of the metric (also in a value picked by label matchers), for matchers to pick from. */
  readonly series: readonly SeriesSnapshot[];
}

const NONE: readonly number[] = [];

/** Metric name -> current value, built once per evaluation from one snapshot. */
export function valuesOf(snapshot: MetricsSnapshot): Map<string, MetricValue> {
  const out = new Map<string, MetricValue>();
  for (const metric of snapshot.metrics) out.set(metric.name, sum(metric.kind, metric.series, undefined) as MetricValue);
  return out;
}

/** The value of the series that `filter` passes; undefined when it passes none, so a reader can say NaN. */
export function selectSeries(metric: MetricValue, filter: LabelFilter, budget?: LabelBudget): MetricValue | undefined {
  return sum(metric.kind, metric.series, filter, budget);
}

/** Adds series together; without a filter, even none of them (a labelled metric with no series yet reads 0). */
function sum(
  kind: MetricValue['kind'],
  all: readonly SeriesSnapshot[],
  filter: LabelFilter | undefined,
  budget?: LabelBudget,
): MetricValue | undefined {
  let value = 0;
  let count = 0;
  let bounds = NONE;
  let counts: number[] | undefined;
  let matched = 0;
  for (const series of all) {
    if (filter !== undefined && !filter(series.labels, budget)) continue;
    matched++;
    if ('counts' in series) {
      value += series.sum;
      count += series.count;
      if (counts === undefined) {
        bounds = series.bounds;
        counts = [...series.counts];
      } else {
        for (let i = 0; i < counts.length; i++) counts[i] = (counts[i] as number) + (series.counts[i] ?? 0);
      }
    } else {
      value += series.value;
    }
  }
  if (filter !== undefined && matched === 0) return undefined;
  return { kind, value, count, bounds, counts: counts ?? NONE, series: all };
}

/** A bare histogram is its average, as in Stalwart: NaN before any observation. */
export function scalar(metric: MetricValue): number {
  if (metric.kind !== 'histogram') return metric.value;
  return metric.count === 0 ? Number.NaN : metric.value / metric.count;
}

/**
 * The q-quantile from cumulative buckets, interpolated linearly inside the bucket as Prometheus'
 * `histogram_quantile` does; NaN without observations.
 */
export function quantile(q: number, bounds: readonly number[], counts: readonly number[]): number {
  const total = counts.at(-1) ?? 0;
  if (total === 0 || bounds.length === 0) return Number.NaN;
  const rank = q * total;
  let i = 0;
  while (i < counts.length - 1 && (counts[i] as number) < rank) i++;
  // In the +Inf bucket the best answer is the highest finite bound.
  if (i >= bounds.length) return bounds.at(-1) as number;
  const upper = bounds[i] as number;
  const lower = i === 0 ? Math.min(0, upper) : (bounds[i - 1] as number);
  if (i === 0 && upper <= 0) return upper;
  const below = i === 0 ? 0 : (counts[i - 1] as number);
  const inBucket = (counts[i] as number) - below;
  return inBucket === 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
}
