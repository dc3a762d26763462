/**
 * Sums the metrics of several workers into one set of series. Counters and gauges add up per
 * label set; histograms add up bucket by bucket. Histograms whose bounds differ (a deploy changed
 * them, one worker runs another release) keep the bounds they all share: every bucket left is
 * exact, and so are `_sum`, `_count` and `+Inf`.
 */
import type { HistogramSeries, ValueSeries } from '../metrics/instruments.js';
import type { Collected } from '../metrics/registry.js';
import type { HistogramSample, MetricMeta, MetricSamples, ValueSample } from './decode.js';

interface ValueSlot {
  readonly labels: readonly string[];
  value: number;
}

interface HistogramSlot {
  readonly labels: readonly string[];
  bounds: readonly number[];
  cumulative: number[];
  sum: number;
  count: number;
}

interface Entry {
  readonly meta: MetricMeta;
  readonly series: Map<string, ValueSlot | HistogramSlot>;
}

/** Series summed from any number of contributions, by metric name and label values. */
export class Aggregate {
  readonly #metrics = new Map<string, Entry>();
  readonly #maxSeries: number;
  #series = 0;

  /** @param maxSeries - series past which new label sets are left out (existing ones still add up) */
  constructor(maxSeries = Number.POSITIVE_INFINITY) {
    this.#maxSeries = maxSeries;
  }

  /** True when nothing was added. */
  get empty(): boolean {
    return this.#metrics.size === 0;
  }

