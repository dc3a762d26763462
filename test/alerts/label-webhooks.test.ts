import { describe, expect, it } from 'vitest';
import { make } from '../support/telemetry.js';
import { useReceiver } from '../webhooks/receiver.js';

const env = useReceiver();

/** Polls `check` until it holds (no timing assertions, only eventual states). */
async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('label matchers over the library’s own webhook metrics', () => {
  it('alert when one endpoint fails and not when another delivers', async () => {
    env.receiver.answer = (_, url) => (url.includes('broken') ? 500 : 200);
    const hook = { events: ['smtp.*'], throttle: 1, retry: { initialDelay: 1, maxDelay: 5, jitter: 0 } } as const;
    const telemetry = make({
      webhooks: [
        { id: 'crm', url: env.receiver.url, ...hook },
        { id: 'siem', url: `${env.receiver.url}?broken`, ...hook },
      ],
      alerts: [
        { id: 'siem-failing', condition: 'telemetry_webhook_failed{webhook="siem"} >= 2', event: false },
        { id: 'crm-failing', condition: `metric('telemetry.webhook-failed'){webhook="crm"} >= 2`, event: false },
        { id: 'any-pending', condition: 'telemetry_webhook_pending{webhook=~"crm|siem"} > 1000', event: false },
      ],
    });
    telemetry.emit('smtp.mail-from', { from: 'a@example.org' });
    await env.receiver.until(1);
    await waitFor(() => telemetry.webhooks.stats('siem').failed >= 2);
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ id: 'siem-failing', to: 'firing' }]);
    expect(telemetry.alerts.state('crm-failing')).toMatchObject({ state: 'inactive', value: 0 });
    expect(telemetry.alerts.state('any-pending')?.state).toBe('inactive');
  });

  it('name the webhook metrics’ label when a matcher uses another (they exist once a webhook is configured)', () => {
    const build = () =>
      make({
        history: { series: {} },
        webhooks: [{ id: 'hook1', url: env.receiver.url }],
        alerts: [{ id: 'r', condition: `rate(metric('telemetry.webhook-failed'){id="hook1"}, '5m') > 0` }],
      });
    expect(build).toThrow('telemetry.webhook-failed has no label "id" at column 41 (its labels: webhook)');
  });
});
