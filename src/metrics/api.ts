import type { CoreContext } from '../core/mechanism.js';
import type { ExpositionFormat } from './exposition.js';
import type { CounterMetric, GaugeMetric, HistogramMetric } from './instruments.js';
import type { Collected, HistogramOptions, MetricOptions, MetricsSnapshot } from './registry.js';

/** A host metric name, `category.kebab-name` like event names; checked again at run time. */
/** What each mechanism gets when the instance is created: the core's context and the metrics registry. */
export interface MechanismContext extends CoreContext {
  /** The metrics registry (define the mechanism's own metrics here). */
  readonly metrics: MetricsApi;
}

export type MetricName = `${string}.${string}`;

/** `telemetry.metrics`: event counters, the catalogue's gauges and histograms, and the host's metrics. */
export interface MetricsApi<
  EventNames extends string = string,
  Gauges extends string = string,
  Histograms extends string = string,
> {
  /** How many times a counter-flagged event has been emitted since start. */
  eventCount(name: EventNames): number;
  /** Every counter-flagged event with its count. */
  eventCounts(): Record<string, number>;
  /** The host's counter `name`, created on first call; label names are typed from `options.labels`. */
  counter<const L extends string = never>(name: MetricName, options: MetricOptions<L>): CounterMetric<L>;
  /** A built-in gauge, such as `user.count`, which the host sets. */
  gauge(name: Gauges): GaugeMetric;
  /** The host's gauge `name`, created on first call. */
  gauge<const L extends string = never>(name: MetricName, options: MetricOptions<L>): GaugeMetric<L>;
  /** A built-in histogram, such as `smtp.request-time`. */
  histogram(name: Histograms): HistogramMetric;
  /** The host's histogram `name`, created on first call. */
  histogram<const L extends string = never>(name: MetricName, options: HistogramOptions<L>): HistogramMetric<L>;
  /**
   * Every value as plain data, or only the metrics named in `names` (names that match no active
   * metric are left out).
   * @param names - @default every active metric
   */
  snapshot(names?: Iterable<string>): MetricsSnapshot;
  /**
   * The exposition text: Prometheus text format 0.0.4 (`text`) or OpenMetrics 1.0.
   * @param format - @default 'text'
   */
  prometheus(format?: ExpositionFormat): string;
  /** Every active metric with its live series, for exporters. Histogram `counts` are per bucket, not cumulative. */
  collect(): readonly Collected[];
  /** Calls `listener` with each histogram observation from now on; returns the function that stops it. */
  onObserve(listener: (metric: string, labels: Readonly<Record<string, string>>, value: number) => void): () => void;
  /** Updates refused for bad values or labels, and updates sent to overflow series. */
  stats(): { readonly rejected: number; readonly overflowed: number };
}
