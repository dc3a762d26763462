import nodeCluster from 'node:cluster';
import type { RequestHandler } from '../http/handler.js';
import type { ExpositionFormat } from '../metrics/exposition.js';
import { clusterPrometheusHandler } from './handler.js';
import { type ClusterMetricsOptions, resolveClusterOptions } from './options.js';
import { ClusterAggregator } from './primary.js';

/** The primary's view of its workers' metrics. */
export interface ClusterMetrics {
  /**
   * Asks every connected worker for its metrics, waits at most `timeout` ms, and renders their sum
   * with the primary's own `mail_telemetry_cluster_*` metrics. Concurrent calls share one round of
   * requests. Never rejects.
   * @param format - @default 'text'
   */
  prometheus(format?: ExpositionFormat): Promise<string>;
  /** Request handlers to mount on the primary's HTTP server. */
  readonly handlers: {
    /** The scrape of the whole host: text 0.0.4 or OpenMetrics by `Accept`; Basic auth if configured. */
    readonly prometheus: RequestHandler;
  };
  /** Stops listening to the cluster; later scrapes render what is held without asking the workers. */
  close(): void;
}

/**
 * Creates the primary's aggregation of its workers' metrics, which the workers share with
 * {@link shareMetricsWithPrimary}. Call it once in the primary, before or after forking.
 *
 * - Counters are summed; histograms are merged bucket by bucket (on the bounds all workers share,
 *   when they differ); gauges are summed, or kept per worker with `gauges: 'per-worker'`.
 * - A worker that exits or restarts leaves its last counters and histograms in a retained total,
 *   so no counter goes backwards; its gauges are dropped.
 * - A worker that does not answer within `timeout` is counted in
 *   `mail_telemetry_cluster_workers_missing`; its gauges are left out of that scrape and its counters
 *   held at their last values.
 *
 * Every option is checked here: a bad one throws a `TelemetryConfigError` naming it, and so does
 * a call in a worker process.
 */
export function createClusterMetrics(options?: ClusterMetricsOptions): ClusterMetrics {
  const resolved = resolveClusterOptions(options, nodeCluster);
  const aggregator = new ClusterAggregator(resolved);
  const prometheus = (format?: ExpositionFormat) => aggregator.prometheus(format);
  return {
    prometheus,
    handlers: { prometheus: clusterPrometheusHandler((format) => aggregator.scrape(format), resolved.auth) },
    close: () => aggregator.close(),
  };
}
