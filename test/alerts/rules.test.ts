import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AlertRuleOptions } from '../../src/index.js';
import { TelemetryConfigError } from '../../src/index.js';
import { CONNECTION, make, makeClocked } from '../support/telemetry.js';
import { collect } from './helpers.js';

function connections(telemetry: ReturnType<typeof makeClocked>, n: number): void {
  for (let i = 0; i < n; i++) telemetry.emit('smtp.connection-start', CONNECTION);
}

function configError(rule: unknown, sendMail?: unknown): TelemetryConfigError {
  try {
    make({
      history: false,
      alerts: [rule as AlertRuleOptions],
      ...(sendMail === undefined ? {} : { sendMail: sendMail as never }),
    });
  } catch (error) {
    expect(error).toBeInstanceOf(TelemetryConfigError);
    return error as TelemetryConfigError;
  }
  throw new Error('accepted');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('alert rule states', () => {
  it('goes inactive → pending → firing → resolved, each transition notified once', async () => {
    const telemetry = makeClocked({
      alerts: [
        { id: 'busy', condition: 'smtp_connection_start > 2', for: '1m', annotations: { summary: '{{ value }} connections' } },
      ],
    });
    const events = collect(telemetry, ['telemetry.alert-event']);
    expect(telemetry.alerts.state('busy')?.state).toBe('inactive');
    connections(telemetry, 3);
    const t0 = telemetry.clock.now;
    expect(await telemetry.alerts.evaluate()).toEqual([{ id: 'busy', from: 'inactive', to: 'pending', at: t0, value: 3 }]);
    telemetry.clock.now += 30_000;
    expect(await telemetry.alerts.evaluate()).toEqual([]);
    telemetry.clock.now += 30_000;
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ from: 'pending', to: 'firing' }]);
    // Still true: no re-firing on every tick.
    for (let i = 0; i < 5; i++) {
      telemetry.clock.now += 30_000;
      expect(await telemetry.alerts.evaluate()).toEqual([]);
    }
    expect(telemetry.alerts.state('busy')).toMatchObject({ state: 'firing', activeAt: t0, firedAt: t0 + 60_000, value: 3 });
    telemetry.alerts.remove('busy');
    telemetry.alerts.add({ id: 'busy', condition: 'smtp_connection_start > 5' });
    await telemetry.flush();
    expect(events.map((e) => [e.data.reason, e.data.details, e.data.total, e.level])).toEqual([
      ['firing', '3 connections', 3, 'warn'],
      ['resolved', '3 connections', 3, 'warn'],
    ]);
  });

  it('drops a pending alert whose condition clears before `for` elapses, without notifying', async () => {
    const telemetry = makeClocked({ alerts: [{ id: 'q', condition: 'queue_count > 10', for: 120_000 }] });
    const events = collect(telemetry, ['telemetry.alert-event']);
    const queue = telemetry.metrics.gauge('queue.count');
    queue.set(50);
    await telemetry.alerts.evaluate();
    telemetry.clock.now += 60_000;
    queue.set(5);
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ from: 'pending', to: 'inactive' }]);
    telemetry.clock.now += 120_000;
    await telemetry.alerts.evaluate();
    await telemetry.flush();
    expect(events).toEqual([]);
    expect(telemetry.alerts.state('q')?.state).toBe('inactive');
  });

  it('fires on the first evaluation without `for`, and resolves when the condition clears', async () => {
    const telemetry = makeClocked({ alerts: [{ id: 'q', condition: 'queue_count >= 100' }] });
    const events = collect(telemetry, ['telemetry.alert-event']);
    const queue = telemetry.metrics.gauge('queue.count');
    queue.set(100);
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ from: 'inactive', to: 'firing', value: 100 }]);
    queue.set(99);
    telemetry.clock.now += 1000;
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ from: 'firing', to: 'resolved', value: 99 }]);
    expect(telemetry.alerts.state('q')).toMatchObject({ state: 'resolved', resolvedAt: telemetry.clock.now });
    queue.set(120);
    telemetry.clock.now += 1000;
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ from: 'resolved', to: 'firing' }]);
    await telemetry.flush();
    expect(events.map((e) => e.data.reason)).toEqual(['firing', 'resolved', 'firing']);
    expect(events[0]?.data.details).toBe('q is firing: queue_count >= 100 (value 100)');
  });

  it('keeps firing for `keepFiringFor` after the condition clears, and a relapse cancels the countdown', async () => {
    const telemetry = makeClocked({ alerts: [{ id: 'q', condition: 'queue_count > 10', keepFiringFor: '2m' }] });
    const queue = telemetry.metrics.gauge('queue.count');
    queue.set(11);
    await telemetry.alerts.evaluate();
    queue.set(0);
    telemetry.clock.now += 60_000;
    expect(await telemetry.alerts.evaluate()).toEqual([]);
    queue.set(20);
    telemetry.clock.now += 60_000;
    expect(await telemetry.alerts.evaluate()).toEqual([]);
    queue.set(0);
    telemetry.clock.now += 60_000;
    expect(await telemetry.alerts.evaluate()).toEqual([]);
    telemetry.clock.now += 60_000;
    expect(await telemetry.alerts.evaluate()).toEqual([]);
    expect(telemetry.alerts.state('q')?.state).toBe('firing');
    telemetry.clock.now += 60_000;
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ from: 'firing', to: 'resolved' }]);
  });

  it('notifies again every `repeatInterval` while firing', async () => {
    const telemetry = makeClocked({ alerts: [{ id: 'q', condition: 'queue_count > 10', repeatInterval: '10m' }] });
    const events = collect(telemetry, ['telemetry.alert-event']);
    telemetry.metrics.gauge('queue.count').set(11);
    for (let minute = 0; minute <= 25; minute += 5) {
      await telemetry.alerts.evaluate();
      telemetry.clock.now += 5 * 60_000;
    }
    await telemetry.flush();
    expect(events.map((e) => e.data.reason)).toEqual(['firing', 'repeat', 'repeat']);
  });

  it('keeps a bounded transition history', async () => {
    const telemetry = makeClocked({
      alerts: { rules: [{ id: 'q', condition: 'queue_count > 0' }], maxTransitions: 3 },
    });
    const queue = telemetry.metrics.gauge('queue.count');
    for (let i = 0; i < 6; i++) {
      queue.set(i % 2);
      telemetry.clock.now += 1000;
      await telemetry.alerts.evaluate();
    }
    const history = telemetry.alerts.transitions();
    expect(history.map((t) => t.to)).toEqual(['firing', 'resolved', 'firing']);
    expect(history.at(-1)?.at).toBe(telemetry.clock.now);
  });

  it('evaluates on an unref’d 30 s timer by default', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 24) });
    const telemetry = makeClocked({ now: () => Date.now(), alerts: [{ id: 'q', condition: 'queue_count > 10' }] });
    telemetry.metrics.gauge('queue.count').set(11);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(telemetry.alerts.state('q')?.state).toBe('inactive');
    await vi.advanceTimersByTimeAsync(1);
    expect(telemetry.alerts.state('q')).toMatchObject({ state: 'firing', evaluatedAt: Date.UTC(2026, 10, 24) + 30_000 });
    await telemetry.shutdown();
    telemetry.metrics.gauge('queue.count').set(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(telemetry.alerts.state('q')?.state).toBe('firing');
  });

  it('takes an evaluation interval from the object form of the option', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 24) });
    const telemetry = makeClocked({
      now: () => Date.now(),
      alerts: { rules: [{ id: 'q', condition: 'queue_count > 10' }], interval: '5s' },
    });
    telemetry.metrics.gauge('queue.count').set(11);
    await vi.advanceTimersByTimeAsync(5000);
    expect(telemetry.alerts.state('q')?.state).toBe('firing');
  });
});

