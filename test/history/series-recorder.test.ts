/**
 * The series recorder keeps each series' totals in place between snapshots. Against a model that
 * rebuilds them from scratch every snapshot, it must give the same points for any run of snapshots:
 * series that appear, vanish and come back, counters that reset, histograms, gauges and patterns.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchPattern } from '../../src/base/patterns.js';
import { type SeriesPoint, SeriesRecorder } from '../../src/history/series.js';
import type { MetricSnapshot, MetricsSnapshot, SeriesSnapshot } from '../../src/metrics/registry.js';

/** The recorder as a plain function of the previous snapshot's totals. */
function model(patterns: readonly string[]) {
  let previous: Map<string, { value: number; count: number }> | undefined;
  return (snapshot: MetricsSnapshot, timestamp: number): SeriesPoint[] => {
    const points: SeriesPoint[] = [];
    const next = new Map<string, { value: number; count: number }>();
    for (const metric of snapshot.metrics) {
      if (!patterns.some((p) => matchPattern(p, metric.name))) continue;
      for (const series of metric.series) {
        const { labels } = series;
        if (metric.kind === 'gauge') {
          if ('value' in series) points.push({ metric: metric.name, kind: 'gauge', labels, timestamp, value: series.value });
          continue;
        }
        const key = `${metric.name} ${JSON.stringify(labels)}`;
        const value = 'value' in series ? series.value : series.sum;
        const count = 'value' in series ? 0 : series.count;
        next.set(key, { value, count });
        if (previous === undefined) continue;
        const before = previous.get(key);
        const fresh = before === undefined || value < before.value || count < before.count;
        const dv = fresh ? value : value - before.value;
        const dc = fresh ? count : count - before.count;
        if (metric.kind === 'counter') {
          if (dv !== 0) points.push({ metric: metric.name, kind: 'counter', labels, timestamp, value: dv });
        } else if (dc !== 0) points.push({ metric: metric.name, kind: 'histogram', labels, timestamp, value: dv, count: dc });
      }
    }
    previous = next;
    return points;
  };
}

const NAMES = ['smtp.connection-start', 'queue.count', 'delivery.total-time', 'app.jobs'] as const;
const KINDS: Record<(typeof NAMES)[number], MetricSnapshot['kind']> = {
  'smtp.connection-start': 'counter',
  'queue.count': 'gauge',
  'delivery.total-time': 'histogram',
  'app.jobs': 'counter',
};

const labelSets = fc.constantFrom<Readonly<Record<string, string>>[]>([{}], [{ kind: 'a' }, { kind: 'b' }], [{}, { kind: 'a' }]);

/** One snapshot: each metric present or not, each of its series present or not, with small totals. */
const snapshotOf = (labels: Readonly<Record<string, string>>[]) =>
  fc
    .array(
      fc.record({
        name: fc.constantFrom(...NAMES),
        series: fc.array(fc.record({ labels: fc.constantFrom(...labels), value: fc.nat(6), count: fc.nat(4) }), {
          maxLength: 3,
        }),
      }),
      { maxLength: 4 },
    )
    .map((metrics): MetricsSnapshot => {
      const seen = new Set<string>();
      const out: MetricSnapshot[] = [];
      for (const { name, series } of metrics) {
        if (seen.has(name)) continue;
        seen.add(name);
        const kind = KINDS[name];
        const keys = new Set<string>();
        const list: SeriesSnapshot[] = [];
        for (const s of series) {
          const key = JSON.stringify(s.labels);
          if (keys.has(key)) continue;
          keys.add(key);
          list.push(
            kind === 'histogram'
              ? { labels: { ...s.labels }, bounds: [1], counts: [s.count, s.count], sum: s.value, count: s.count }
              : { labels: { ...s.labels }, value: s.value },
          );
        }
        out.push({ name, kind, unit: '', help: '', series: list });
      }
      return { timestamp: 0, metrics: out };
    });

describe('SeriesRecorder', () => {
  it('gives the points of a model that rebuilds every total from the previous snapshot', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(['*'], ['smtp.*', 'delivery.*'], ['queue.count', 'app.jobs']),
        labelSets.chain((labels) => fc.array(snapshotOf(labels), { minLength: 1, maxLength: 12 })),
        (patterns, snapshots) => {
          const recorder = new SeriesRecorder(patterns);
          const expected = model(patterns);
          snapshots.forEach((snapshot, i) => {
            expect(recorder.record(snapshot, i * 1000)).toEqual(expected(snapshot, i * 1000));
          });
        },
      ),
    );
  });
});
