import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bindScope, compile, type Env } from '../../src/alerts/compile.js';
import { ExpressionError } from '../../src/alerts/errors.js';
import { parseExpression } from '../../src/alerts/parser.js';
import { type MetricValue, quantile, valuesOf } from '../../src/alerts/values.js';
import type { SeriesPoint } from '../../src/history/series.js';

const KNOWN = bindScope(
  new Map<string, MetricValue['kind']>([
    ['smtp.connection-start', 'counter'],
    ['queue.count', 'gauge'],
    ['delivery.total-time', 'histogram'],
    ['server.memory', 'gauge'],
  ]),
  ['delivery.failed'],
);

const BOUNDS = [10, 100, 1000];

function values(): Map<string, MetricValue> {
  return valuesOf({
    timestamp: 0,
    metrics: [
      { name: 'smtp.connection-start', kind: 'counter', unit: 'events', help: '', series: [{ labels: {}, value: 42 }] },
      {
        name: 'queue.count',
        kind: 'gauge',
        unit: 'messages',
        help: '',
        series: [
          { labels: { queue: 'a' }, value: 3000 },
          { labels: { queue: 'b' }, value: 2500 },
        ],
      },
      {
        name: 'delivery.total-time',
        kind: 'histogram',
        unit: 'milliseconds',
        help: '',
        // 100 observations: 20 ≤ 10, 50 in (10, 100], 25 in (100, 1000], 5 above.
        series: [
          { labels: { a: '1' }, bounds: BOUNDS, counts: [10, 30, 40, 40], sum: 5000, count: 40 },
          { labels: { a: '2' }, bounds: BOUNDS, counts: [10, 40, 55, 60], sum: 15_000, count: 60 },
        ],
      },
      { name: 'server.memory', kind: 'gauge', unit: 'bytes', help: '', series: [{ labels: {}, value: 2 * 1024 ** 3 }] },
    ],
  });
}

function env(points: readonly SeriesPoint[] = [], now = 1_000_000): Env & { missed: string[] } {
  const missed: string[] = [];
  return {
    now,
    values: values(),
    points: (metric) => points.filter((p) => p.metric === metric),
    missing: (metric) => missed.push(metric),
    labelNames: () => undefined,
    warn: (key) => missed.push(key),
    budget: { limit: Number.POSITIVE_INFINITY, spent: 0, exhausted: false },
    missed,
  };
}

function run(source: string, e: Env = env()) {
  return compile(parseExpression(source), source, KNOWN).run(e);
}

function bindError(source: string): ExpressionError {
  try {
    compile(parseExpression(source), source, KNOWN);
  } catch (error) {
    expect(error).toBeInstanceOf(ExpressionError);
    return error as ExpressionError;
  }
  throw new Error(`bound: ${source}`);
}

