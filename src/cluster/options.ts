import type { Cluster } from 'node:cluster';
import { TelemetryConfigError } from '../base/errors.js';
import { boolean, duration, oneOf, section } from '../base/validate.js';
import type { BasicCredentials } from '../http/auth.js';
import { resolveMetricsOptions } from '../metrics/options.js';
import { labelName } from './decode.js';

/** What the primary uses of Node's `cluster` module. */
export type ClusterModule = Pick<Cluster, 'isPrimary' | 'workers' | 'on' | 'off'>;

/** Options of {@link createClusterMetrics}. */
export interface ClusterMetricsOptions {
  /**
   * Milliseconds a scrape waits for each worker's answer. A worker that has not answered by then
   * is left out of that scrape's gauges and counted in `mail_telemetry_cluster_workers_missing`;
   * its counters and histograms stay at the last values it sent, so that none goes backwards.
   * @default 1000
   */
  readonly timeout?: number;
  /**
   * How the gauges of several workers merge. `'sum'` adds them up (connections, queue sizes,
   * memory of the whole host); `'per-worker'` keeps one series per worker, labelled with its
   * `cluster` worker id. Counters and histograms are always summed.
   * @default 'sum'
   */
  readonly gauges?: 'sum' | 'per-worker';
  /**
   * The label that names the worker of a gauge in `'per-worker'` mode. A gauge that already has
   * a label of that name (or a default label) is summed instead.
   * @default 'worker'
   */
  readonly workerLabel?: string;
  /**
   * Basic auth required by `handlers.prometheus`, compared in constant time.
   * @default undefined (no auth)
   */
  readonly auth?: { readonly username: string; readonly password: string };
  /**
   * The `cluster` module whose workers are scraped.
   * @default the `node:cluster` module
   */
  readonly cluster?: ClusterModule;
}

/** Options of {@link shareMetricsWithPrimary}. */
export interface ShareMetricsOptions {
  /**
   * Push one last snapshot to the primary when the telemetry shuts down or `close()` is called,
   * so that the increments since the last scrape are not lost when the worker exits.
   * @default true
   */
  readonly finalSnapshot?: boolean;
}

/** Validated {@link ClusterMetricsOptions}. */
export interface ResolvedClusterOptions {
  readonly timeout: number;
  readonly gauges: 'sum' | 'per-worker';
  readonly workerLabel: string;
  readonly auth: BasicCredentials | undefined;
  readonly cluster: ClusterModule;
}

const KEYS = new Set(['timeout', 'gauges', 'workerLabel', 'auth', 'cluster']);

/** Validates the primary's options; a bad one throws a `TelemetryConfigError` naming it. */
export function resolveClusterOptions(value: unknown, fallback: ClusterModule): ResolvedClusterOptions {
  const o = section(value, 'options', KEYS);
  const timeout = duration(o.timeout, 'options.timeout', 1000, 1);
  const gauges = oneOf(o.gauges, 'options.gauges', 'sum', ['sum', 'per-worker']);
  const workerLabel = o.workerLabel === undefined ? 'worker' : o.workerLabel;
  if (typeof workerLabel !== 'string' || !labelName(workerLabel)) {
    throw new TelemetryConfigError('options.workerLabel', workerLabel, 'a label name (letters, digits, _; not le or __*)');
  }
  // The metrics options' own check, so that both say the same of the same credentials.
  const auth = resolveMetricsOptions({ auth: o.auth }, 'options').auth;
  const cluster = o.cluster === undefined ? fallback : o.cluster;
  if (!isClusterModule(cluster)) {
    throw new TelemetryConfigError('options.cluster', cluster, 'the cluster module (node:cluster), with on, off and workers');
  }
  if (cluster.isPrimary === false) {
    throw new TelemetryConfigError(
      'options.cluster',
      'a worker',
      'the cluster module of the primary process',
      'workers call shareMetricsWithPrimary',
    );
  }
  return { timeout, gauges, workerLabel, auth, cluster };
}

/** Validates the worker's options. */
export function resolveShareOptions(value: unknown): { readonly finalSnapshot: boolean } {
  const o = section(value, 'options', ['finalSnapshot']);
  return { finalSnapshot: boolean(o.finalSnapshot, 'options.finalSnapshot', true) };
}

function isClusterModule(value: unknown): value is ClusterModule {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Partial<Record<keyof ClusterModule, unknown>>;
  return typeof c.on === 'function' && typeof c.off === 'function';
}
