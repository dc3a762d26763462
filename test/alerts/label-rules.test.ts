import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TelemetryConfigError } from '../../src/index.js';
import { make, makeClocked } from '../support/telemetry.js';
import { collect } from './helpers.js';

/** Host metrics with labels, as a mail server would create them. */
function hostMetrics(telemetry: ReturnType<typeof makeClocked>) {
  const m = telemetry.metrics;
  return {
    bounces: m.counter('mail.mta-bounces', { help: 'Bounces by reason', labels: ['reason'] }),
    listeners: m.gauge('host.listener-connections', { help: 'Open connections per listener', labels: ['listener'] }),
    times: m.histogram('mail.delivery-time', {
      help: 'Delivery time by destination',
      unit: 'seconds',
      labels: ['destination'],
      buckets: [1, 5, 10],
    }),
  };
}

/** Adds a rule whose condition has no comparison, so its value is the expression's, and returns that value. */
async function valueFor(telemetry: ReturnType<typeof makeClocked>, condition: string): Promise<number> {
  const id = `v${telemetry.alerts.rules().length}`;
  telemetry.alerts.add({ id, condition, event: false });
  await telemetry.alerts.evaluate();
  return telemetry.alerts.state(id)?.value as number;
}

describe('label matchers over current values', () => {
  it('add up the matching series of counters, gauges and histograms', async () => {
    const telemetry = makeClocked();
    const { bounces, listeners, times } = hostMetrics(telemetry);
    bounces.inc({ reason: 'mailbox-full' }, 4);
    bounces.inc({ reason: 'quota' }, 2);
    bounces.inc({ reason: 'no-such-user' }, 1);
    listeners.set({ listener: 'mx' }, 120);
    listeners.set({ listener: 'submission' }, 8);
    for (let i = 0; i < 10; i++) {
      times.observe({ destination: 'gmail' }, 0.5);
      times.observe({ destination: 'yahoo' }, 8);
    }
    expect(await valueFor(telemetry, 'mail_mta_bounces{reason="mailbox-full"}')).toBe(4);
    expect(await valueFor(telemetry, `metric('mail.mta-bounces'){reason!="mailbox-full"}`)).toBe(3);
    expect(await valueFor(telemetry, 'mail_mta_bounces{reason=~"mailbox-full|quota"}')).toBe(6);
    expect(await valueFor(telemetry, 'mail_mta_bounces{reason!~".*-.*"}')).toBe(2);
    expect(await valueFor(telemetry, 'mail_mta_bounces{reason=~"mailbox-full", reason!="quota"}')).toBe(4);
    // `{}` and no braces: every series, as before.
    expect(await valueFor(telemetry, 'mail_mta_bounces{}')).toBe(7);
    expect(await valueFor(telemetry, 'mail_mta_bounces')).toBe(7);
    expect(await valueFor(telemetry, 'host_listener_connections{listener="mx"}')).toBe(120);
    expect(await valueFor(telemetry, 'max(host_listener_connections{listener="submission"}, 10)')).toBe(10);
    expect(await valueFor(telemetry, 'min(host_listener_connections{listener="submission"}, 10)')).toBe(8);
    // A bare histogram is its average; percentiles interpolate within the matching series' buckets.
    expect(await valueFor(telemetry, 'mail_delivery_time{destination="gmail"}')).toBe(0.5);
    expect(await valueFor(telemetry, 'mail_delivery_time')).toBe(4.25);
    expect(await valueFor(telemetry, 'p50(mail_delivery_time{destination="gmail"})')).toBe(0.5);
    expect(await valueFor(telemetry, `p50(metric('mail.delivery-time'){destination="yahoo"})`)).toBe(7.5);
    expect(await valueFor(telemetry, 'p50(mail_delivery_time)')).toBe(1);
  });

  it('read NaN when no series matches, as a missing metric does, and so never fire', async () => {
    const telemetry = makeClocked();
    const { bounces, times } = hostMetrics(telemetry);
    bounces.inc({ reason: 'quota' });
    expect(await valueFor(telemetry, 'mail_mta_bounces{reason="mailbox-full"}')).toBeNaN();
    expect(await valueFor(telemetry, 'p95(mail_delivery_time{destination="gmail"})')).toBeNaN();
    expect(await valueFor(telemetry, 'mail_delivery_time{destination="gmail"}')).toBeNaN();
    telemetry.alerts.add({ id: 'zero', condition: 'mail_mta_bounces{reason="mailbox-full"} < 1' });
    expect(await telemetry.alerts.evaluate()).toEqual([]);
    times.observe({ destination: 'gmail' }, 2);
    expect(await valueFor(telemetry, 'p95(mail_delivery_time{destination="gmail"})')).toBeCloseTo(4.8);
  });

  it('go pending → firing for one label set and not for another; {{ value }} is the matching series’', async () => {
    const telemetry = makeClocked();
    const { bounces } = hostMetrics(telemetry);
    const events = collect(telemetry, ['telemetry.alert-event']);
    for (const reason of ['mailbox-full', 'quota'])
      telemetry.alerts.add({
        id: reason,
        condition: `mail_mta_bounces{reason="${reason}"} > 10`,
        for: '1m',
        annotations: { summary: `{{ value }} ${reason} bounces` },
      });
    bounces.inc({ reason: 'mailbox-full' }, 25);
    bounces.inc({ reason: 'quota' }, 3);
    const t0 = telemetry.clock.now;
    expect(await telemetry.alerts.evaluate()).toEqual([
      { id: 'mailbox-full', from: 'inactive', to: 'pending', at: t0, value: 25 },
    ]);
    telemetry.clock.now += 60_000;
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ id: 'mailbox-full', from: 'pending', to: 'firing', value: 25 }]);
    expect(telemetry.alerts.state('quota')).toMatchObject({ state: 'inactive', value: 3 });
    await telemetry.flush();
    expect(events.map((e) => [e.data.id, e.data.reason, e.data.details, e.data.total])).toEqual([
      ['mailbox-full', 'firing', '25 mailbox-full bounces', 25],
    ]);
  });
});

