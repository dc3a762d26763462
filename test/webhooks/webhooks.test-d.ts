import { describe, expectTypeOf, it } from 'vitest';
import { createTelemetry, type WebhookDiscardReason, type WebhookEvent, type WebhookStats } from '../../src/index.js';

describe('webhook types', () => {
  it('types event selections, signing modes and auth', () => {
    createTelemetry({
      webhooks: [
        {
          id: 'a',
          url: 'https://hooks.example/',
          events: ['smtp.*', 'auth.success'],
          exclude: ['*-error'],
          signing: 'standard',
          signatureKey: 'whsec_...',
          auth: { type: 'bearer', token: 't' },
          onDiscard: (events, reason) => {
            expectTypeOf(events).toEqualTypeOf<readonly WebhookEvent[]>();
            expectTypeOf(reason).toEqualTypeOf<WebhookDiscardReason>();
          },
        },
      ],
    });
    // @ts-expect-error: a typo in an event name
    createTelemetry({ webhooks: [{ id: 'a', url: 'http://x/', events: ['smtp.mail-frm'] }] });
    // @ts-expect-error: an unknown signing mode
    createTelemetry({ webhooks: [{ id: 'a', url: 'http://x/', signatureKey: 'k', signing: 'hmac' }] });
    // @ts-expect-error: basic auth needs a password
    createTelemetry({ webhooks: [{ id: 'a', url: 'http://x/', auth: { type: 'basic', username: 'u' } }] });
    // @ts-expect-error: the url is required
    createTelemetry({ webhooks: [{ id: 'a' }] });
  });

  it('types stats per endpoint and for all', () => {
    const telemetry = createTelemetry();
    expectTypeOf(telemetry.webhooks.stats('a')).toEqualTypeOf<WebhookStats>();
    expectTypeOf(telemetry.webhooks.stats()).toEqualTypeOf<readonly WebhookStats[]>();
    expectTypeOf(telemetry.webhooks.stats('a').state).toEqualTypeOf<'active' | 'paused' | 'disabled'>();
    expectTypeOf(telemetry.webhooks.pause).parameters.toEqualTypeOf<[id: string]>();
  });
});
