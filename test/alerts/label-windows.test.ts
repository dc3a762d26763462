import { describe, expect, it } from 'vitest';
import { type HistoryStore, MemoryHistoryStore, type SeriesPoint, type SeriesQuery } from '../../src/index.js';
import { SqliteHistoryStore } from '../../src/sqlite.js';
import { makeClocked } from '../support/telemetry.js';
import { collect } from './helpers.js';

const MINUTE = 60_000;

/** A history with series every minute over `store`, and labelled host metrics. */
function setup(store: HistoryStore) {
  const telemetry = makeClocked({ history: { store, series: { interval: MINUTE } } });
  const m = telemetry.metrics;
  const bounces = m.counter('mail.mta-bounces', { help: 'Bounces by reason', labels: ['reason'] });
  const listeners = m.gauge('host.listener-connections', { help: 'Open connections per listener', labels: ['listener'] });
  const times = m.histogram('mail.delivery-time', {
    help: 'Delivery time',
    unit: 'seconds',
    labels: ['destination'],
    buckets: [1, 10],
  });
  /** Moves the clock a minute on and records the history's series. */
  const tick = async () => {
    telemetry.clock.now += MINUTE;
    await telemetry.history.snapshot();
  };
  return { telemetry, bounces, listeners, times, tick };
}

/** The values of rules whose conditions have no comparison, after one evaluation. */
async function values(
  telemetry: ReturnType<typeof makeClocked>,
  conditions: Record<string, string>,
): Promise<Record<string, number>> {
  for (const [id, condition] of Object.entries(conditions))
    if (telemetry.alerts.state(id) === undefined) telemetry.alerts.add({ id, condition, event: false });
  await telemetry.alerts.evaluate();
  return Object.fromEntries(Object.keys(conditions).map((id) => [id, telemetry.alerts.state(id)?.value as number]));
}

const STORES: [string, () => HistoryStore][] = [
  ['the memory store', () => new MemoryHistoryStore()],
  ['the SQLite store', () => new SqliteHistoryStore({ path: ':memory:' })],
];

