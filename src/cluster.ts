/**
 * `mail-telemetry/cluster`: one Prometheus scrape across the workers of a multi-process host
 * (Node's `cluster`, Haraka's `nodes`), over Node's own IPC channel.
 *
 * ```ts
 * import cluster from 'node:cluster';
 * import { createTelemetry } from 'mail-telemetry';
 * import { createClusterMetrics, shareMetricsWithPrimary } from 'mail-telemetry/cluster';
 *
 * if (cluster.isPrimary) {
 *   const metrics = createClusterMetrics();
 *   // mount metrics.handlers.prometheus on the primary's HTTP server, then fork
 * } else {
 *   const telemetry = createTelemetry();
 *   shareMetricsWithPrimary(telemetry);
 * }
 * ```
 * @packageDocumentation
 * @module mail-telemetry/cluster
 */
export { type ClusterMetrics, createClusterMetrics } from './cluster/cluster-metrics.js';
export type { ClusterMetricsOptions, ClusterModule, ShareMetricsOptions } from './cluster/options.js';
export { type ClusterWorkerTelemetry, type MetricsShare, shareMetricsWithPrimary } from './cluster/worker.js';
