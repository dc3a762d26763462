/**
 * Webhook bodies under `stalwart`, against Stalwart's own: `crates/common/src/telemetry/webhooks/
 * mod.rs` posts `{"events":[…]}` written by `crates/trc/src/serializers/json.rs`
 * (`JsonEventSerializer::with_id().with_spans()`): `createdAt` and every `Value::Timestamp` as
 * `DateTime::to_rfc3339()` (to the second, `Z`), a nested `Value::Event` (an error) as
 * `{"type":"<event name>","data":{…}}`, `Value::None` left out, own keys before span keys.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeClocked } from '../support/telemetry.js';
import { useReceiver } from '../webhooks/receiver.js';

const hooks = useReceiver();
const KEY = 'stalwart-webhook-key';
const T0 = Date.UTC(2026, 0, 31, 12, 0, 20, 456);

function hook(stalwart?: '0.15' | '0.16' | false) {
  return {
    id: 'w',
    url: hooks.receiver.url,
    throttle: 0,
    signatureKey: KEY,
    events: ['queue.queue-message', 'smtp.*'] as ('queue.queue-message' | `${string}*${string}`)[],
    ...(stalwart === undefined ? {} : { stalwart }),
  };
}

function emitMessage(telemetry: ReturnType<typeof makeClocked>) {
  telemetry.clock.now = T0;
  const span = telemetry.span('smtp.connection-start', {
    remoteIp: '192.0.2.7',
    remotePort: 40000,
    listenerId: 'mx',
    localPort: 25,
  });
  span.emit('queue.message-queued', {
    queueId: 42,
    from: 'alice@example.org',
    to: ['bob@example.net'],
    size: 1024,
    nextRetry: Date.UTC(2026, 1, 1, 0, 0, 0),
    causedBy: new Error('disk full'),
  });
  return span;
}

describe('webhook bodies under stalwart', () => {
  it('0.15: the 0.15 name, RFC 3339 times, the nested error as an event, as json.rs writes them', async () => {
    const telemetry = makeClocked({ stalwart: '0.15', webhooks: [hook()] });
    const span = emitMessage(telemetry);
    await telemetry.flush();
    await hooks.receiver.until(1);
    const request = hooks.receiver.requests[0];
    if (request === undefined) throw new Error('no request');
    // X-Signature still signs the exact bytes sent.
    expect(request.headers['x-signature']).toBe(createHmac('sha256', KEY).update(request.raw).digest('base64'));
    const body = JSON.parse(request.raw.toString('utf8')) as { events: { id: unknown; type: string }[] };
    const queued = body.events.find((e) => e.type === 'queue.queue-message');
    // Golden: what Stalwart 0.15 posts for this event (the id is opaque: a decimal string).
    expect(queued).toEqual({
      id: expect.stringMatching(/^\d+$/),
      createdAt: '2026-01-31T12:00:20Z',
      type: 'queue.queue-message',
      data: {
        queueId: 42,
        from: 'alice@example.org',
        to: ['bob@example.net'],
        size: 1024,
        nextRetry: '2026-02-01T00:00:00Z',
        causedBy: { type: 'queue.queue-message', data: { reason: 'disk full' } },
        spanId: span.id,
        remoteIp: '192.0.2.7',
        remotePort: 40000,
        listenerId: 'mx',
        localPort: 25,
      },
    });
    // Member order is json.rs's too: id, createdAt, type, data; own keys, then spanId, then span keys.
    const raw = request.raw.toString('utf8');
    expect(raw.indexOf('"createdAt"')).toBeLessThan(raw.indexOf('"type"'));
    expect(Object.keys((queued as unknown as { data: object }).data).slice(-5)).toEqual([
      'spanId',
      'remoteIp',
      'remotePort',
      'listenerId',
      'localPort',
    ]);
  });

  it('0.16: the 0.16 name with the same values', async () => {
    const telemetry = makeClocked({ stalwart: '0.16', webhooks: [hook()] });
    emitMessage(telemetry);
    await telemetry.flush();
    await hooks.receiver.until(1);
    const events = hooks.receiver.requests.flatMap((r) => r.events);
    const queued = events.find((e) => e.type === 'queue.message-queued');
    expect(queued?.createdAt).toBe('2026-01-31T12:00:20Z');
    expect(queued?.data).toMatchObject({
      nextRetry: '2026-02-01T00:00:00Z',
      causedBy: { type: 'queue.message-queued', data: { reason: 'disk full' } },
    });
  });

  it('a webhook overrides the top-level setting, and no setting keeps the library shapes', async () => {
    const telemetry = makeClocked({
      stalwart: '0.15',
      webhooks: [
        { ...hook(false), id: 'own' },
        { ...hook('0.16'), id: 'new', url: `${hooks.receiver.url}?new` },
      ],
    });
    emitMessage(telemetry);
    await telemetry.flush();
    await hooks.receiver.until(2);
    const own = hooks.receiver.requests.filter((r) => !r.url.includes('new')).flatMap((r) => r.events);
    const renamed = hooks.receiver.requests.filter((r) => r.url.includes('new')).flatMap((r) => r.events);
    const ownQueued = own.find((e) => e.type === 'queue.message-queued');
    expect(ownQueued?.createdAt).toBe('2026-01-31T12:00:20.456Z');
    expect(ownQueued?.data.nextRetry).toBe(Date.UTC(2026, 1, 1));
    expect(ownQueued?.data.causedBy).toEqual({ type: 'Error', message: 'disk full' });
    expect(renamed.some((e) => e.type === 'queue.message-queued')).toBe(true);
  });
});