describe('evaluating alert conditions', () => {
  it('reads Stalwart sanitised names and metric() names, adding labelled series together', () => {
    expect(run('smtp_connection_start > 40')).toEqual({ active: true, value: 42 });
    expect(run("metric('smtp.connection-start') >= 43")).toEqual({ active: false, value: 42 });
    expect(run('queue_count')).toEqual({ active: true, value: 5500 });
    // The value is the left side of the first comparison, as `$value` is the sample in Prometheus.
    expect(run('server_memory > 1024 * 1024 * 1024 && queue_count > 5000')).toEqual({ active: true, value: 2 * 1024 ** 3 });
    expect(run('!(queue_count > 6000) ^ 0')).toEqual({ active: true, value: 5500 });
    expect(run('1 + 1')).toEqual({ active: true, value: 2 });
  });

  it('reads a bare histogram as its average and pNN from the buckets', () => {
    expect(run('delivery_total_time').value).toBe(200);
    // rank 95 of 100 falls in (100, 1000]: 70 below, 25 inside → 100 + 900 × 25/25.
    expect(run('p95(delivery_total_time)').value).toBe(1000);
    // rank 50: in (10, 100], 20 below, 50 inside → 10 + 90 × 30/50.
    expect(run('p50(delivery_total_time)').value).toBeCloseTo(64);
    // Past every finite bound: the highest finite bound, as histogram_quantile does.
    expect(run('p99(delivery_total_time)').value).toBe(1000);
  });

  it('interpolates quantiles like histogram_quantile', () => {
    expect(quantile(0.5, [1, 2, 4], [0, 10, 10, 10])).toBe(1.5);
    expect(quantile(0.25, [1, 2], [4, 8, 8])).toBe(0.5);
    expect(quantile(0.9, [1, 2], [0, 0, 0])).toBeNaN();
    expect(quantile(0.5, [-1, 2], [5, 10, 10])).toBe(-1);
  });

  it('does arithmetic, logic and xor on numbers, with 0 and NaN false', () => {
    expect(run('1_000 + 2 * 3 - 10 / 4 % 2').value).toBe(1000 + 6 - 0.5);
    expect(run('!0 && !!5').value).toBe(1);
    expect(run('1 ^ 1').value).toBe(0);
    expect(run('1 ^ 0').value).toBe(1);
    expect(run('0 || 0').active).toBe(false);
    expect(run('1 / 0 > 1').active).toBe(true);
    expect(run('0 / 0').active).toBe(false);
    expect(run('max(1, queue_count, 3) - min(7, 2, 9) + abs(-4)').value).toBe(5500 - 2 + 4);
    expect(run('queue_count = 5500').active).toBe(true);
    expect(run('queue_count != 5500').active).toBe(false);
    expect(run('queue_count < 1').value).toBe(5500);
  });

  it('computes rate, increase and avg_over from history points in the window', () => {
    const now = 1_000_000;
    const point = (metric: string, kind: SeriesPoint['kind'], ago: number, value: number, count?: number): SeriesPoint => ({
      metric,
      kind,
      labels: {},
      timestamp: now - ago,
      value,
      ...(count === undefined ? {} : { count }),
    });
    const points = [
      point('smtp.connection-start', 'counter', 0, 30),
      point('smtp.connection-start', 'counter', 60_000, 30),
      point('smtp.connection-start', 'counter', 299_999, 60),
      point('smtp.connection-start', 'counter', 300_000, 1000), // just outside 5m
      point('queue.count', 'gauge', 0, 10),
      point('queue.count', 'gauge', 1_800_000, 30),
      point('delivery.total-time', 'histogram', 0, 900, 3),
      point('delivery.total-time', 'histogram', 60_000, 100, 1),
    ];
    const e = env(points, now);
    expect(run("increase(smtp_connection_start, '5m')", e).value).toBe(120);
    expect(run("rate(smtp_connection_start, '5m') > 0.3", e)).toEqual({ active: true, value: 0.4 });
    expect(run("avg_over(queue_count, '1h')", e).value).toBe(20);
    expect(run("avg_over(queue_count, '10m')", e).value).toBe(10);
    expect(run("avg_over(delivery_total_time, '1h')", e).value).toBe(250);
    expect(run("increase(delivery_total_time, '1h')", e).value).toBe(4);
    expect(run("avg_over(queue_count, '1m') > 0", env([], now)).active).toBe(false);
    const compiled = compile(parseExpression("rate(smtp_connection_start, '5m') + avg_over(queue_count, '1h')"), '', KNOWN);
    expect(compiled.windows).toEqual([
      { metric: 'smtp.connection-start', windowMs: 300_000 },
      { metric: 'queue.count', windowMs: 3_600_000 },
    ]);
  });

  it('names the nearest known metrics for an unknown bare name', () => {
    const e = bindError('smtp_conection_start > 1');
    expect(e.problem).toBe('unknown metric "smtp_conection_start"');
    expect(e.message).toContain('nearest: smtp_connection_start');
    expect(e.position).toBe(0);
    expect(bindError('1 + nothing_like_it').message).toContain("metric('…')");
  });

  it('refuses a percentile of a gauge and a window function of the wrong kind', () => {
    expect(bindError('p95(queue_count)').problem).toBe('p95 needs a histogram, and queue.count is a gauge');
    expect(bindError("rate(queue_count, '5m')").problem).toContain('rate needs a counter or histogram');
    expect(bindError("avg_over(smtp_connection_start, '5m')").problem).toContain('avg_over needs a gauge or histogram');
    expect(bindError("metric('delivery.failed') > 1").problem).toBe(
      'delivery.failed is an event without a counter, so it has no value',
    );
  });

  it('reads a metric() the registry does not have yet as NaN and says so', () => {
    const e = env();
    expect(run("metric('host.jobs') > 0", e)).toEqual({ active: false, value: Number.NaN });
    expect(run("p95(metric('host.latency')) < 5", e).active).toBe(false);
    expect(e.missed).toEqual(['host.jobs', 'host.latency']);
  });

  it('binds and runs whatever parses: a number out, or a clean ExpressionError', () => {
    const pieces = fc.constantFrom(
      'queue_count',
      'smtp_connection_start',
      'delivery_total_time',
      'nope_metric',
      "metric('host.x')",
      'p95(delivery_total_time)',
      "rate(smtp_connection_start, '1m')",
      "avg_over(queue_count, '1h')",
      '0',
      '7',
      '(',
      ')',
      ',',
      ' + ',
      ' - ',
      ' * ',
      ' / ',
      ' % ',
      ' ^ ',
      '!',
      ' && ',
      ' || ',
      ' < ',
      ' >= ',
      ' = ',
      'min(',
      'abs(',
    );
    fc.assert(
      fc.property(fc.array(pieces, { minLength: 1, maxLength: 40 }), (parts) => {
        const source = parts.join('');
        try {
          const compiled = compile(parseExpression(source), source, KNOWN);
          const out = compiled.run(env());
          expect(typeof out.value).toBe('number');
          expect(typeof out.active).toBe('boolean');
        } catch (error) {
          expect(error).toBeInstanceOf(ExpressionError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