describe('label matchers at configuration time', () => {
  it('name a label the metric lacks: an error with a caret and the labels it has', () => {
    const telemetry = makeClocked();
    hostMetrics(telemetry);
    const add = (condition: string) => () => telemetry.alerts.add({ id: 'r', condition });
    expect(add('mail_mta_bounces{reasn="quota"} > 1')).toThrow(TelemetryConfigError);
    expect(add('mail_mta_bounces{reasn="quota"} > 1')).toThrow(
      'alerts.add("r").condition: expected a valid alert expression: mail.mta-bounces has no label "reasn" at column 18 (its labels: reason)\n' +
        '  mail_mta_bounces{reasn="quota"} > 1\n' +
        '                   ^',
    );
    expect(add(`rate(metric('mail.mta-bounces'){reason="quota",x=~".*"}, '5m') > 1`)).toThrow(
      /has no label "x" at column 48 \(its labels: reason\)/,
    );
    expect(add('p95(mail_delivery_time{dest="gmail"}) > 1')).toThrow('its labels: destination');
  });

  it('refuse matchers on unlabelled metrics, but accept {} everywhere', () => {
    const rule = (condition: string) => ({ alerts: [{ id: 'r', condition }] });
    expect(() => make(rule('smtp_connection_start{listener="mx"} > 1'))).toThrow(
      'options.alerts[0].condition: expected a valid alert expression: smtp.connection-start has no labels, so it takes no label matchers at column 23',
    );
    expect(() => make(rule('queue_count{queue=~".*"} > 1'))).toThrow('queue.count has no labels');
    expect(() => make(rule('queue_count{} > 1 || smtp_connection_start{} > 1'))).not.toThrow();
  });

  it('keep the earlier errors: unknown names with the nearest ones, kinds, regex problems', () => {
    const telemetry = makeClocked({ history: { series: { interval: 60_000 } } });
    hostMetrics(telemetry);
    const add = (condition: string) => () => telemetry.alerts.add({ id: 'r', condition });
    expect(add('mail_mta_bounce{reason="quota"} > 1')).toThrow(
      'unknown metric "mail_mta_bounce" at column 1 (nearest: mail_mta_bounces',
    );
    expect(add(`rate(host_listener_connections{listener="mx"}, '5m') > 1`)).toThrow('rate needs a counter or histogram');
    expect(add('mail_mta_bounces{reason=~"(a+)+"} > 1')).toThrow(
      'a repeated group holds a quantifier or "|", which can take exponential time at column 31 (spell the repetition out: \\d+\\.\\d+\\. rather than (\\d+\\.){2})',
    );
    expect(add('mail_mta_bounces{reason=~"[a-"} > 1')).toThrow(/invalid regular expression: .*at column 27/);
  });
});

