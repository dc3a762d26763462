import type { Catalog } from '../catalog/catalog.js';
import type { MetricsApi } from './api.js';
import type { HistogramOptions, MetricOptions, MetricsRegistry } from './registry.js';

/** `telemetry.metrics`: the registry, with the core's event counters read by name. */
export function metricsApi(registry: MetricsRegistry, catalog: Catalog, counts: Float64Array): MetricsApi {
  return {
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
    snapshot: () => registry.snapshot(),
    prometheus: (format = 'text') => registry.prometheus(format),
    stats: () => registry.stats(),
    collect: () => registry.collect(),
    onObserve: (listener) => registry.onObserve(listener),
  };
}
