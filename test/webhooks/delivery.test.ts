import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '../../src/index.js';
import { connection, make, type SessionOptions, session } from '../support/telemetry.js';
import { type Hook, useReceiver } from './receiver.js';

const KEY = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const env = useReceiver();

/** A telemetry instance with webhook `hook` (and `extra` ones) delivering to the test's receiver. */
function withWebhook(webhook: Partial<Hook> = {}, extra: Partial<Hook>[] = []) {
  return make({
    webhooks: [{ id: 'hook', url: env.receiver.url, throttle: 5, ...webhook }, ...(extra as Hook[])],
  });
}

/** The session these tests send: no EHLO, one MAIL FROM, one RCPT TO carrying a list. */
const SESSION: SessionOptions = {
  connection: connection('192.0.2.7', 50512),
  ehlo: false,
  from: 'bill@example.org',
  to: [['ann@example.org']],
};

describe('body', () => {
  it("is Stalwart's {events:[{id, createdAt, type, data}]} with span keys merged into data", async () => {
    const telemetry = withWebhook();
    const span = session(telemetry, SESSION);
    await telemetry.flush();
    expect(env.receiver.requests).toHaveLength(1);
    const [request] = env.receiver.requests;
    expect(request?.headers['content-type']).toBe('application/json');
    const events = env.receiver.events;
    expect(events.map((e) => e.type)).toEqual(['smtp.connection-start', 'smtp.mail-from', 'smtp.rcpt-to', 'smtp.connection-end']);
    const from = events[1];
    expect(Object.keys(from ?? {})).toEqual(['id', 'createdAt', 'type', 'data']);
    expect(from?.id).toMatch(/^\d+$/);
    expect(Date.parse(from?.createdAt ?? '')).not.toBeNaN();
    expect(from?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(from?.data).toEqual({
      from: 'bill@example.org',
      spanId: span.id,
      listenerId: 'smtp',
      localPort: 25,
      remoteIp: '192.0.2.7',
      remotePort: 50512,
    });
    expect(new Set(events.map((e) => e.id)).size).toBe(4);
  });

  it('uses the event ids consumers see, and encodes bytes, bigints and errors', async () => {
    const telemetry = withWebhook({ events: ['smtp.*'] });
    const seen: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['smtp.*'] }, (batch) => {
      seen.push(...batch);
    });
    telemetry.emit('smtp.raw-input', { contents: new Uint8Array([104, 105]) as never, size: 2 });
    telemetry.emit('smtp.syntax-error', { details: 'bad', causedBy: new Error('boom') });
    await telemetry.flush();
    expect(env.receiver.events.map((e) => e.id)).toEqual(seen.map((e) => String(e.id)));
    expect(env.receiver.events[0]?.data).toEqual({ contents: 'aGk=', size: 2 });
    expect(env.receiver.events[1]?.data).toEqual({ details: 'bad', causedBy: { type: 'Error', message: 'boom' } });
  });

  it('sends only the selected events', async () => {
    const telemetry = withWebhook({ events: ['smtp.*'], exclude: ['smtp.rcpt-to'], level: 'info' });
    session(telemetry, SESSION);
    telemetry.emit('auth.success');
    await telemetry.flush();
    // connection start/end are debug-level: below `info`.
    expect(env.receiver.events.map((e) => e.type)).toEqual(['smtp.mail-from']);
  });
});

describe('signatures', () => {
  it('stalwart: X-Signature is base64(HMAC-SHA256(key, raw body)) of the bytes sent', async () => {
    const telemetry = withWebhook({ signatureKey: 'shared-secret' });
    session(telemetry, SESSION);
    await telemetry.flush();
    const [request] = env.receiver.requests;
    const expected = createHmac('sha256', 'shared-secret')
      .update(request?.raw ?? '')
      .digest('base64');
    expect(request?.headers['x-signature']).toBe(expected);
    expect(request?.headers['webhook-signature']).toBeUndefined();
    expect(request?.headers['webhook-id']).toMatch(/^msg_\d+_\d+$/);
  });

  it('standard: verified by the standardwebhooks package', async () => {
    const telemetry = withWebhook({ signatureKey: KEY, signing: 'standard' });
    session(telemetry, SESSION);
    await telemetry.flush();
    const [request] = env.receiver.requests;
    const headers = request?.headers as Record<string, string>;
    expect(headers['x-signature']).toBeUndefined();
    expect(headers['webhook-signature']).toMatch(/^v1,/);
    const verified = new Webhook(KEY).verify(request?.raw ?? Buffer.alloc(0), headers) as { events: unknown[] };
    expect(verified.events).toHaveLength(4);
    // A single changed byte fails verification.
    const tampered = Buffer.from(request?.raw ?? '');
    tampered[tampered.length - 3] = 0x20;
    expect(() => new Webhook(KEY).verify(tampered, headers)).toThrow();
  });

  it('both: each header verifies on the same bytes', async () => {
    const telemetry = withWebhook({ signatureKey: KEY, signing: 'both' });
    session(telemetry, SESSION);
    await telemetry.flush();
    const [request] = env.receiver.requests;
    const headers = request?.headers as Record<string, string>;
    expect(headers['x-signature']).toBe(
      createHmac('sha256', KEY)
        .update(request?.raw ?? '')
        .digest('base64'),
    );
    expect(() => new Webhook(KEY).verify(request?.raw ?? '', headers)).not.toThrow();
  });
});

