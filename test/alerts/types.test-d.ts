import { describe, expectTypeOf, it } from 'vitest';
import {
  type AlertRuleOptions,
  type AlertStatus,
  type AlertTransition,
  createTelemetry,
  type Duration,
  type SendMail,
} from '../../src/index.js';

describe('alert types', () => {
  it('types rules, durations and the host transport', () => {
    const sendMail: SendMail = async ({ from, to, raw }) => {
      expectTypeOf(from).toEqualTypeOf<string>();
      expectTypeOf(to).toEqualTypeOf<readonly string[]>();
      expectTypeOf(raw).toEqualTypeOf<string>();
    };
    const rule: AlertRuleOptions = {
      id: 'queue-high',
      condition: 'queue_count > 1_000',
      for: '5m',
      keepFiringFor: 60_000,
      repeatInterval: '4h',
      labels: { severity: 'page' },
      annotations: { summary: 'queue at {{ value }}' },
      event: { message: '{{ id }} {{ state }}' },
      email: { from: 'a@example.org', to: ['b@example.org'], subject: 's', body: 'b' },
      webhook: { url: 'https://hooks.example.org/alerts', headers: { authorization: 'Bearer x' } },
      alertmanager: { url: 'http://127.0.0.1:9093', resendInterval: '1m' },
    };
    createTelemetry({ alerts: [rule], sendMail });
    expectTypeOf<'90s'>().toExtend<Duration>();
    // @ts-expect-error: a duration needs a unit
    const bad: Duration = '5 minutes';
    // @ts-expect-error: unknown rule option
    const unknown: AlertRuleOptions = { id: 'x', condition: '1', colour: 'red' };
    // @ts-expect-error: a condition is a string expression, never a function
    const fn: AlertRuleOptions = { id: 'x', condition: () => true };
    void [bad, unknown, fn];
  });

  it('types the run-time API', () => {
    const telemetry = createTelemetry();
    expectTypeOf(telemetry.alerts.state()).toEqualTypeOf<readonly AlertStatus[]>();
    expectTypeOf(telemetry.alerts.state('x')).toEqualTypeOf<AlertStatus | undefined>();
    expectTypeOf(telemetry.alerts.evaluate()).toEqualTypeOf<Promise<readonly AlertTransition[]>>();
    expectTypeOf<AlertStatus['state']>().toEqualTypeOf<'inactive' | 'pending' | 'firing' | 'resolved'>();
    // @ts-expect-error: add takes a rule
    telemetry.alerts.add('queue_count > 1');
  });
});
