import type { Catalog } from '../catalog/catalog.js';

/**
 * What the core needs from a metrics registry on the emit path: which event counters are on, and
 * which events feed a gauge or histogram. The metrics mechanism implements it; the core knows no more.
 */
export interface Meter {
  /** True when the counter or metric `name` is exposed (include and exclude lists). */
  active(name: string): boolean;
  /** True when event `id` feeds a gauge or histogram. */
  feeds(id: number): boolean;
  /** Feeds the gauges and histograms of event `id` with its data. */
  feed(id: number, data: unknown): void;
  /**
   * The registry counter `name`, made on first call: for losses a consumer counts itself (such as
   * the OpenTelemetry batch processors' drops).
   */
  counter(name: string, options: LossCounterOptions): LossCounter;
}

/** How a consumer's loss counter is described in the registry. */
export interface LossCounterOptions {
  readonly help: string;
  readonly unit: string;
  readonly labels: readonly string[];
}

/** A registry counter, updated with its labels by name. */
export interface LossCounter {
  inc(labels: Readonly<Record<string, string>>, value?: number): void;
}

/** Builds the meter once the catalogue is known; `counts` are the event counters the core increments. */
export type MeterFactory = (
  catalog: Catalog,
  counts: Float64Array,
  rejected: (metric: string, reason: string, value: unknown) => void,
) => Meter;
