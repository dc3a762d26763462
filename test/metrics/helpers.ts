import { expect } from 'vitest';
import type { MetricSnapshot, MetricsSnapshot, SeriesSnapshot } from '../../src/index.js';

type ValueSnapshot = Extract<SeriesSnapshot, { readonly value: number }>;
type HistogramSnapshot = Exclude<SeriesSnapshot, ValueSnapshot>;

/** The metric `name` of a snapshot, or undefined. */
export function metricOf(snapshot: MetricsSnapshot, name: string): MetricSnapshot | undefined {
  return snapshot.metrics.find((m) => m.name === name);
}

/** The series of `name` whose labels equal `labels` (the only series of an unlabelled metric). */
export function seriesOf(snapshot: MetricsSnapshot, name: string, labels: Record<string, string> = {}): SeriesSnapshot {
  const metric = metricOf(snapshot, name);
  expect(metric, `metric ${name} in the snapshot`).toBeDefined();
  const series = metric?.series.find((s) => JSON.stringify(sorted(s.labels)) === JSON.stringify(sorted(labels)));
  expect(series, `series ${JSON.stringify(labels)} of ${name}`).toBeDefined();
  return series as SeriesSnapshot;
}

/** The value of a counter or gauge series. */
export function seriesValue(snapshot: MetricsSnapshot, name: string, labels?: Record<string, string>): number {
  const series = seriesOf(snapshot, name, labels);
  expect('value' in series, `${name} has a plain value`).toBe(true);
  return (series as ValueSnapshot).value;
}

/** A histogram series. */
export function histogramOf(snapshot: MetricsSnapshot, name: string, labels?: Record<string, string>): HistogramSnapshot {
  const series = seriesOf(snapshot, name, labels);
  expect('counts' in series, `${name} is a histogram`).toBe(true);
  return series as HistogramSnapshot;
}

function sorted(labels: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
}

/** Sample lines of an exposition, `name{labels} value`, by their name and labels part. */
export function samples(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), line.slice(at + 1));
  }
  return out;
}
