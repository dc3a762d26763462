import { describe, expect, it } from 'vitest';
import { TelemetryConfigError } from '../../src/index.js';
import { make } from '../support/telemetry.js';

const KEY = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

function error(webhook: Record<string, unknown>): TelemetryConfigError {
  try {
    make({ webhooks: [{ id: 'w', url: 'http://127.0.0.1:9/hook', ...webhook }] as never }).shutdown();
  } catch (e) {
    expect(e).toBeInstanceOf(TelemetryConfigError);
    return e as TelemetryConfigError;
  }
  throw new Error('expected a TelemetryConfigError');
}

describe('webhook options', () => {
  it('accepts a full configuration', async () => {
    const telemetry = make({
      webhooks: [
        {
          id: 'all',
          url: 'https://hooks.example/telemetry',
          events: ['smtp.*', 'auth.success'],
          exclude: ['smtp.raw-*'],
          level: 'info',
          throttle: 0,
          maxBatchEvents: 10,
          maxBatchBytes: 4096,
          timeout: 1,
          discardAfter: 1,
          lossy: true,
          maxPending: 5,
          maxPendingBytes: 1 << 20,
          headers: { 'X-Tenant': 'mx1' },
          auth: { type: 'bearer', token: 't0ken' },
          signatureKey: KEY,
          signing: 'both',
          retry: { initialDelay: 1, maxDelay: 1, multiplier: 1, jitter: 0 },
          onDiscard: () => {},
        },
      ],
    });
    expect(telemetry.webhooks.ids()).toEqual(['all']);
    await telemetry.shutdown(100);
  });

  it('bounds memory by default (64 MiB) and takes Infinity to lift the bound', async () => {
    const { resolveWebhooks } = await import('../../src/webhooks/options.js');
    const [bounded] = resolveWebhooks([{ id: 'a', url: 'http://127.0.0.1:9/hook' }], 'options.webhooks');
    expect(bounded?.maxPendingBytes).toBe(64 * 1024 * 1024);
    const [unbounded] = resolveWebhooks(
      [{ id: 'b', url: 'http://127.0.0.1:9/hook', maxPendingBytes: Number.POSITIVE_INFINITY }],
      'options.webhooks',
    );
    expect(unbounded?.maxPendingBytes).toBe(Number.POSITIVE_INFINITY);
    expect(error({ maxPendingBytes: 10 }).path).toBe('options.webhooks[0].maxPendingBytes');
  });

  it.each([
    [{ url: 'not a url' }, 'options.webhooks[0].url', 'absolute http: or https: URL'],
    [{ url: 'ftp://127.0.0.1/x' }, 'options.webhooks[0].url', 'http: or https: URL'],
    [{ url: 42 }, 'options.webhooks[0].url', 'URL'],
    [{ throttle: -1 }, 'options.webhooks[0].throttle', 'milliseconds from 0'],
    [{ timeout: -5 }, 'options.webhooks[0].timeout', 'milliseconds from 1'],
    [{ timeout: 0 }, 'options.webhooks[0].timeout', 'milliseconds from 1'],
    [{ discardAfter: -1 }, 'options.webhooks[0].discardAfter', 'milliseconds'],
    [{ discardAfter: Number.NaN }, 'options.webhooks[0].discardAfter', 'milliseconds'],
    [{ retry: { initialDelay: -1 } }, 'options.webhooks[0].retry.initialDelay', 'milliseconds'],
    [{ retry: { initialDelay: 10, maxDelay: 5 } }, 'options.webhooks[0].retry.maxDelay', 'at least initialDelay'],
    [{ retry: { jitter: 2 } }, 'options.webhooks[0].retry.jitter', 'fraction'],
    [{ retry: { limit: 3 } }, 'options.webhooks[0].retry.limit', 'known options'],
    [{ signatureKey: 'k', signing: 'hmac' }, 'options.webhooks[0].signing', '"stalwart", "standard" or "both"'],
    [{ signing: 'stalwart' }, 'options.webhooks[0].signing', 'without a signatureKey'],
    [{ maxBatchEvents: 0 }, 'options.webhooks[0].maxBatchEvents', 'integer of at least 1'],
    [{ maxBatchBytes: 1.5 }, 'options.webhooks[0].maxBatchBytes', 'integer'],
    [{ maxPending: 10 }, 'options.webhooks[0].maxPending', 'lossless'],
    [{ lossy: 'yes' }, 'options.webhooks[0].lossy', 'a boolean'],
    [{ level: 'verbose' }, 'options.webhooks[0].level', 'trace, debug'],
    [{ events: ['smtp.mail-frm'] }, 'options.webhooks[0].events[0]', 'known event name'],
    [{ exclude: 'smtp.*' }, 'options.webhooks[0].exclude', 'array'],
    [{ headers: { 'Content-Type': 'text/plain' } }, 'options.webhooks[0].headers["Content-Type"]', 'does not set itself'],
    [{ headers: { 'bad header': 'x' } }, 'options.webhooks[0].headers["bad header"]', 'valid HTTP header name'],
    [{ auth: { type: 'digest' } }, 'options.webhooks[0].auth.type', '"basic"'],
    [{ onDiscard: 'log' }, 'options.webhooks[0].onDiscard', 'a function'],
    [{ secret: 'x' }, 'options.webhooks[0].secret', 'known options'],
  ])('rejects %j', (webhook, path, expected) => {
    const e = error(webhook);
    expect(e.path).toBe(path);
    expect(e.message).toContain(expected);
  });

  it('has an empty API and no metrics without webhooks', async () => {
    const telemetry = make();
    expect(telemetry.webhooks.ids()).toEqual([]);
    expect(telemetry.webhooks.stats()).toEqual([]);
    expect(() => telemetry.webhooks.pause('x')).toThrow(RangeError);
    expect(telemetry.metrics.prometheus()).not.toContain('webhook_delivered');
    await telemetry.shutdown(10);
  });

  it('rejects a missing id, a duplicate id and a non-array', () => {
    expect(() => make({ webhooks: [{ url: 'http://127.0.0.1/' }] as never })).toThrow(/options\.webhooks\[0\]\.id/);
    expect(() =>
      make({
        webhooks: [
          { id: 'a', url: 'http://127.0.0.1/' },
          { id: 'a', url: 'http://127.0.0.1/' },
        ],
      }),
    ).toThrow(/options\.webhooks\[1\]\.id: expected an id no other webhook uses/);
    expect(() => make({ webhooks: {} as never })).toThrow(/options\.webhooks: expected an array/);
  });

  it('requires a whsec_ key of 24 to 64 bytes for standard signing', () => {
    expect(error({ signatureKey: 'plain-secret', signing: 'standard' }).message).toContain('whsec_');
    const short = `whsec_${Buffer.alloc(8).toString('base64')}`;
    expect(error({ signatureKey: short, signing: 'both' }).path).toBe('options.webhooks[0].signatureKey');
  });

  it('never echoes a secret in a configuration error', () => {
    const secrets = ['s3cret-signing-key', 'hunter2-password', 'bearer-t0ken-xyz', 'header-api-key\n'];
    const messages = [
      error({ signatureKey: secrets[0], signing: 'standard' }).message,
      error({ url: `http://admin:${secrets[1]}@127.0.0.1/hook` }).message,
      error({ auth: { type: 'bearer', token: `${secrets[2]}\r\n` } }).message,
      error({ auth: { type: 'basic', username: 'u', password: `${secrets[1]}\n` } }).message,
      error({ headers: { 'X-Api-Key': secrets[3] } }).message,
    ];
    for (const message of messages) for (const secret of secrets) expect(message).not.toContain(secret.trim());
    expect(messages[1]).toContain('use the auth option');
  });
});