describe.each(STORES)('window functions with label matchers over %s', (_, store) => {
  it('rate, increase and avg_over read only the matching series', async () => {
    const { telemetry, bounces, listeners, times, tick } = setup(store());
    await telemetry.history.snapshot();
    bounces.inc({ reason: 'mailbox-full' }, 6);
    bounces.inc({ reason: 'quota' }, 2);
    listeners.set({ listener: 'mx' }, 100);
    listeners.set({ listener: 'submission' }, 10);
    times.observe({ destination: 'gmail' }, 0.5);
    times.observe({ destination: 'gmail' }, 1.5);
    times.observe({ destination: 'yahoo' }, 9);
    await tick();
    bounces.inc({ reason: 'mailbox-full' }, 3);
    listeners.set({ listener: 'mx' }, 50);
    await tick();
    expect(
      await values(telemetry, {
        full: `increase(mail_mta_bounces{reason="mailbox-full"}, '5m')`,
        notFull: `increase(metric('mail.mta-bounces'){reason!="mailbox-full"}, '5m')`,
        all: `increase(mail_mta_bounces{}, '5m')`,
        rate: `rate(mail_mta_bounces{reason=~"mail.*"}, '5m')`,
        recent: `increase(mail_mta_bounces{reason="mailbox-full"}, '1m')`,
        mx: `avg_over(host_listener_connections{listener="mx"}, '5m')`,
        notMx: `avg_over(host_listener_connections{listener!~"m.*"}, '5m')`,
        gmailCount: `increase(mail_delivery_time{destination="gmail"}, '5m')`,
        gmailMean: `avg_over(mail_delivery_time{destination="gmail"}, '5m')`,
        yahooRate: `rate(metric('mail.delivery-time'){destination="yahoo"}, '1m')`,
      }),
    ).toEqual({
      full: 9,
      notFull: 2,
      all: 11,
      rate: 9 / 300,
      recent: 3,
      mx: 75,
      notMx: 10,
      gmailCount: 2,
      gmailMean: 1,
      yahooRate: 0,
    });
  });

  it('give 0 for rate and increase and NaN for avg_over when no series matches', async () => {
    const { telemetry, bounces, listeners, times, tick } = setup(store());
    await telemetry.history.snapshot();
    bounces.inc({ reason: 'quota' }, 2);
    listeners.set({ listener: 'mx' }, 100);
    times.observe({ destination: 'gmail' }, 1);
    await tick();
    const out = await values(telemetry, {
      increase: `increase(mail_mta_bounces{reason="mailbox-full"}, '5m')`,
      rate: `rate(mail_mta_bounces{reason="mailbox-full"}, '5m')`,
      gauge: `avg_over(host_listener_connections{listener="smtp"}, '5m')`,
      histogram: `avg_over(mail_delivery_time{destination="yahoo"}, '5m')`,
      p50: 'p50(mail_delivery_time{destination="yahoo"})',
    });
    expect(out).toEqual({ increase: 0, rate: 0, gauge: Number.NaN, histogram: Number.NaN, p50: Number.NaN });
  });

  it('fire for the label set that grows fast, pending first, and resolve once the window slides past', async () => {
    const { telemetry, bounces, tick } = setup(store());
    for (const reason of ['mailbox-full', 'quota'])
      telemetry.alerts.add({ id: reason, condition: `increase(mail_mta_bounces{reason="${reason}"}, '5m') > 3`, for: '2m' });
    await telemetry.history.snapshot();
    bounces.inc({ reason: 'mailbox-full' }, 5);
    bounces.inc({ reason: 'quota' }, 3);
    await tick();
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ id: 'mailbox-full', to: 'pending', value: 5 }]);
    await tick();
    expect(await telemetry.alerts.evaluate()).toEqual([]);
    await tick();
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ id: 'mailbox-full', from: 'pending', to: 'firing', value: 5 }]);
    expect(telemetry.alerts.state('quota')).toMatchObject({ state: 'inactive', value: 3 });
    for (let i = 0; i < 3; i++) await tick();
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ id: 'mailbox-full', from: 'firing', to: 'resolved', value: 0 }]);
  });
});

describe('window functions with label matchers: configuration and stores', () => {
  it('are a configuration error over a metric the series leave out, with the fix', () => {
    const telemetry = makeClocked({ history: { series: { metrics: ['queue.*'] } } });
    telemetry.metrics.counter('mail.mta-bounces', { help: 'Bounces', labels: ['reason'] });
    expect(() => telemetry.alerts.add({ id: 'r', condition: `rate(mail_mta_bounces{reason="quota"}, '5m') > 1` })).toThrow(
      /mail\.mta-bounces is not.*add it to options\.history\.series\.metrics/,
    );
  });

  it('read NaN and report once when a custom store returns points without labels; other windows go on', async () => {
    class NoLabels extends MemoryHistoryStore {
      override series(query: SeriesQuery): readonly SeriesPoint[] {
        return super.series(query).map((p) => ({ ...p, labels: undefined }) as unknown as SeriesPoint);
      }
    }
    const { telemetry, bounces, tick } = setup(new NoLabels());
    const errors = collect(telemetry, ['telemetry.*-error']);
    await telemetry.history.snapshot();
    bounces.inc({ reason: 'quota' }, 4);
    await tick();
    const conditions = {
      picked: `increase(mail_mta_bounces{reason="quota"}, '5m')`,
      all: `increase(mail_mta_bounces, '5m')`,
    };
    expect(await values(telemetry, conditions)).toEqual({ picked: Number.NaN, all: 4 });
    expect(await values(telemetry, conditions)).toEqual({ picked: Number.NaN, all: 4 });
    await telemetry.flush();
    expect(errors.map((e) => [e.data.id, e.data.reason])).toEqual([
      [
        'alerts.picked',
        'the history store returned points of mail.mta-bounces without labels, so mail.mta-bounces{reason="quota"} reads NaN',
      ],
    ]);
  });
});
