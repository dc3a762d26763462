import { describe, expect, it } from 'vitest';
import type { TelemetryEvent, WebhookDiscardReason, WebhookEvent } from '../../src/index.js';
import { until } from '../support/guards.js';
import { make } from '../support/telemetry.js';
import { type Hook, useReceiver } from './receiver.js';

const FAST = { initialDelay: 1, maxDelay: 5, jitter: 0.5 };
const env = useReceiver();

/** A telemetry instance with webhook `hook` delivering to the receiver, fast retries, its discards and reports. */
function withWebhook(webhook: Partial<Hook>, now?: () => number) {
  const discards: [readonly WebhookEvent[], WebhookDiscardReason][] = [];
  const telemetry = make({
    webhooks: [
      {
        id: 'hook',
        url: env.receiver.url,
        throttle: 1,
        retry: FAST,
        onDiscard: (events, reason) => discards.push([events, reason]),
        ...webhook,
      },
    ],
    ...(now === undefined ? {} : { now }),
  });
  const reports: TelemetryEvent[] = [];
  telemetry.on('telemetry.*', (e) => reports.push(e));
  return { telemetry, discards, reports };
}

function froms(events: readonly WebhookEvent[]): unknown[] {
  return events.map((e) => e.data.from);
}

const names = (from: number, n: number) => Array.from({ length: n }, (_, i) => `u${from + i}@example.org`);

