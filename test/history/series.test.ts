import { afterEach, describe, expect, it, vi } from 'vitest';
import { avgOver, HistoryQueryError, increase, rate, type SeriesPoint } from '../../src/index.js';
import { make } from '../support/telemetry.js';

const T0 = Date.UTC(2026, 0, 1);
type HistoryOption = NonNullable<NonNullable<Parameters<typeof make>[0]>['history']>;

function setup(history: HistoryOption = {}) {
  let now = T0;
  const telemetry = make({ now: () => now, history });
  return { telemetry, tick: (ms: number) => (now += ms) };
}

const only = (points: readonly SeriesPoint[], metric: string) => points.filter((p) => p.metric === metric);

describe('history.series', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('records counters as per-interval deltas, gauges as values, histograms as count and sum deltas', async () => {
    const { telemetry, tick } = setup({ series: { metrics: ['app.*', 'queue.count', 'smtp.request-time'] } });
    const hits = telemetry.metrics.counter('app.hits', { help: 'Hits', labels: ['route'] });
    const queue = telemetry.metrics.gauge('queue.count');
    const latency = telemetry.metrics.histogram('smtp.request-time');
    hits.inc({ route: 'a' }, 5); // created after the baseline: all of it is new in the first interval
    const zeroth = await telemetry.history.snapshot();
    expect(only(zeroth, 'app.hits').map((p) => p.value)).toEqual([5]);
    hits.inc({ route: 'a' }, 2);
    hits.inc({ route: 'b' }, 1);
    queue.set(7);
    latency.observe(100);
    latency.observe(300);
    tick(60_000);
    const first = await telemetry.history.snapshot();
    expect(only(first, 'app.hits')).toEqual([
      { metric: 'app.hits', kind: 'counter', labels: { route: 'a' }, timestamp: T0 + 60_000, value: 2 },
      { metric: 'app.hits', kind: 'counter', labels: { route: 'b' }, timestamp: T0 + 60_000, value: 1 },
    ]);
    expect(only(first, 'queue.count')).toEqual([
      { metric: 'queue.count', kind: 'gauge', labels: {}, timestamp: T0 + 60_000, value: 7 },
    ]);
    expect(only(first, 'smtp.request-time')).toEqual([
      { metric: 'smtp.request-time', kind: 'histogram', labels: {}, timestamp: T0 + 60_000, value: 400, count: 2 },
    ]);
    // Not cumulative: the next interval holds only what happened in it (Stalwart writes totals here).
    latency.observe(50);
    queue.set(3);
    tick(60_000);
    const second = await telemetry.history.snapshot();
    expect(only(second, 'smtp.request-time')).toEqual([
      { metric: 'smtp.request-time', kind: 'histogram', labels: {}, timestamp: T0 + 120_000, value: 50, count: 1 },
    ]);
    expect(only(second, 'app.hits')).toEqual([]); // no increase, no point
    expect(only(second, 'queue.count')[0]?.value).toBe(3);
    expect(second.every((p) => ['app.hits', 'queue.count', 'smtp.request-time'].includes(p.metric))).toBe(true);

    const all = await telemetry.history.series();
    expect(all.map((p) => p.timestamp)).toEqual([...all.map((p) => p.timestamp)].sort((a, b) => a - b));
    expect((await telemetry.history.series({ metrics: ['queue.count'] })).map((p) => p.value)).toEqual([0, 7, 3]);
    expect(await telemetry.history.series({ metrics: ['queue.count'], from: T0 + 100_000 })).toHaveLength(1);
    expect(await telemetry.history.series({ to: T0 + 60_000 })).toHaveLength(zeroth.length + first.length);
    expect(telemetry.history.recordsSeries).toBe(true);
    expect(telemetry.history.seriesInterval).toBe(60_000);
  });

  it('counts event counters and feeds the window helpers the alerts engine uses', async () => {
    const { telemetry, tick } = setup({ series: { metrics: ['auth.failed'] } });
    for (let minute = 1; minute <= 5; minute++) {
      for (let i = 0; i < minute; i++) telemetry.emit('auth.failed', { accountName: 'x' });
      tick(60_000);
      await telemetry.history.snapshot();
    }
    const now = T0 + 5 * 60_000;
    const points = await telemetry.history.series({ metrics: ['auth.failed'] });
    expect(points.map((p) => p.value)).toEqual([1, 2, 3, 4, 5]);
    expect(increase(points, 180_000, now)).toBe(3 + 4 + 5);
    expect(rate(points, 180_000, now)).toBeCloseTo(12 / 180);
    expect(increase(points, 10 * 60_000, now)).toBe(15);
  });

  it('avgOver averages gauges, and histogram sums over counts', () => {
    const g = (timestamp: number, value: number): SeriesPoint => ({
      metric: 'queue.count',
      kind: 'gauge',
      labels: {},
      timestamp,
      value,
    });
    const h = (timestamp: number, value: number, count: number): SeriesPoint => ({
      metric: 'smtp.request-time',
      kind: 'histogram',
      labels: {},
      timestamp,
      value,
      count,
    });
    expect(avgOver([g(1, 2), g(2, 4), g(3, 9)], 2, 3)).toBe(6.5);
    expect(avgOver([h(1, 100, 1), h(2, 300, 3)], 10, 2)).toBe(100);
    expect(avgOver([], 10, 2)).toBeNaN();
    expect(increase([h(1, 100, 1), h(2, 300, 3)], 10, 2)).toBe(4);
    expect(rate([], 0, 2)).toBe(0);
  });

  it('snapshots on its interval timer and applies retention by count and by age', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { telemetry, tick } = setup({ series: { interval: 1000, metrics: ['queue.count'], capacity: 3, maxAge: 2500 } });
    const queue = telemetry.metrics.gauge('queue.count');
    for (let i = 1; i <= 5; i++) {
      queue.set(i);
      tick(1000);
      await vi.advanceTimersByTimeAsync(1000);
    }
    const points = await telemetry.history.series();
    expect(points.map((p) => p.value)).toEqual([3, 4, 5]);
    expect(telemetry.history.stats().snapshots).toBe(5);
    tick(2000); // the clock jumps while no timer runs: the age limit drops two of three
    await telemetry.history.purge();
    expect((await telemetry.history.series()).map((p) => p.value)).toEqual([5]);
  });

  it('rejects bad series queries with HistoryQueryError', async () => {
    const { telemetry } = setup();
    for (const [query, field] of [
      [{ metrics: 'queue.count' }, 'metrics'],
      [{ metrics: [''] }, 'metrics'],
      [{ from: 'today' }, 'from'],
      [{ from: 5, to: 1 }, 'from'],
      [{ metric: ['queue.count'] }, 'metric'],
    ] as const) {
      const error = await telemetry.history.series(query as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HistoryQueryError);
      expect((error as HistoryQueryError).field).toBe(field);
    }
  });

  it('records nothing when series are off, and reports it', async () => {
    const { telemetry } = setup({ series: false });
    expect(telemetry.history.recordsSeries).toBe(false);
    expect(telemetry.history.seriesInterval).toBeUndefined();
    expect(await telemetry.history.snapshot()).toEqual([]);
    expect(await telemetry.history.series()).toEqual([]);
  });
});