describe('headers and auth', () => {
  it('sends extra headers, Basic and Bearer auth', async () => {
    const basic = withWebhook({ headers: { 'X-Tenant': 'mx1' }, auth: { type: 'basic', username: 'mx', password: 'pa:ss' } });
    basic.emit('auth.success');
    await basic.flush();
    const bearer = withWebhook({ id: 'b', auth: { type: 'bearer', token: 'tok-123' } });
    bearer.emit('auth.success');
    await bearer.flush();
    const [first, second] = env.receiver.requests;
    expect(first?.headers['x-tenant']).toBe('mx1');
    expect(first?.headers.authorization).toBe(`Basic ${Buffer.from('mx:pa:ss').toString('base64')}`);
    expect(second?.headers.authorization).toBe('Bearer tok-123');
  });
});

describe('batching', () => {
  it('groups a throttle window into one request', async () => {
    const telemetry = withWebhook({ throttle: 50 });
    for (let i = 0; i < 20; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    await env.receiver.until(20);
    expect(env.receiver.requests).toHaveLength(1);
  });

  it('splits by maxBatchEvents and maxBatchBytes, in order', async () => {
    const telemetry = withWebhook({ maxBatchEvents: 7, throttle: 1000 });
    for (let i = 0; i < 50; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    await telemetry.flush();
    expect(env.receiver.requests.map((r) => r.events.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 1]);
    expect(env.receiver.events.map((e) => e.data.from)).toEqual(Array.from({ length: 50 }, (_, i) => `u${i}@example.org`));

    const bytes = withWebhook({ id: 'bytes', maxBatchBytes: 1000 });
    for (let i = 0; i < 40; i++) bytes.emit('smtp.mail-from', { from: `v${i}@example.org` });
    await bytes.flush();
    const sized = env.receiver.requests.slice(8);
    expect(sized.length).toBeGreaterThan(3);
    for (const r of sized) expect(r.raw.length).toBeLessThanOrEqual(1000);
    expect(sized.flatMap((r) => r.events).map((e) => e.data.from)).toEqual(
      Array.from({ length: 40 }, (_, i) => `v${i}@example.org`),
    );
  });

  it('sends one event larger than maxBatchBytes alone', async () => {
    const telemetry = withWebhook({ maxBatchBytes: 200 });
    telemetry.emit('smtp.mail-from', { from: 'a@example.org' });
    telemetry.emit('smtp.mail-from', { from: `${'x'.repeat(500)}@example.org` });
    telemetry.emit('smtp.mail-from', { from: 'c@example.org' });
    await telemetry.flush();
    expect(env.receiver.requests.map((r) => r.events.length)).toEqual([1, 1, 1]);
  });
});

describe('stats and metrics', () => {
  it('counts deliveries per endpoint in telemetry.webhooks and the registry', async () => {
    const telemetry = withWebhook();
    session(telemetry, SESSION);
    await telemetry.flush();
    const stats = telemetry.webhooks.stats('hook');
    expect(stats).toMatchObject({
      id: 'hook',
      state: 'active',
      pending: 0,
      delivered: 4,
      requests: 1,
      failed: 0,
      discarded: 0,
      dropped: 0,
    });
    expect(telemetry.webhooks.stats()).toEqual([stats]);
    expect(() => telemetry.webhooks.stats('nope')).toThrow(RangeError);
    const text = telemetry.metrics.prometheus();
    expect(text).toMatch(/telemetry_webhook_delivered[a-z_]*\{webhook="hook"\} 4/);
    expect(text).toMatch(/telemetry_webhook_failed[a-z_]*\{webhook="hook"\} 0/);
    expect(text).toMatch(/telemetry_webhook_pending[a-z_]*\{webhook="hook"\} 0/);
  });

  it('pause holds events; resume sends them', async () => {
    const telemetry = withWebhook();
    telemetry.webhooks.pause('hook');
    session(telemetry, SESSION);
    const report = await telemetry.flush(200);
    expect(report.complete).toBe(false);
    expect(report.subscribers).toContainEqual({ id: 'webhooks', pending: 4 });
    expect(telemetry.webhooks.stats('hook').state).toBe('paused');
    expect(env.receiver.attempts).toBe(0);
    telemetry.webhooks.resume('hook');
    await telemetry.flush();
    expect(env.receiver.events).toHaveLength(4);
  });
});
