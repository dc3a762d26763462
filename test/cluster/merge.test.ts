/**
 * The merge rules and the checks of a worker's answer, in process: what several workers' series
 * sum to, what happens to histograms whose bounds differ, and that no answer a worker can send
 * throws or makes the exposition invalid (fast-check over arbitrary answers).
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAnswer, decodeMeta, decodeSeries, type MetricMeta, type MetricSamples } from '../../src/cluster/decode.js';
import { encode, firstUnknown } from '../../src/cluster/encode.js';
import { Aggregate } from '../../src/cluster/merge.js';
import { ClusterExposition, DEFAULT_SETTINGS, type ScrapeCounts } from '../../src/cluster/render.js';
import { createTelemetry } from '../../src/index.js';
import { needsProgram } from '../support/needs-program.js';
import { samples } from './helpers.js';

const COUNTS: ScrapeCounts = { workers: 2, missing: 0, missed: 0, retired: 0, rejected: 0 };

function meta(name: string, kind: MetricMeta['kind'], extra: Partial<MetricMeta> = {}): MetricMeta {
  return { name, kind, unit: '', help: name, builtin: false, prometheusName: undefined, labelNames: [], bounds: [], ...extra };
}

function histogram(name: string, bounds: number[], perBucket: number[], sum: number): MetricSamples {
  let running = 0;
  const cumulative = perBucket.map((n) => (running += n));
  return {
    meta: meta(name, 'histogram', { bounds }) as MetricMeta & { kind: 'histogram' },
    samples: [{ labels: [], bounds, cumulative, sum, count: running }],
  };
}

function render(aggregate: Aggregate, format: 'text' | 'openmetrics' = 'text'): string {
  return new ClusterExposition().render(aggregate.metrics(), COUNTS, DEFAULT_SETTINGS, format);
}

describe('merging workers', () => {
  it('sums counters and gauges per label set', () => {
    const sum = new Aggregate();
    const counter = meta('app.sent', 'counter', { labelNames: ['result'] }) as MetricMeta & { kind: 'counter' };
    sum.add({ meta: counter, samples: [{ labels: ['ok'], value: 2 }] });
    sum.add({
      meta: counter,
      samples: [
        { labels: ['ok'], value: 3 },
        { labels: ['failed'], value: 1 },
      ],
    });
    const s = samples(render(sum));
    expect(s.get('mail_app_sent_total{result="ok"}')).toBe(5);
    expect(s.get('mail_app_sent_total{result="failed"}')).toBe(1);
  });

  it('keeps the bounds all workers share when they differ, with exact counts, sum and count', () => {
    const sum = new Aggregate();
    // Values 0.5, 3, 30 and 0.2, 1.5, 7, 70.
    sum.add(histogram('app.wait', [1, 10], [1, 1, 1], 33.5));
    sum.add(histogram('app.wait', [1, 2, 5, 10], [1, 1, 0, 1, 1], 78.7));
    const text = render(sum);
    const s = samples(text);
    expect(s.get('mail_app_wait_bucket{le="1"}')).toBe(2);
    expect(s.get('mail_app_wait_bucket{le="10"}')).toBe(5);
    expect(s.get('mail_app_wait_bucket{le="+Inf"}')).toBe(7);
    expect(s.get('mail_app_wait_bucket{le="2"}')).toBeUndefined();
    expect(s.get('mail_app_wait_sum')).toBeCloseTo(112.2, 12);
    expect(s.get('mail_app_wait_count')).toBe(7);
  });

  it('with no bound in common keeps +Inf, _sum and _count', () => {
    const sum = new Aggregate();
    sum.add(histogram('app.wait', [1], [1, 0], 0.5));
    sum.add(histogram('app.wait', [2], [0, 1], 3));
    const s = samples(render(sum));
    expect([...s.keys()].filter((k) => k.startsWith('mail_app_wait'))).toEqual([
      'mail_app_wait_bucket{le="+Inf"}',
      'mail_app_wait_sum',
      'mail_app_wait_count',
    ]);
    expect(s.get('mail_app_wait_count')).toBe(2);
  });

  it('leaves out a contribution of another kind or other labels than the metric as first seen', () => {
    const sum = new Aggregate();
    expect(
      sum.add({ meta: meta('app.x', 'counter') as MetricMeta & { kind: 'counter' }, samples: [{ labels: [], value: 1 }] }),
    ).toBe(true);
    expect(sum.add({ meta: meta('app.x', 'gauge') as MetricMeta & { kind: 'gauge' }, samples: [{ labels: [], value: 9 }] })).toBe(
      false,
    );
    expect(
      sum.add({
        meta: meta('app.x', 'counter', { labelNames: ['a'] }) as MetricMeta & { kind: 'counter' },
        samples: [{ labels: ['b'], value: 9 }],
      }),
    ).toBe(false);
    expect(samples(render(sum)).get('mail_app_x_total')).toBe(1);
  });

  it('caps new series, and still sums the ones it holds', () => {
    const sum = new Aggregate(2);
    const counter = meta('app.sent', 'counter', { labelNames: ['to'] }) as MetricMeta & { kind: 'counter' };
    const series = (...to: string[]) => ({ meta: counter, samples: to.map((t) => ({ labels: [t], value: 1 })) });
    sum.add(series('a', 'b', 'c'));
    sum.add(series('a', 'd'));
    const s = samples(render(sum));
    expect(s.get('mail_app_sent_total{to="a"}')).toBe(2);
    expect(s.get('mail_app_sent_total{to="b"}')).toBe(1);
    expect(s.has('mail_app_sent_total{to="c"}')).toBe(false);
    expect(s.has('mail_app_sent_total{to="d"}')).toBe(false);
  });

  it("never lets a worker's metric take an exported name that is taken, nor a default label's name", () => {
    const sum = new Aggregate();
    sum.add({
      meta: meta('telemetry.cluster-workers', 'gauge') as MetricMeta & { kind: 'gauge' },
      samples: [{ labels: [], value: 99 }],
    });
    sum.add({ meta: meta('app.hits', 'counter') as MetricMeta & { kind: 'counter' }, samples: [{ labels: [], value: 1 }] });
    sum.add({ meta: meta('app.hits-total', 'gauge') as MetricMeta & { kind: 'gauge' }, samples: [{ labels: [], value: 2 }] });
    sum.add(histogram('app.lag', [1], [1, 0], 1));
    sum.add({ meta: meta('app.lag-count', 'gauge') as MetricMeta & { kind: 'gauge' }, samples: [{ labels: [], value: 3 }] });
    sum.add({
      meta: meta('app.by-node', 'gauge', { labelNames: ['node'] }) as MetricMeta & { kind: 'gauge' },
      samples: [{ labels: ['a'], value: 4 }],
    });
    const text = new ClusterExposition().render(
      sum.metrics(),
      COUNTS,
      { ...DEFAULT_SETTINGS, defaultLabels: { node: 'mx1' } },
      'text',
    );
    const s = samples(text);
    expect(s.get('mail_telemetry_cluster_workers{node="mx1"}')).toBe(2);
    expect(s.get('mail_app_hits_total{node="mx1"}')).toBe(1);
    expect(text).not.toContain('mail_app_hits_total{node="mx1"} 2');
    expect(text).not.toContain('mail_app_lag_count{node="mx1"} 3');
    expect(text).not.toContain('app_by_node');
  });
});

describe('the compact answer', () => {
  it('round-trips a real registry: descriptions once, then values only', () => {
    const telemetry = createTelemetry();
    const counter = telemetry.metrics.counter('app.sent', { help: 'Sent', labels: ['result'] });
    counter.inc({ result: 'ok' }, 3);
    telemetry.metrics.histogram('app.wait', { help: 'Wait', unit: 'seconds', buckets: [1, 2] }).observe(1.5);
    const collected = telemetry.metrics.collect();
    const full = encode(collected, 0);
    expect(full.meta).toHaveLength(collected.length);
    const from = firstUnknown(collected, true, collected.length, collected[collected.length - 1]?.name ?? null);
    expect(from).toBe(collected.length);
    const valuesOnly = encode(collected, from);
    expect(valuesOnly.meta).toEqual([]);
    // A primary whose last description names another metric gets them all again.
    expect(firstUnknown(collected, true, 3, 'not.this-one')).toBe(0);
    expect(firstUnknown(collected, false, 3, collected[2]?.name ?? null)).toBe(0);
    expect(firstUnknown(collected, true, collected.length + 1, null)).toBe(0);

    const answer = JSON.parse(
      JSON.stringify({
        'mail-telemetry': 1,
        type: 'metrics',
        id: 'r-1',
        instance: 'i',
        settings: DEFAULT_SETTINGS,
        from: 0,
        ...full,
      }),
    ) as object;
    const decoded = decodeAnswer(answer);
    expect(decoded?.flawed).toBe(false);
    const sum = new Aggregate();
    decoded?.meta.forEach((m, i) => {
      const series = m === null ? undefined : decodeSeries(m, decoded.values[i]);
      expect(series, m?.name).toBeDefined();
      if (series !== undefined) sum.add(series);
    });
    const mine = samples(telemetry.metrics.prometheus());
    const merged = samples(render(sum));
    for (const [key, n] of mine) expect(merged.get(key), key).toBe(n);
    void telemetry.shutdown();
  });
});

const promtool = needsProgram('promtool');

describe('hostile answers', () => {
  const json = fc.jsonValue({ maxDepth: 3 });
  /** Label values with every character the exposition escapes, and more. */
  const text = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('"', '\\', '\n', '"}\n x 1', '\u2028', '\ud800'));
  const metaArb = fc.record({
    name: fc.constantFrom('app.x', 'app.y', 'app.x-total', 'app.y-count', 'telemetry.cluster-workers', 'smtp.connection-start'),
    kind: fc.constantFrom('counter' as const, 'gauge' as const, 'histogram' as const),
    unit: fc.constantFrom('', 'seconds', 'bytes', 'milliseconds'),
    help: text,
    builtin: fc.boolean(),
    prometheusName: fc.constantFrom(null, 'x', 'y_total', 'app_x'),
    exportName: fc.constantFrom(null, 'x', 'dash_total', 'mail_telemetry_cluster_workers'),
    labels: fc.uniqueArray(fc.constantFrom('a', 'b', 'node', 'worker'), { maxLength: 2 }),
    bounds: fc
      .uniqueArray(fc.oneof(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 3 })
      .map((b) => [...b].sort((x, y) => x - y)),
  });
  /** One metric's description and a flat row of series that fits it. */
  const entryArb = metaArb.chain((m) => {
    const labels = fc.tuple(...m.labels.map(() => text));
    const row =
      m.kind === 'histogram'
        ? fc
            .tuple(
              labels,
              fc.double({ min: 0, max: 1e6, noNaN: true }),
              fc.array(fc.nat(5), { minLength: m.bounds.length + 1, maxLength: m.bounds.length + 1 }),
            )
            .map(([l, sum, counts]) => [...l, sum, counts.reduce((a, b) => a + b, 0), ...counts])
        : fc
            .tuple(
              labels,
              m.kind === 'counter'
                ? fc.double({ min: 0, max: 1e9, noNaN: true })
                : fc.double({ min: -1e9, max: 1e9, noNaN: true }),
            )
            .map(([l, v]) => [...l, v]);
    return fc
      .array(row, { maxLength: 3 })
      .map((rows) => ({ meta: { ...m, bounds: m.kind === 'histogram' ? m.bounds : null }, values: rows.flat() }));
  });
  const settingsArb = fc.record({
    naming: fc.constantFrom('prometheus', 'stalwart'),
    prefix: fc.constantFrom('', 'mail_', 'x'),
    defaultLabels: fc.dictionary(fc.constantFrom('node', 'worker', 'a'), text, { maxKeys: 2 }),
    // Export names that clash with each other, with a metric's own name and with the primary's.
    exportNames: fc.dictionary(
      fc.constantFrom('app.x', 'app.y', 'smtp.connection-start'),
      fc.constantFrom('x', 'dash_total', 'app_y'),
      {
        maxKeys: 3,
      },
    ),
    stalwart: fc.constantFrom(null, '0.15', '0.16'),
  });
  /** A well-formed answer, then maybe one field anywhere in it replaced by any JSON value. */
  const answerArb = fc
    .tuple(fc.array(entryArb, { maxLength: 4 }), settingsArb, fc.option(fc.tuple(fc.nat(), fc.nat(), json), { freq: 3 }))
    .map(([entries, settings, mutation]) => {
      const answer: Record<string, unknown> = {
        'mail-telemetry': 1,
        type: 'metrics',
        id: null,
        instance: 'i',
        settings: { ...settings },
        from: 0,
        meta: entries.map((e) => ({ ...e.meta })),
        values: entries.map((e) => [...e.values]),
      };
      if (mutation !== null) {
        const [where, which, replacement] = mutation;
        // The rows as generated (copies), before a mutation may put a generated value in their place.
        const rows = answer.values as unknown[][];
        const targets = [answer, answer.settings, ...(answer.meta as unknown[])] as Record<string, unknown>[];
        const target = targets[where % targets.length] as Record<string, unknown>;
        const keys = Object.keys(target);
        target[keys[which % keys.length] as string] = replacement;
        if (rows.length > 0 && where % 3 === 0) (rows[which % rows.length] as unknown[])[where % 5] = replacement;
      }
      return answer;
    });

  /** Decodes and merges like the primary does; never throws. */
  function mergeAnswers(answers: readonly unknown[]): { aggregate: Aggregate; settings: typeof DEFAULT_SETTINGS } {
    const aggregate = new Aggregate();
    let settings = DEFAULT_SETTINGS;
    for (const raw of answers) {
      if (typeof raw !== 'object' || raw === null) continue;
      // Through JSON, as IPC carries it.
      const message = JSON.parse(JSON.stringify(raw)) as object;
      const answer = decodeAnswer(message);
      if (answer === undefined || answer.from !== 0) continue;
      settings = answer.settings;
      answer.meta.forEach((m, i) => {
        const series = m === null ? undefined : decodeSeries(m, answer.values[i]);
        if (series !== undefined) aggregate.add(series, i % 2 === 0 ? { name: 'worker', value: '1' } : undefined);
      });
    }
    return { aggregate, settings };
  }

  it('reads a worker of an earlier release, which sends no export names or Stalwart version, as having none', () => {
    const { exportNames: _n, stalwart: _s, ...earlier } = DEFAULT_SETTINGS;
    const answer = {
      'mail-telemetry': 1,
      type: 'metrics',
      id: null,
      instance: 'i',
      settings: earlier,
      from: 0,
      meta: [],
      values: [],
    };
    expect(decodeAnswer(answer)?.settings).toEqual(DEFAULT_SETTINGS);
    for (const settings of [
      { ...DEFAULT_SETTINGS, stalwart: '0.14' },
      { ...DEFAULT_SETTINGS, exportNames: { 'app.x': 'bad name' } },
      { ...DEFAULT_SETTINGS, exportNames: { 'App X': 'x' } },
      { ...DEFAULT_SETTINGS, exportNames: [] },
    ])
      expect(decodeAnswer({ ...answer, settings }), JSON.stringify(settings)).toBeUndefined();
  });

  it('never throw, and whatever passes renders lines a Prometheus parser takes', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(answerArb, { maxLength: 3 }), (answers) => {
        const { aggregate, settings } = mergeAnswers(answers);
        if (!aggregate.empty) accepted++;
        for (const format of ['text', 'openmetrics'] as const) {
          const text = new ClusterExposition().render(aggregate.metrics(), COUNTS, settings, format);
          for (const line of text.split('\n')) {
            if (
              line === '' ||
              line.startsWith('# HELP ') ||
              line.startsWith('# TYPE ') ||
              line.startsWith('# UNIT ') ||
              line === '# EOF'
            )
              continue;
            expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? \S+$/);
          }
        }
      }),
      { numRuns: 3000 },
    );
    // The generators reach the merge, not only the refusals.
    expect(accepted).toBeGreaterThan(30);
  });

  it('keep the exposition valid for promtool, whatever passes the checks', () => {
    if (!promtool.found) return;
    const texts: string[] = [];
    fc.assert(
      fc.property(fc.array(answerArb, { maxLength: 3 }), (answers) => {
        const { aggregate, settings } = mergeAnswers(answers);
        if (!aggregate.empty) texts.push(new ClusterExposition().render(aggregate.metrics(), COUNTS, settings, 'text'));
      }),
      { numRuns: 2000 },
    );
    expect(texts.length).toBeGreaterThan(10);
    for (const text of texts.slice(0, 80)) {
      const result = spawnSync(promtool.path, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      // Lint advice on a hostile name (say, a gauge called *_count) is not a parse error.
      const errors = `${result.stdout}${result.stderr}`.split('\n').filter((l) => /error|parse/i.test(l));
      expect(errors, text).toEqual([]);
    }
  });

  it('refuses descriptions that would break the exposition', () => {
    const base = {
      name: 'app.x',
      kind: 'histogram',
      unit: '',
      help: 'h',
      builtin: false,
      prometheusName: null,
      labels: [],
      bounds: [1, 2],
    };
    expect(decodeMeta(base)).not.toBeNull();
    for (const bad of [
      { labels: ['le'] },
      { labels: ['a', 'a'] },
      { labels: ['__name__'] },
      { bounds: [2, 1] },
      { bounds: [1, 1.0000000000001] },
      { bounds: [1, Number.NaN] },
      { help: 'a\rb' },
      { name: 'App.x' },
      { name: 'x' },
      { prometheusName: 'a b' },
      { unit: 'Seconds' },
      { kind: 'summary' },
    ]) {
      expect(decodeMeta({ ...base, ...bad }), JSON.stringify(bad)).toBeNull();
    }
    const counter = decodeMeta({ ...base, kind: 'counter', bounds: null }) as MetricMeta;
    expect(decodeSeries(counter, [-1])).toBeUndefined();
    expect(decodeSeries(counter, [1, 2])).toBeDefined();
    expect(decodeSeries(counter, ['x'])).toBeUndefined();
    const h = decodeMeta(base) as MetricMeta;
    // sum, count, then per-bucket counts that must add up to count.
    expect(decodeSeries(h, [1, 2, 1, 1, 0])).toBeDefined();
    expect(decodeSeries(h, [1, 3, 1, 1, 0])).toBeUndefined();
    expect(decodeSeries(h, [-1, 2, 1, 1, 0])).toBeUndefined();
    expect(decodeSeries(h, [1, 2, 1.5, 0.5, 0])).toBeUndefined();
  });
});
