import { describe, expect, it } from 'vitest';
import { MemoryHistoryStore, type SeriesQuery } from '../../src/index.js';
import { CONNECTION, make, makeClocked } from '../support/telemetry.js';
import { collect } from './helpers.js';

describe('window functions over the history’s metric series', () => {
  it('fire on an increase within the window and resolve once it slides past', async () => {
    const telemetry = makeClocked({
      history: { series: { interval: 60_000 } },
      alerts: [
        { id: 'burst', condition: "increase(smtp_connection_start, '5m') > 10" },
        { id: 'queue-avg', condition: "avg_over(queue_count, '3m') >= 70" },
      ],
    });
    await telemetry.history.snapshot();
    const queue = telemetry.metrics.gauge('queue.count');
    for (let i = 0; i < 12; i++) telemetry.emit('smtp.connection-start', CONNECTION);
    queue.set(150);
    telemetry.clock.now += 60_000;
    await telemetry.history.snapshot();
    queue.set(60);
    telemetry.clock.now += 60_000;
    await telemetry.history.snapshot();
    // The gauge's points in (t - 3m, t]: 0 (the first snapshot), 150 and 60.
    expect(await telemetry.alerts.evaluate()).toMatchObject([
      { id: 'burst', to: 'firing', value: 12 },
      { id: 'queue-avg', to: 'firing', value: 70 },
    ]);
    for (let i = 0; i < 4; i++) {
      telemetry.clock.now += 60_000;
      await telemetry.history.snapshot();
    }
    expect(await telemetry.alerts.evaluate()).toMatchObject([
      { id: 'burst', to: 'resolved', value: 0 },
      { id: 'queue-avg', to: 'resolved', value: 60 },
    ]);
  });

  it('are a configuration error when the history records no series', () => {
    const rule = { id: 'r', condition: "rate(smtp_connection_start, '5m') > 1" };
    expect(() => make({ history: false, alerts: [rule] })).toThrow(
      'options.alerts[0].condition: expected window functions (rate, increase, avg_over) only with history recording metric series',
    );
    // The default history records every metric's series.
    expect(() => make({ alerts: [rule] })).not.toThrow();
    expect(() => make({ history: { series: false }, alerts: [rule] })).toThrow('only with history recording metric series');
  });

  it('are a configuration error over a metric the series leave out, with the fix', () => {
    const rule = { id: 'r', condition: "rate(smtp_connection_start, '5m') > 1" };
    const build = () => make({ history: { series: { metrics: ['queue.*'] } }, alerts: [rule] });
    expect(build).toThrow(/smtp\.connection-start is not.*add it to options\.history\.series\.metrics/);
    expect(() => make({ history: { series: { metrics: ['smtp.*'] } }, alerts: [rule] })).not.toThrow();
  });

  it('keep a windowed rule’s state and report when the history cannot be read; other rules go on', async () => {
    class FlakyStore extends MemoryHistoryStore {
      failing = false;
      override series(query: SeriesQuery) {
        if (this.failing) throw new Error('disk I/O error');
        return super.series(query);
      }
    }
    const store = new FlakyStore();
    const telemetry = makeClocked({
      history: { store, series: { interval: 60_000 } },
      alerts: [
        { id: 'burst', condition: "increase(smtp_connection_start, '5m') > 1" },
        { id: 'queue', condition: 'queue_count > 1' },
      ],
    });
    const errors = collect(telemetry, ['telemetry.*-error']);
    await telemetry.history.snapshot();
    for (let i = 0; i < 3; i++) telemetry.emit('smtp.connection-start', CONNECTION);
    telemetry.clock.now += 60_000;
    await telemetry.history.snapshot();
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ id: 'burst', to: 'firing' }]);
    store.failing = true;
    telemetry.metrics.gauge('queue.count').set(5);
    telemetry.clock.now += 600_000;
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ id: 'queue', to: 'firing' }]);
    expect(telemetry.alerts.state('burst')?.state).toBe('firing');
    await telemetry.flush();
    expect(errors.map((e) => e.data.reason)).toEqual(['reading metric series from the history failed: disk I/O error']);
  });
});