  /**
   * Adds a metric's series; with `extra`, each series gets one more label (`extra.name` =
   * `extra.value`), as per-worker gauges do. A contribution that disagrees with the metric as
   * first added (another kind, unit, naming or label names) is left out: false.
   */
  add(metric: MetricSamples, extra?: { readonly name: string; readonly value: string }): boolean {
    const meta = extra === undefined ? metric.meta : { ...metric.meta, labelNames: [...metric.meta.labelNames, extra.name] };
    let entry = this.#metrics.get(meta.name);
    if (entry === undefined) {
      entry = { meta, series: new Map() };
      this.#metrics.set(meta.name, entry);
    } else if (!sameShape(entry.meta, meta)) {
      return false;
    }
    const series = entry.series;
    if (metric.meta.kind === 'histogram') {
      for (const sample of metric.samples as readonly HistogramSample[]) {
        const labels = extra === undefined ? sample.labels : [...sample.labels, extra.value];
        const key = keyOf(labels);
        const slot = series.get(key) as HistogramSlot | undefined;
        if (slot !== undefined) addHistogram(slot, sample);
        else if (this.#room()) series.set(key, { ...sample, labels, cumulative: [...sample.cumulative] });
      }
    } else {
      for (const sample of metric.samples as readonly ValueSample[]) {
        const labels = extra === undefined ? sample.labels : [...sample.labels, extra.value];
        const key = keyOf(labels);
        const slot = series.get(key) as ValueSlot | undefined;
        if (slot !== undefined) slot.value += sample.value;
        else if (this.#room()) series.set(key, { labels, value: sample.value });
      }
    }
    return true;
  }

  #room(): boolean {
    if (this.#series >= this.#maxSeries) return false;
    this.#series++;
    return true;
  }

  /** Adds everything another aggregate holds. */
  addAll(other: Aggregate): void {
    for (const metric of other.metrics()) this.add(metric);
  }

  /** Every metric with its summed series, in the order they were first added. */
  metrics(): MetricSamples[] {
    const out: MetricSamples[] = [];
    for (const { meta, series } of this.#metrics.values()) {
      if (meta.kind === 'histogram') {
        const samples = [...series.values()] as HistogramSlot[];
        const bounds = samples.length === 0 ? meta.bounds : sharedBounds(samples);
        out.push({
          meta: { ...meta, kind: 'histogram', bounds },
          samples: samples.map((s) => ({ ...s, bounds, cumulative: project(s, bounds) })),
        });
      } else {
        out.push({ meta: meta as MetricMeta & { kind: 'counter' | 'gauge' }, samples: [...series.values()] as ValueSlot[] });
      }
    }
    return out;
  }
}

/** A metric as the exposition walks it: per-bucket (not cumulative) histogram counts. */
export function toCollected(metric: MetricSamples): Collected {
  const { meta } = metric;
  const base = {
    name: meta.name,
    kind: meta.kind,
    unit: meta.unit,
    help: meta.help,
    labelNames: meta.labelNames,
    builtin: meta.builtin,
    ...(meta.prometheusName === undefined ? {} : { prometheusName: meta.prometheusName }),
    ...(meta.exportName === undefined ? {} : { exportName: meta.exportName }),
  };
  if (metric.meta.kind !== 'histogram') {
    const series: ValueSeries[] = (metric.samples as readonly ValueSample[]).map((s) => ({ labels: s.labels, value: s.value }));
    return { ...base, series };
  }
  const series: HistogramSeries[] = (metric.samples as readonly HistogramSample[]).map((s) => {
    const counts = new Float64Array(s.cumulative.length);
    let previous = 0;
    for (let i = 0; i < counts.length; i++) {
      const running = s.cumulative[i] as number;
      counts[i] = running - previous;
      previous = running;
    }
    return { labels: s.labels, counts, sum: s.sum, count: s.count };
  });
  return { ...base, bounds: metric.meta.bounds, series };
}

function sameShape(a: MetricMeta, b: MetricMeta): boolean {
  return (
    a.kind === b.kind &&
    a.unit === b.unit &&
    a.builtin === b.builtin &&
    a.prometheusName === b.prometheusName &&
    a.labelNames.length === b.labelNames.length &&
    a.labelNames.every((name, i) => name === b.labelNames[i])
  );
}

function keyOf(labels: readonly string[]): string {
  return labels.length === 0 ? '' : JSON.stringify(labels);
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  return a === b || (a.length === b.length && a.every((bound, i) => bound === b[i]));
}

/** The bounds of `a` that `b` has too. */
function intersect(a: readonly number[], b: readonly number[]): number[] {
  const inB = new Set(b);
  return a.filter((bound) => inB.has(bound));
}

/** The bounds every series has (there is at least one). */
function sharedBounds(samples: readonly HistogramSlot[]): readonly number[] {
  let bounds = (samples[0] as HistogramSlot).bounds;
  for (const s of samples) if (!sameBounds(bounds, s.bounds)) bounds = intersect(bounds, s.bounds);
  return bounds;
}

/** The cumulative counts of `sample` at `bounds`, a subset of its own, then +Inf. */
function project(
  sample: { readonly bounds: readonly number[]; readonly cumulative: readonly number[] },
  bounds: readonly number[],
): number[] {
  if (sameBounds(sample.bounds, bounds)) return [...sample.cumulative];
  const index = new Map(sample.bounds.map((bound, i) => [bound, i]));
  const out = bounds.map((bound) => sample.cumulative[index.get(bound) as number] as number);
  out.push(sample.cumulative[sample.bounds.length] as number);
  return out;
}

function addHistogram(slot: HistogramSlot, sample: HistogramSample): void {
  if (!sameBounds(slot.bounds, sample.bounds)) {
    const bounds = intersect(slot.bounds, sample.bounds);
    slot.cumulative = project(slot, bounds);
    slot.bounds = bounds;
    const projected = project(sample, bounds);
    for (let i = 0; i < projected.length; i++) slot.cumulative[i] = (slot.cumulative[i] as number) + (projected[i] as number);
  } else {
    for (let i = 0; i < sample.cumulative.length; i++)
      slot.cumulative[i] = (slot.cumulative[i] as number) + (sample.cumulative[i] as number);
  }
  slot.sum += sample.sum;
  slot.count += sample.count;
}
