import { TelemetryConfigError } from '../base/errors.js';
import type { Catalog } from '../catalog/catalog.js';
import type { MetricsApi } from './api.js';
import type { ResolvedMetricsOptions } from './options.js';
import type { HistogramOptions, MetricOptions, MetricsRegistry } from './registry.js';

/** What names and labels an instance's exposition: `mail-telemetry/cluster` renders workers' metrics with it. */
export type ExpositionSettings = Pick<ResolvedMetricsOptions, 'naming' | 'prefix' | 'defaultLabels' | 'exportNames' | 'stalwart'>;

/**
 * The key of `telemetry.metrics`'s {@link ExpositionSettings}. Not enumerable, so that neither
 * `util.inspect` nor JSON shows it, and not exported by the package.
 */
export const EXPOSITION_SETTINGS: unique symbol = Symbol('mail-telemetry.expositionSettings');

/** `telemetry.metrics`: the registry, with the core's event counters read by name. */
export function metricsApi(registry: MetricsRegistry, catalog: Catalog, counts: Float64Array): MetricsApi {
  const api: MetricsApi = {
    eventCount: (name) => {
      const event = catalog.get(name);
      return event === undefined ? 0 : (counts[event.id] ?? 0);
    },
    eventCounts: () => {
      const out: Record<string, number> = {};
      for (const event of catalog.events) if (event.counter) out[event.name] = counts[event.id] ?? 0;
      return out;
    },
    counter: (name, options) => registry.counter(name, options),
    gauge: (name: string, options?: MetricOptions<string>) => registry.gauge(name, options),
    histogram: (name: string, options?: HistogramOptions<string>) => registry.histogram(name, options),
    snapshot: (names) => registry.snapshot(names === undefined ? undefined : nameSet(names)),
    prometheus: (format = 'text') => registry.prometheus(format),
    stats: () => registry.stats(),
    collect: () => registry.collect(),
    onObserve: (listener) => registry.onObserve(listener),
  };
  const { naming, prefix, defaultLabels, exportNames, stalwart } = registry.options;
  Object.defineProperty(api, EXPOSITION_SETTINGS, {
    value: { naming, prefix, defaultLabels, exportNames, stalwart } satisfies ExpositionSettings,
  });
  return api;
}

/** The names a caller passed, as a set: one string is one name, and an entry that is no string names no metric. */
function nameSet(names: Iterable<string>): ReadonlySet<string> {
  if (typeof names === 'string') return new Set([names]);
  if (typeof (names as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] !== 'function') {
    throw new TelemetryConfigError('names', names, 'metric names: a string or an iterable of strings');
  }
  const out = new Set<string>();
  for (const name of names) if (typeof name === 'string') out.add(name);
  return out;
}