describe('lossless delivery', () => {
  it('delivers 10,000 events while 30% of requests fail: every one, in order, deduplicated by id', async () => {
    // A fixed pattern: three in ten requests fail, by 500 or 503, by a reset connection, or (one in fifty) by no answer.
    env.receiver.answer = (n) =>
      n % 10 === 3 ? 500 : n % 10 === 6 ? 'reset' : n % 10 === 9 ? (n % 50 === 49 ? 'hang' : 503) : 200;
    const { telemetry } = withWebhook({ maxBatchEvents: 50, timeout: 250 });
    const total = 10_000;
    for (let i = 0; i < total; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    await env.receiver.until(total);
    await telemetry.flush(20_000);
    const seen = new Map<string, WebhookEvent>();
    for (const event of env.receiver.events) if (!seen.has(event.id)) seen.set(event.id, event);
    expect(seen.size).toBe(total);
    expect(froms([...seen.values()])).toEqual(names(0, total));
    const stats = telemetry.webhooks.stats('hook');
    expect(stats).toMatchObject({ delivered: total, pending: 0, discarded: 0, dropped: 0 });
    expect(stats.failed).toBeGreaterThanOrEqual(Math.floor(stats.requests * 0.3) - 1);
    expect(env.receiver.attempts).toBe(stats.requests + stats.failed);
  }, 30_000);

  it('flush and shutdown deliver what the window still holds', async () => {
    const { telemetry } = withWebhook({ throttle: 600_000 });
    telemetry.emit('smtp.mail-from', { from: 'a@example.org' });
    expect((await telemetry.flush()).complete).toBe(true);
    telemetry.emit('smtp.mail-from', { from: 'b@example.org' });
    expect(await telemetry.shutdown()).toEqual({ complete: true, pending: 0, subscribers: [] });
    expect(froms(env.receiver.events)).toEqual(['a@example.org', 'b@example.org']);
  });

  it('discards stale events after discardAfter, with exact counts and onDiscard', async () => {
    let clock = Date.UTC(2026, 0, 1);
    const start = clock;
    env.receiver.answer = () => 503;
    const { telemetry, discards, reports } = withWebhook({ discardAfter: 1000 }, () => clock);
    for (let i = 0; i < 5; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    await until(() => telemetry.webhooks.stats('hook').failed > 0, 5_000);
    clock = start + 500;
    for (let i = 5; i < 8; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    await until(() => telemetry.webhooks.stats('hook').pending === 8, 5_000);
    clock = start + 1001;
    await until(() => telemetry.webhooks.stats('hook').discarded === 5, 5_000);
    expect(telemetry.webhooks.stats('hook')).toMatchObject({ discarded: 5, pending: 3 });
    clock = start + 1501;
    await until(() => telemetry.webhooks.stats('hook').discarded === 8, 5_000);
    env.receiver.answer = () => 200;
    for (let i = 8; i < 10; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    await telemetry.flush();
    await telemetry.flush();
    expect(telemetry.webhooks.stats('hook')).toMatchObject({ discarded: 8, delivered: 2, pending: 0, dropped: 0 });
    expect(froms(env.receiver.events)).toEqual(names(8, 2));
    expect(discards.map(([events, reason]) => [froms(events), reason])).toEqual([
      [names(0, 5), 'stale'],
      [names(5, 3), 'stale'],
    ]);
    const discardReports = reports.filter(
      (e) => e.type === 'telemetry.webhook-error' && String(e.data.reason).startsWith('events discarded'),
    );
    expect(discardReports.map((e) => e.data)).toEqual([
      { id: 'hook', reason: 'events discarded (stale)', details: 'undelivered for longer than discardAfter', total: 5 },
      { id: 'hook', reason: 'events discarded (stale)', details: 'undelivered for longer than discardAfter', total: 3 },
    ]);
    expect(telemetry.metrics.prometheus()).toMatch(/telemetry_webhook_discarded[a-z_]*\{webhook="hook"\} 8/);
  });

  it('discards the oldest events above maxPendingBytes', async () => {
    const { telemetry, discards } = withWebhook({ maxPendingBytes: 2000 });
    telemetry.webhooks.pause('hook');
    for (let i = 0; i < 50; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    await telemetry.flush(50);
    const stats = telemetry.webhooks.stats('hook');
    expect(stats.pendingBytes).toBeLessThanOrEqual(2000);
    expect(stats.discarded + stats.pending).toBe(50);
    const discarded = discards.flatMap(([events]) => froms(events));
    expect(discarded).toEqual(names(0, stats.discarded));
    expect(new Set(discards.map(([, reason]) => reason))).toEqual(new Set(['bytes']));
    telemetry.webhooks.resume('hook');
    await telemetry.flush();
    expect(froms(env.receiver.events)).toEqual(names(stats.discarded, stats.pending));
  });

  it('shutdown hands what it could not deliver to onDiscard and reports it as pending', async () => {
    const { telemetry, discards } = withWebhook({});
    telemetry.webhooks.pause('hook');
    for (let i = 0; i < 3; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    const report = await telemetry.shutdown(50);
    expect(report).toMatchObject({ complete: false, pending: 3 });
    expect(discards.map(([events, reason]) => [froms(events), reason])).toEqual([[names(0, 3), 'shutdown']]);
  });

  it('reports an onDiscard that throws instead of throwing', async () => {
    const { telemetry, reports } = withWebhook({
      maxPendingBytes: 200,
      onDiscard: () => {
        throw new Error('dead-letter store down');
      },
    });
    telemetry.webhooks.pause('hook');
    for (let i = 0; i < 5; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    await telemetry.flush(20);
    await telemetry.flush(20);
    expect(reports.some((e) => e.data.reason === 'onDiscard threw: dead-letter store down')).toBe(true);
  });
});

describe('lossy delivery', () => {
  it('drops the oldest lowest-level events first above maxPending, counting every drop', async () => {
    const { telemetry, discards, reports } = withWebhook({ lossy: true, maxPending: 10 });
    telemetry.webhooks.pause('hook');
    for (let i = 0; i < 25; i++) {
      if (i % 5 === 0) telemetry.emit('auth.error', { details: `e${i}` });
      else telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    }
    await telemetry.flush(20);
    await telemetry.flush(20);
    expect(telemetry.webhooks.stats('hook')).toMatchObject({ pending: 10, dropped: 15, discarded: 0 });
    expect(discards.every(([events, reason]) => reason === 'dropped' && events.every((e) => e.type === 'smtp.mail-from'))).toBe(
      true,
    );
    const dropped = reports.filter((e) => e.type === 'telemetry.events-dropped' && e.data.id === 'hook');
    expect(dropped.reduce((sum, e) => sum + Number(e.data.total), 0)).toBe(15);
    telemetry.webhooks.resume('hook');
    await telemetry.flush();
    expect(env.receiver.events.map((e) => e.data.details ?? e.data.from)).toEqual([
      'e0',
      'e5',
      'e10',
      'e15',
      'u19@example.org',
      'e20',
      'u21@example.org',
      'u22@example.org',
      'u23@example.org',
      'u24@example.org',
    ]);
    expect(telemetry.metrics.prometheus()).toMatch(/telemetry_webhook_dropped[a-z_]*\{webhook="hook"\} 15/);
  });
});

describe('secrets', () => {
  it('never appear in events, stats, metrics or errors, whatever fails', async () => {
    const secrets = ['sig-key-5f1d', 'basic-pass-93a0', 'api-key-77c2'];
    env.receiver.answer = (n) => (n === 1 ? 500 : n === 2 ? 'reset' : n === 3 ? 'hang' : n === 4 ? 302 : 410);
    const seen: TelemetryEvent[] = [];
    const telemetry = make({
      webhooks: [
        {
          id: 'secretive',
          url: `${env.receiver.url}?x=1`,
          throttle: 1,
          timeout: 500,
          retry: FAST,
          signatureKey: secrets[0] as string,
          auth: { type: 'basic', username: 'mx', password: secrets[1] as string },
          headers: { 'X-Api-Key': secrets[2] as string },
        },
      ],
    });
    telemetry.subscribe({}, (batch) => {
      seen.push(...batch);
    });
    telemetry.emit('smtp.mail-from', { from: 'a@example.org' });
    await until(() => telemetry.webhooks.stats('secretive').state === 'disabled', 5_000);
    await telemetry.flush();
    await telemetry.flush();
    // Four failed attempts, then the discard of the held event when the 410 disabled the endpoint.
    expect(seen.filter((e) => e.type === 'telemetry.webhook-error').length).toBeGreaterThanOrEqual(5);
    expect(seen.some((e) => e.type === 'telemetry.webhook-disabled')).toBe(true);
    const text = [
      JSON.stringify(seen),
      JSON.stringify(telemetry.webhooks.stats()),
      telemetry.metrics.prometheus(),
      JSON.stringify(telemetry.stats()),
      JSON.stringify(await telemetry.shutdown(50)),
    ].join('\n');
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain(Buffer.from(`mx:${secrets[1]}`).toString('base64'));
  });
});
