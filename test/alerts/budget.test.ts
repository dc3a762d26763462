import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LABEL_WORK } from '../../src/alerts/options.js';
import { TelemetryConfigError } from '../../src/index.js';
import { make, makeClocked } from '../support/telemetry.js';
import { collect } from './helpers.js';

/** Polynomial on a backtracking engine: two repeats, and a `!` no value holds. */
const PATHOLOGICAL = '[a-z ]*[a-z ]*!';
const LONG = 1022;

/** A distinct 1,022-character value per series (letters, then spaces), all of them worst cases for {@link PATHOLOGICAL}. */
function longValue(i: number): string {
  return i
    .toString(26)
    .replace(/[0-9]/g, (d) => String.fromCharCode(113 + Number(d)))
    .padEnd(LONG, ' ');
}

/** A host counter with `count` series of long label values, as a host that labels by path would have. */
function manyLongSeries(telemetry: ReturnType<typeof makeClocked>, count: number) {
  const paths = telemetry.metrics.counter('host.paths', { help: 'Requests by path', labels: ['path'] });
  for (let i = 0; i < count; i++) paths.inc({ path: longValue(i) });
  return paths;
}

describe('alert label patterns: a work budget per evaluation of one rule', () => {
  it('skips and reports a rule whose pattern would block over 2,000 long series; healthy rules beside it fire', async () => {
    const telemetry = makeClocked({ metrics: { maxSeries: 2000 } });
    manyLongSeries(telemetry, 2000);
    const sent = telemetry.metrics.counter('host.sent', { help: 'Messages sent' });
    sent.inc(10);
    const errors = collect(telemetry, ['telemetry.*-error']);
    const fired = collect(telemetry, ['telemetry.alert-event']);
    telemetry.alerts.add({ id: 'slow', condition: `host_paths{path=~"${PATHOLOGICAL}"} >= 0` });
    // One repeat costs one unit per character: 2,000 long values stay well inside the budget.
    telemetry.alerts.add({ id: 'linear', condition: 'host_paths{path!~"zzz.*"} > 1000' });
    telemetry.alerts.add({ id: 'plain', condition: 'host_sent > 5' });

    const transitions = await telemetry.alerts.evaluate();
    await telemetry.flush();

    expect(transitions.map((t) => [t.id, t.to])).toEqual([
      ['linear', 'firing'],
      ['plain', 'firing'],
    ]);
    expect(fired.map((e) => e.data.id)).toEqual(['linear', 'plain']);
    const slow = telemetry.alerts.state('slow');
    expect(slow).toMatchObject({ state: 'inactive', skipped: 1 });
    expect(slow?.evaluatedAt).toBeUndefined();
    // It stopped before the one test that would have passed the budget.
    expect(slow?.labelWork).toBeGreaterThan(0);
    expect(slow?.labelWork).toBeLessThanOrEqual(DEFAULT_MAX_LABEL_WORK);
    expect(slow?.labelWork).toBeGreaterThan(DEFAULT_MAX_LABEL_WORK - (LONG + 1) ** 2);
    expect(telemetry.alerts.state('linear')).toMatchObject({ skipped: 0, labelWork: 2000 * (LONG + 1) });
    expect(telemetry.alerts.state('plain')).toMatchObject({ skipped: 0, labelWork: 0 });
    const reports = errors.filter((e) => e.data.id === 'alerts.slow');
    expect(reports).toHaveLength(1);
    expect(reports[0]?.type).toBe('telemetry.alert-error');
    expect(reports[0]?.data.reason).toMatch(/skipped: its label patterns need more than maxLabelWork \(50000000 work units\)/);
    expect(reports[0]?.data.details).toContain('skipped evaluations of this rule: 1');

    // Every evaluation has a budget of its own, and every skipped one is counted and reported.
    await telemetry.alerts.evaluate();
    await telemetry.flush();
    expect(telemetry.alerts.state('slow')?.skipped).toBe(2);
    expect(errors.filter((e) => e.data.id === 'alerts.slow')).toHaveLength(2);
    expect(telemetry.alerts.state('linear')).toMatchObject({ state: 'firing', skipped: 0 });
  });

  it('keeps the state of a firing rule while its evaluations are skipped', async () => {
    const telemetry = makeClocked({ metrics: { maxSeries: 2000 }, alerts: { rules: [], maxLabelWork: 100_000 } });
    const paths = manyLongSeries(telemetry, 1);
    telemetry.alerts.add({ id: 'wide', condition: 'host_paths{path=~"q.*"} > 0' });
    await telemetry.alerts.evaluate();
    expect(telemetry.alerts.state('wide')).toMatchObject({ state: 'firing', skipped: 0 });
    // 200 more long values cost 200 × 1,023 units, past this instance's budget of 100,000.
    for (let i = 1; i <= 200; i++) paths.inc({ path: longValue(i) });
    expect(await telemetry.alerts.evaluate()).toEqual([]);
    expect(telemetry.alerts.state('wide')).toMatchObject({ state: 'firing', skipped: 1 });
  });

  it('takes maxLabelWork as a positive integer only', () => {
    for (const bad of [0, -1, 1.5, '10', Number.POSITIVE_INFINITY])
      expect(() => make({ alerts: { rules: [], maxLabelWork: bad as number } })).toThrow(TelemetryConfigError);
    expect(() => make({ alerts: { rules: [], maxLabelWork: 0 } })).toThrow(/alerts\.maxLabelWork/);
  });

  it('never throws, whatever the pattern and the label values (property)', async () => {
    const piece = fc.constantFrom('a', 'b', ' ', '.', '*', '+', '?', '|', '(', ')', '[a-z ]', '{2,}', '\\d', '^', '$', '!', '\\');
    const pattern = fc.oneof(
      fc.array(piece, { maxLength: 12 }).map((parts) => parts.join('')),
      fc.string({ maxLength: 12 }).map((text) => text.replace(/["'\n]/g, '')),
    );
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.nat({ max: 1200 }).map((n) => 'a'.repeat(n)),
    );
    // One instance for every run: each run has a metric and a rule of its own.
    const telemetry = makeClocked({ alerts: { rules: [], maxLabelWork: 200_000 } });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(pattern, fc.array(value, { minLength: 1, maxLength: 30 }), async (source, values) => {
        const name: `host.${string}` = `host.values-${++run}`;
        const c = telemetry.metrics.counter(name, { help: 'By value', labels: ['v'] });
        for (const v of values) c.inc({ v });
        const ref = `metric('${name}')`;
        try {
          telemetry.alerts.add({ id: name, condition: `${ref}{v=~"${source}"} > 0 || ${ref}{v!~"${source}"} > 0` });
        } catch (error) {
          // A refused pattern is a configuration error, never anything else.
          expect(error).toBeInstanceOf(TelemetryConfigError);
          return;
        }
        await telemetry.alerts.evaluate();
        const state = telemetry.alerts.state(name);
        telemetry.alerts.remove(name);
        expect(state?.labelWork).toBeLessThanOrEqual(200_000);
        expect(state?.skipped === 1 || state?.evaluatedAt !== undefined).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

describe('alert templates and actions under hostile values', () => {
  it('read only own label entries: {{ labels.constructor }} and {{ labels.__proto__ }} are empty', async () => {
    const telemetry = makeClocked();
    telemetry.metrics.counter('host.sent', { help: 'Messages sent' }).inc(3);
    const fired = collect(telemetry, ['telemetry.alert-event']);
    telemetry.alerts.add({
      id: 'proto',
      condition: 'host_sent > 1',
      labels: { team: 'mail' },
      event: { message: '[{{ labels.constructor }}|{{ labels.__proto__ }}|{{ labels.toString }}|{{ labels.team }}]' },
    });
    await telemetry.alerts.evaluate();
    await telemetry.flush();
    expect(fired.map((e) => e.data.details)).toEqual(['[|||mail]']);
  });

  it('describe an action failure of any thrown value, without an unhandled rejection', async () => {
    const hostile = [
      Object.create(null),
      Object.defineProperty(new Error('x'), 'message', {
        get() {
          throw new Error('no message');
        },
      }),
      {
        toString() {
          throw new Error('no text');
        },
      },
      Symbol('sent'),
      undefined,
    ];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let call = 0;
      const telemetry = makeClocked({ sendMail: () => Promise.reject(hostile[call++ % hostile.length]) });
      const errors = collect(telemetry, ['telemetry.*-error']);
      telemetry.metrics.counter('host.sent', { help: 'Messages sent' }).inc(3);
      hostile.forEach((_, i) => {
        telemetry.alerts.add({
          id: `mail${i}`,
          condition: 'host_sent > 1',
          event: false,
          email: { from: 'alerts@example.org', to: 'ops@example.org', subject: '{{ id }}', body: 'sent: %{host.sent}%' },
        });
      });
      await telemetry.alerts.evaluate();
      await telemetry.flush();
      await new Promise((resolve) => setImmediate(resolve));
      const reasons = errors.map((e) => e.data.reason);
      expect(reasons).toHaveLength(hostile.length);
      for (const reason of reasons) expect(reason).toMatch(/^the email action of alert mail\d failed: \S/);
      expect(reasons).toContain('the email action of alert mail0 failed: an unprintable object');
      expect(reasons).toContain('the email action of alert mail3 failed: Symbol(sent)');
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
