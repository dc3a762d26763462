import type {
  Attributes,
  BatchObservableResult,
  Histogram,
  Meter,
  MeterProvider,
  ObservableCounter,
  ObservableGauge,
} from '@opentelemetry/api';
import { TelemetryConfigError } from '../base/errors.js';
import { EXPOSITION_SETTINGS, type ExpositionSettings } from '../metrics/facade.js';
import type { Collected } from '../metrics/registry.js';

/** What the bridge needs of a telemetry instance. */
export interface BridgeSource {
  readonly service: string;
  readonly metrics: {
    collect(): readonly Collected[];
    onObserve(listener: (metric: string, labels: Readonly<Record<string, string>>, value: number) => void): () => void;
  };
}

/** Options of {@link exportMetrics}. */
export interface OpenTelemetryMetricsOptions {
  /** The host's `MeterProvider`, set up with its readers and OTLP exporter. */
  readonly meterProvider: MeterProvider;
  /**
   * The meter (instrumentation scope) name.
   * @default 'mail-telemetry'
   */
  readonly meterName?: string;
  /**
   * Attributes added to every data point, such as `{ 'service.instance.id': 'mx1' }`.
   * @default {}
   */
  readonly attributes?: Attributes;
  /**
   * Exports counters that are still zero. Left out by default, as Stalwart does: of hundreds of
   * event counters most never fire on a given server, and each would be one more series in the
   * backend; a counter appears from its first increment (cumulative, so it stays).
   * @default false
   */
  readonly keepZeroCounters?: boolean;
}

/** A running bridge. */
export interface OpenTelemetryMetricsBridge {
  /** Stops forwarding; instruments already created stay with the provider. */
  stop(): void;
}

type Observable = ObservableCounter | ObservableGauge;

/** UCUM units for the registry's unit words, as OpenTelemetry's conventions write them. */
const UNITS: Readonly<Record<string, string>> = { milliseconds: 'ms', bytes: 'By', seconds: 's', events: '{event}' };

/**
 * A metric's OTLP unit: UCUM (`{event}`, `ms`, `By`), or, when the registry uses Stalwart's naming
 * (`metrics.naming: 'stalwart'`), the unit words Stalwart's own OTLP export sends (`events`,
 * `milliseconds`, `bytes`, `connections`, `messages`, ...), which are the registry's own.
 */
function unitOf(metric: Collected, stalwart: boolean): string {
  return stalwart ? metric.unit : (UNITS[metric.unit] ?? metric.unit);
}

/**
 * Exports the registry through an OpenTelemetry `MeterProvider`, so metrics ship over OTLP with
 * the host's own SDK setup.
 * - Counters (event counters and the host's) become observable monotonic sums: their cumulative
 *   value is read at each collection. Counters still at zero are left out (`keepZeroCounters`).
 * - Gauges become observable gauges.
 * - Histograms become OTel histograms with the same bucket bounds (`advice.explicitBucketBoundaries`);
 *   each observation made after the bridge starts is forwarded.
 * - Units are UCUM (`{event}`, `ms`, `By`); with `metrics: { naming: 'stalwart' }` they are
 *   Stalwart's (`events`, `milliseconds`, `bytes`, ...). Values are the registry's (ms, bytes) either way.
 * Metrics defined after the bridge starts are not exported; start it after defining them.
 */
export function exportMetrics(telemetry: BridgeSource, options: OpenTelemetryMetricsOptions): OpenTelemetryMetricsBridge {
  if (typeof options?.meterProvider?.getMeter !== 'function') {
    throw new TelemetryConfigError('options.meterProvider', options?.meterProvider, 'an OpenTelemetry MeterProvider');
  }
  if (options.meterName !== undefined && (typeof options.meterName !== 'string' || options.meterName === '')) {
    throw new TelemetryConfigError('options.meterName', options.meterName, 'a non-empty string');
  }
  if (options.attributes !== undefined && (typeof options.attributes !== 'object' || options.attributes === null)) {
    throw new TelemetryConfigError('options.attributes', options.attributes, 'an object of OpenTelemetry attributes');
  }
  if (options.keepZeroCounters !== undefined && typeof options.keepZeroCounters !== 'boolean') {
    throw new TelemetryConfigError('options.keepZeroCounters', options.keepZeroCounters, 'true or false');
  }
  const meter: Meter = options.meterProvider.getMeter(options.meterName ?? 'mail-telemetry');
  const settings = (telemetry.metrics as { readonly [EXPOSITION_SETTINGS]?: ExpositionSettings })[EXPOSITION_SETTINGS];
  const stalwart = settings?.naming === 'stalwart';
  const base = options.attributes ?? {};
  const keepZero = options.keepZeroCounters ?? false;
  const histograms = new Map<string, Histogram>();
  const observables = new Map<string, Observable>();
  for (const metric of telemetry.metrics.collect()) {
    const description = metric.help;
    const unit = unitOf(metric, stalwart);
    if (metric.kind === 'histogram') {
      const advice = { explicitBucketBoundaries: [...(metric.bounds ?? [])] };
      histograms.set(metric.name, meter.createHistogram(metric.name, { description, unit, advice }));
      continue;
    }
    const observable =
      metric.kind === 'counter'
        ? meter.createObservableCounter(metric.name, { description, unit })
        : meter.createObservableGauge(metric.name, { description, unit });
    observables.set(metric.name, observable);
  }
  // collect() is read afresh at each collection: event counter values are copies.
  const callback = (result: BatchObservableResult) => {
    for (const metric of telemetry.metrics.collect()) {
      const observable = observables.get(metric.name);
      if (observable === undefined) continue;
      const skipZero = !keepZero && metric.kind === 'counter';
      for (const series of metric.series) {
        if (!('value' in series) || (skipZero && series.value === 0)) continue;
        result.observe(observable, series.value, attributes(base, metric.labelNames, series.labels));
      }
    }
  };
  meter.addBatchObservableCallback(callback, [...observables.values()]);
  const stopObserving = telemetry.metrics.onObserve((metric, labels, value) => {
    histograms.get(metric)?.record(value, { ...base, ...labels });
  });
  return {
    stop() {
      stopObserving();
      meter.removeBatchObservableCallback(callback, [...observables.values()]);
    },
  };
}

function attributes(base: Attributes, names: readonly string[], values: readonly string[]): Attributes {
  if (names.length === 0) return base;
  const out: Attributes = { ...base };
  names.forEach((name, i) => {
    out[name] = values[i];
  });
  return out;
}
