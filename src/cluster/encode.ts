/**
 * The worker's side of the wire format: its metrics as one compact answer, built straight from
 * the registry's live series with no intermediate objects per series.
 */
import type { HistogramSeries, ValueSeries } from '../metrics/instruments.js';
import type { Collected } from '../metrics/registry.js';
import type { MetaWire } from './protocol.js';

/** The descriptions from index `from` on, and every metric's values. */
export interface Encoded {
  readonly meta: MetaWire[];
  readonly values: (string | number)[][];
}

/**
 * The index of the first description the primary lacks: `known` when the primary holds the
 * descriptions of this very instance and the last one it holds names the same metric, else 0.
 */
export function firstUnknown(collected: readonly Collected[], sameInstance: boolean, known: number, last: string | null): number {
  if (!sameInstance || known > collected.length || known === 0) return 0;
  return collected[known - 1]?.name === last ? known : 0;
}

/** Encodes `collected`: descriptions of metrics `from` onwards, values of all. */
export function encode(collected: readonly Collected[], from: number): Encoded {
  const meta: MetaWire[] = [];
  const values: (string | number)[][] = new Array(collected.length);
  for (let i = 0; i < collected.length; i++) {
    const metric = collected[i] as Collected;
    if (i >= from) meta.push(describe(metric));
    values[i] = metric.kind === 'histogram' ? histogramValues(metric) : plainValues(metric);
  }
  return { meta, values };
}

function describe(metric: Collected): MetaWire {
  return {
    name: metric.name,
    kind: metric.kind,
    unit: metric.unit,
    help: metric.help,
    builtin: metric.builtin,
    prometheusName: metric.prometheusName ?? null,
    exportName: metric.exportName ?? null,
    labels: metric.labelNames,
    bounds: metric.kind === 'histogram' ? (metric.bounds ?? []) : null,
  };
}

function plainValues(metric: Collected): (string | number)[] {
  const series = metric.series as readonly ValueSeries[];
  // The common case, an unlabelled counter, is one number.
  if (metric.labelNames.length === 0) return series.length === 0 ? [] : [(series[0] as ValueSeries).value];
  const out: (string | number)[] = [];
  for (const s of series) {
    for (const label of s.labels) out.push(label);
    out.push(s.value);
  }
  return out;
}

function histogramValues(metric: Collected): (string | number)[] {
  const out: (string | number)[] = [];
  for (const s of metric.series as readonly HistogramSeries[]) {
    for (const label of s.labels) out.push(label);
    out.push(s.sum, s.count);
    const counts = s.counts;
    for (let i = 0; i < counts.length; i++) out.push(counts[i] as number);
  }
  return out;
}