describe('rules at run time', () => {
  it('adds, disables, enables and removes rules; a firing rule resolves when it goes', async () => {
    const telemetry = makeClocked();
    const events = collect(telemetry, ['telemetry.alert-event']);
    telemetry.metrics.gauge('queue.count').set(500);
    telemetry.alerts.add({ id: 'a', condition: 'queue_count > 100' });
    telemetry.alerts.add({ id: 'b', condition: 'queue_count > 200', enabled: false });
    expect(telemetry.alerts.rules()).toEqual(['a', 'b']);
    expect(() => telemetry.alerts.add({ id: 'a', condition: '1' })).toThrow(
      'alerts.add("a").id: expected an id no other rule has',
    );
    expect(() => telemetry.alerts.add({ id: 'c', condition: 'queue_cnt > 1' })).toThrow(/nearest: queue_count/);
    await telemetry.alerts.evaluate();
    expect(telemetry.alerts.state().map((s) => [s.id, s.state, s.enabled])).toEqual([
      ['a', 'firing', true],
      ['b', 'inactive', false],
    ]);
    expect(telemetry.alerts.enable('b')).toBe(true);
    expect(telemetry.alerts.disable('a')).toBe(true);
    expect(telemetry.alerts.state('a')?.state).toBe('resolved');
    await telemetry.alerts.evaluate();
    expect(telemetry.alerts.state('a')?.state).toBe('resolved');
    expect(telemetry.alerts.state('b')?.state).toBe('firing');
    expect(telemetry.alerts.remove('b')).toBe(true);
    expect(telemetry.alerts.remove('b')).toBe(false);
    expect(telemetry.alerts.enable('zzz')).toBe(false);
    expect(telemetry.alerts.state('b')).toBeUndefined();
    await telemetry.flush();
    expect(events.map((e) => `${e.data.id} ${e.data.reason}`)).toEqual(['a firing', 'a resolved', 'b firing', 'b resolved']);
  });

  it('binds a sanitised name to a host metric created before the rule is added', async () => {
    const telemetry = makeClocked();
    const jobs = telemetry.metrics.counter('host.jobs-failed', { help: 'Failed jobs' });
    telemetry.alerts.add({ id: 'jobs', condition: 'host_jobs_failed >= 2' });
    jobs.inc(2);
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ to: 'firing', value: 2 }]);
  });

  it('reports once a metric() that is still missing from the registry, with the nearest names', async () => {
    const telemetry = makeClocked({ alerts: [{ id: 'late', condition: "metric('host.jobs') > 1" }] });
    const errors = collect(telemetry, ['telemetry.*-error']);
    await telemetry.alerts.evaluate();
    await telemetry.alerts.evaluate();
    telemetry.metrics.counter('host.jobs', { help: 'Jobs' }).inc(5);
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ to: 'firing', value: 5 }]);
    await telemetry.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.data).toMatchObject({ id: 'alerts.late' });
    expect(errors[0]?.data.reason).toContain('metric "host.jobs" is not in the registry');
  });
});