describe('label matchers on a host metric created after the rule', () => {
  it('read NaN and report once until it exists, then pick its series', async () => {
    const telemetry = makeClocked({
      alerts: [{ id: 'late', condition: `metric('mail.mta-bounces'){reason="quota"} > 1`, event: false }],
    });
    const errors = collect(telemetry, ['telemetry.*-error']);
    await telemetry.alerts.evaluate();
    await telemetry.alerts.evaluate();
    expect(telemetry.alerts.state('late')?.value).toBeNaN();
    const { bounces } = hostMetrics(telemetry);
    bounces.inc({ reason: 'quota' }, 5);
    bounces.inc({ reason: 'other' }, 50);
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ id: 'late', to: 'firing', value: 5 }]);
    await telemetry.flush();
    expect(errors.map((e) => e.data.reason)).toEqual([
      'metric "mail.mta-bounces" is not in the registry; the condition reads it as NaN',
    ]);
  });

  it('read NaN and report once, with its labels, when it lacks a label the matchers name', async () => {
    const telemetry = makeClocked({
      alerts: [{ id: 'late', condition: `metric('mail.mta-bounces'){cause="quota"} > 1 || queue_count > 5` }],
    });
    const errors = collect(telemetry, ['telemetry.*-error']);
    const { bounces } = hostMetrics(telemetry);
    bounces.inc({ reason: 'quota' }, 5);
    await telemetry.alerts.evaluate();
    await telemetry.alerts.evaluate();
    expect(telemetry.alerts.state('late')).toMatchObject({ state: 'inactive', value: Number.NaN });
    telemetry.metrics.gauge('queue.count').set(9);
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ id: 'late', to: 'firing' }]);
    await telemetry.flush();
    expect(errors.map((e) => [e.data.id, e.data.reason, e.data.details])).toEqual([
      ['alerts.late', 'metric "mail.mta-bounces" has no label "cause"; the condition reads it as NaN', 'its labels: reason'],
    ]);
  });
});

describe('label matchers: fuzzing whole rules', () => {
  it('random matchers on real metrics are accepted or refused with a TelemetryConfigError, and evaluate', async () => {
    const telemetry = makeClocked();
    const { bounces } = hostMetrics(telemetry);
    bounces.inc({ reason: 'quota' }, 2);
    const name = fc.constantFrom(
      'mail_mta_bounces',
      "metric('mail.mta-bounces')",
      'queue_count',
      'p95(mail_delivery_time',
      'nope',
    );
    const label = fc.constantFrom('reason', 'reasn', 'destination', 'listener', '', '1', '"reason"');
    const op = fc.constantFrom('=', '!=', '=~', '!~', '==', '~', ':');
    const value = fc.oneof(
      fc.constantFrom('"quota"', '".*"', '"(a+)+"', '"[a-"', '"(?=a)"', "'q|r'", '""', 'quota', '"'),
      fc.string({ maxLength: 12 }).map((v) => JSON.stringify(v)),
    );
    const matcher = fc.tuple(label, op, value).map((parts) => parts.join(''));
    const condition = fc
      .tuple(name, fc.array(matcher, { maxLength: 4 }), fc.constantFrom('{', ''), fc.constantFrom('}', '', '},'))
      .map(([n, ms, open, close]) => `${n}${open}${ms.join(',')}${close}${n.startsWith('p95') ? ')' : ''} > 1`);
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(condition, async (text) => {
        try {
          telemetry.alerts.add({ id: 'fuzz', condition: text, event: false });
        } catch (error) {
          expect(error).toBeInstanceOf(TelemetryConfigError);
          return;
        }
        accepted++;
        await telemetry.alerts.evaluate();
        expect(typeof telemetry.alerts.state('fuzz')?.value).toBe('number');
        telemetry.alerts.remove('fuzz');
      }),
      { numRuns: 400 },
    );
    expect(accepted).toBeGreaterThan(0);
  });
});