describe('templates', () => {
  it('fills in %{metric}%, {{ value }}, {{ labels.x }}, {{ annotations.x }} and leaves unknown metrics as written', async () => {
    const telemetry = makeClocked({
      alerts: [
        {
          id: 'queue-high',
          condition: 'queue_count > 1_000',
          labels: { team: 'mail', severity: 'page' },
          annotations: { summary: 'queue at {{ value }} for {{ labels.team }}' },
          event: {
            message:
              '{{ id }} {{ state }}: {{ annotations.summary }}; %{queue.count}% queued, %{smtp.connection-start}% conns, %{no.such-metric}% kept',
          },
        },
      ],
    });
    const events = collect(telemetry, ['telemetry.alert-event']);
    telemetry.metrics.gauge('queue.count').set(1234.5);
    connections(telemetry, 2);
    await telemetry.alerts.evaluate();
    await telemetry.flush();
    expect(events[0]?.data.details).toBe(
      'queue-high firing: queue at 1234.5 for mail; 1234.5 queued, 2 conns, %{no.such-metric}% kept',
    );
  });

  it('turns the event off with event: false', async () => {
    const telemetry = makeClocked({ alerts: [{ id: 'q', condition: '1', event: false }] });
    const events = collect(telemetry, ['telemetry.alert-event']);
    expect(await telemetry.alerts.evaluate()).toHaveLength(1);
    await telemetry.flush();
    expect(events).toEqual([]);
  });
});

describe('alert configuration errors', () => {
  it('names the option path, the value and what was expected', () => {
    expect(configError({ id: 'x', condition: 'queue_count > (1 +' }).message).toBe(
      'options.alerts[0].condition: expected a valid alert expression: the expression ends too early at column 19\n  queue_count > (1 +\n                    ^',
    );
    expect(configError({ id: 'x', condition: 'smtp_conection_start > 1' }).message).toContain(
      'unknown metric "smtp_conection_start" at column 1 (nearest: smtp_connection_start',
    );
    expect(configError({ id: 'x', condition: '1', colour: 'red' }).path).toBe('options.alerts[0].colour');
    expect(configError({ id: 'bad id', condition: '1' }).path).toBe('options.alerts[0].id');
    expect(configError({ id: 'x', condition: 1 }).path).toBe('options.alerts[0].condition');
    expect(configError({ id: 'x', condition: '1', for: '5 minutes' }).message).toContain("such as '30s', '5m', '1h'");
    expect(configError({ id: 'x', condition: '1', keepFiringFor: -1 }).path).toBe('options.alerts[0].keepFiringFor');
    expect(configError({ id: 'x', condition: '1', labels: { 'bad-name': 'x' } }).path).toBe('options.alerts[0].labels');
    expect(configError({ id: 'x', condition: '1', annotations: { s: '{{ nope }}' } }).message).toContain(
      'unknown placeholder {{ nope }}',
    );
    expect(configError({ id: 'x', condition: '1', annotations: { s: '{{ annotations.s }}' } }).path).toBe(
      'options.alerts[0].annotations.s',
    );
    expect(configError({ id: 'x', condition: '1', event: 'yes' }).path).toBe('options.alerts[0].event');
    expect(configError({ id: 'x', condition: "rate(smtp_connection_start, '5m') > 1" }).message).toContain(
      'window functions (rate, increase, avg_over) only with history recording metric series',
    );
    expect(configError({ id: 'x', condition: 'p95(queue_count) > 1' }).message).toContain('p95 needs a histogram');
  });

  it('checks the actions', () => {
    const mail = { from: 'alerts@example.org', to: 'ops@example.org', subject: 's', body: 'b' };
    expect(configError({ id: 'x', condition: '1', email: mail }).message).toContain('only with the sendMail option');
    const sendMail = async () => {};
    expect(configError({ id: 'x', condition: '1', email: { ...mail, from: 'Ops <a@b>' } }, sendMail).path).toBe(
      'options.alerts[0].email.from',
    );
    expect(
      configError({ id: 'x', condition: '1', email: { ...mail, to: ['ok@example.org', 'x\r\nBcc: evil@example.org'] } }, sendMail)
        .path,
    ).toBe('options.alerts[0].email.to[1]');
    expect(configError({ id: 'x', condition: '1', email: { ...mail, to: [] } }, sendMail).path).toBe(
      'options.alerts[0].email.to',
    );
    expect(configError({ id: 'x', condition: '1', email: { ...mail, subject: '' } }, sendMail).path).toBe(
      'options.alerts[0].email.subject',
    );
    expect(configError({ id: 'x', condition: '1', webhook: { url: 'ftp://example.org' } }).path).toBe(
      'options.alerts[0].webhook.url',
    );
    const secret = configError({
      id: 'x',
      condition: '1',
      webhook: { url: 'http://127.0.0.1/', headers: { authorization: 'Bearer s3cret\n' } },
    });
    expect(secret.path).toBe('options.alerts[0].webhook.headers.authorization');
    expect(secret.message).not.toContain('s3cret');
    expect(configError({ id: 'x', condition: '1', alertmanager: { url: 'http://127.0.0.1:9093', resendInterval: 0 } }).path).toBe(
      'options.alerts[0].alertmanager.resendInterval',
    );
    expect(() => make({ sendMail: 'smtp://x' as never })).toThrow('options.sendMail: expected a function');
  });

  it('refuses duplicate ids and a malformed object form', () => {
    expect(() =>
      make({
        alerts: [
          { id: 'a', condition: '1' },
          { id: 'a', condition: '2' },
        ],
      }),
    ).toThrow('options.alerts[1].id: expected an id no other rule has');
    const objectForm = (value: unknown) => () => make({ alerts: value as AlertRuleOptions[] });
    expect(objectForm({ rules: [], interval: 0 })).toThrow('options.alerts.interval');
    expect(objectForm({ rules: [], every: 1 })).toThrow('options.alerts.every');
    expect(objectForm({ rules: 'x' })).toThrow('options.alerts.rules');
    expect(objectForm('x')).toThrow('options.alerts: expected a list of alert rules');
  });
});
