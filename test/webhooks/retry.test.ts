import { describe, expect, it } from 'vitest';
import type { TelemetryEvent, WebhookDiscardReason, WebhookEvent } from '../../src/index.js';
import { until } from '../support/guards.js';
import { make } from '../support/telemetry.js';
import { type Hook, useReceiver } from './receiver.js';

const FAST = { initialDelay: 1, maxDelay: 5, jitter: 0 };
const env = useReceiver();

/** A telemetry instance with one webhook per element delivering to the receiver, fast retries, and its webhook errors. */
function withWebhooks(webhooks: Partial<Hook>[], now?: () => number) {
  const telemetry = make({
    webhooks: webhooks.map((w, i) => ({ id: `hook${i}`, url: env.receiver.url, throttle: 1, retry: FAST, ...w })),
    ...(now === undefined ? {} : { now }),
  });
  const errors: TelemetryEvent[] = [];
  telemetry.on('telemetry.webhook-*', (e) => errors.push(e));
  return { telemetry, errors };
}

function emit(telemetry: ReturnType<typeof withWebhooks>['telemetry'], n: number, from = 0): void {
  for (let i = from; i < from + n; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
}

/** Polls `check` until it holds (tests never assert timings, only eventual states). */
/** Flushes twice: reports made while the first flush delivered reach listeners in the second. */
async function settle(telemetry: ReturnType<typeof withWebhooks>['telemetry']): Promise<void> {
  await telemetry.flush();
  await telemetry.flush();
}

function froms(events: readonly WebhookEvent[]): unknown[] {
  return events.map((e) => e.data.from);
}

describe('retries', () => {
  it('retries 500s with backoff until delivered, reporting each failure', async () => {
    env.receiver.answer = (n) => (n <= 3 ? 500 : 200);
    const { telemetry, errors } = withWebhooks([{}]);
    emit(telemetry, 5);
    await env.receiver.until(5);
    await settle(telemetry);
    expect(froms(env.receiver.events)).toEqual([
      'u0@example.org',
      'u1@example.org',
      'u2@example.org',
      'u3@example.org',
      'u4@example.org',
    ]);
    expect(telemetry.webhooks.stats('hook0')).toMatchObject({
      delivered: 5,
      failed: 3,
      retried: 3,
      consecutiveFailures: 0,
      lastError: 'HTTP 500',
    });
    const failures = errors.filter((e) => e.type === 'telemetry.webhook-error');
    expect(failures.map((e) => e.data)).toEqual([
      { id: 'hook0', reason: 'HTTP 500', code: 500, total: 5, details: 'attempt 1 failed; retrying in 1 ms' },
      { id: 'hook0', reason: 'HTTP 500', code: 500, total: 5, details: 'attempt 2 failed; retrying in 2 ms' },
      { id: 'hook0', reason: 'HTTP 500', code: 500, total: 5, details: 'attempt 3 failed; retrying in 4 ms' },
    ]);
    // Every attempt carried the same bytes and the same webhook-id.
    expect(telemetry.metrics.prometheus()).toMatch(/telemetry_webhook_retried[a-z_]*\{webhook="hook0"\} 3/);
  });

  it('retries a timeout and a reset connection', async () => {
    env.receiver.answer = (n) => (n === 1 ? 'hang' : n === 2 ? 'reset' : 200);
    const { telemetry, errors } = withWebhooks([{ timeout: 1000 }]);
    emit(telemetry, 3);
    await env.receiver.until(3);
    await settle(telemetry);
    const reasons = errors.filter((e) => e.type === 'telemetry.webhook-error').map((e) => [e.data.reason, e.data.code]);
    expect(reasons[0]).toEqual(['no answer within 1000 ms', 'ETIMEDOUT']);
    expect(reasons[1]?.[0]).toMatch(/^request failed: [A-Z_]+$/);
    expect(froms(env.receiver.events)).toEqual(['u0@example.org', 'u1@example.org', 'u2@example.org']);
    expect(telemetry.webhooks.stats('hook0')).toMatchObject({ delivered: 3, failed: 2, retried: 2 });
  });

  it('honours Retry-After in seconds and as an HTTP date', async () => {
    const T = Date.UTC(2026, 0, 1, 12, 0, 0);
    env.receiver.answer = (n) =>
      n === 1
        ? { status: 503, headers: { 'retry-after': '1' } }
        : n === 2
          ? { status: 429, headers: { 'retry-after': new Date(T + 1000).toUTCString() } }
          : 200;
    const { telemetry, errors } = withWebhooks([{ retry: { initialDelay: 1, maxDelay: 2, jitter: 0 } }], () => T);
    emit(telemetry, 1);
    await until(() => telemetry.webhooks.stats('hook0').failed === 1, 5_000);
    expect(telemetry.webhooks.stats('hook0')).toMatchObject({ failed: 1, retryAt: T + 1000 });
    // A flush does not cut short a wait the receiver asked for.
    expect((await telemetry.flush(100)).complete).toBe(false);
    expect(env.receiver.attempts).toBe(1);
    await env.receiver.until(1);
    await settle(telemetry);
    const details = errors.filter((e) => e.type === 'telemetry.webhook-error').map((e) => e.data.details);
    expect(details).toEqual([
      'attempt 1 failed; retrying in 1000 ms as Retry-After asks',
      'attempt 2 failed; retrying in 1000 ms as Retry-After asks',
    ]);
    expect(env.receiver.attempts).toBe(3);
  });

  it('treats a 3xx as a failure and does not follow it', async () => {
    env.receiver.answer = (n, url) =>
      url.startsWith('/moved') ? 200 : n === 1 ? { status: 302, headers: { location: '/moved' } } : 200;
    const { telemetry } = withWebhooks([{}]);
    emit(telemetry, 2);
    await env.receiver.until(2);
    await telemetry.flush();
    expect(env.receiver.requests.map((r) => r.url)).toEqual(['/hook']);
    expect(env.receiver.attempts).toBe(2);
    expect(telemetry.webhooks.stats('hook0').lastError).toBe('HTTP 302 (redirects are not followed)');
  });

  it('a 410 disables the endpoint, discards what it held, and resume enables it again', async () => {
    env.receiver.answer = (n) => (n === 1 ? 410 : 200);
    const discarded: [readonly WebhookEvent[], WebhookDiscardReason][] = [];
    const { telemetry, errors } = withWebhooks([{ onDiscard: (events, reason) => discarded.push([events, reason]) }]);
    emit(telemetry, 3);
    await settle(telemetry);
    expect(telemetry.webhooks.stats('hook0')).toMatchObject({ state: 'disabled', discarded: 3, pending: 0 });
    const disabled = errors.find((e) => e.type === 'telemetry.webhook-disabled');
    expect(disabled?.data).toMatchObject({ id: 'hook0', code: 410 });
    expect(discarded.map(([events, reason]) => [froms(events), reason])).toEqual([
      [['u0@example.org', 'u1@example.org', 'u2@example.org'], 'disabled'],
    ]);
    emit(telemetry, 2, 3);
    await telemetry.flush();
    expect(env.receiver.attempts).toBe(1);
    telemetry.webhooks.resume('hook0');
    emit(telemetry, 2, 5);
    await telemetry.flush();
    expect(froms(env.receiver.events)).toEqual(['u5@example.org', 'u6@example.org']);
    expect(telemetry.webhooks.stats('hook0').state).toBe('active');
  });

  it('splits a batch the receiver refuses with 413, keeping order', async () => {
    const { telemetry, errors } = withWebhooks([{ throttle: 600_000 }]);
    const limit = 3;
    // The receiver refuses bodies of more than three events.
    env.receiver.answer = (_n, _url, raw) =>
      (JSON.parse(raw.toString()) as { events: unknown[] }).events.length > limit ? 413 : 200;
    emit(telemetry, 10);
    await settle(telemetry);
    expect(froms(env.receiver.events)).toEqual(Array.from({ length: 10 }, (_, i) => `u${i}@example.org`));
    expect(env.receiver.requests.every((r) => r.events.length <= limit)).toBe(true);
    const splits = errors.filter((e) => e.type === 'telemetry.webhook-error').map((e) => e.data.details);
    expect(splits[0]).toBe('payload too large: sending it as 5 and 5 events');
    expect(telemetry.webhooks.stats('hook0')).toMatchObject({ delivered: 10, discarded: 0, pending: 0 });
  });

  it('discards at once one event the receiver refuses with 413 on its own, and delivers the rest', async () => {
    const discarded: [unknown[], WebhookDiscardReason][] = [];
    const { telemetry, errors } = withWebhooks([
      { throttle: 600_000, onDiscard: (events, reason) => discarded.push([froms(events), reason]) },
    ]);
    env.receiver.answer = (_n, _url, raw) => (raw.toString().includes('huge@') ? 413 : 200);
    emit(telemetry, 2);
    telemetry.emit('smtp.mail-from', { from: 'huge@example.org' });
    emit(telemetry, 2, 2);
    await settle(telemetry);
    expect(froms(env.receiver.events)).toEqual(['u0@example.org', 'u1@example.org', 'u2@example.org', 'u3@example.org']);
    expect(discarded).toEqual([[['huge@example.org'], 'too-large']]);
    expect(telemetry.webhooks.stats('hook0')).toMatchObject({ delivered: 4, discarded: 1, pending: 0 });
    const reasons = errors.filter((e) => e.type === 'telemetry.webhook-error').map((e) => e.data.reason);
    expect(reasons).toContain('events discarded (too-large)');
  });

  it('keeps order across failures', async () => {
    env.receiver.answer = (n) => (n % 2 === 0 ? 500 : 200);
    const { telemetry } = withWebhooks([{ maxBatchEvents: 3 }]);
    emit(telemetry, 30);
    await env.receiver.until(30);
    expect(froms(env.receiver.events)).toEqual(Array.from({ length: 30 }, (_, i) => `u${i}@example.org`));
  });
});

describe('isolation', () => {
  it('a webhook never receives its own error events, but another one does', async () => {
    env.receiver.answer = (n, url) => (url.includes('a') && n <= 4 ? 500 : 200);
    const { telemetry } = withWebhooks([
      { id: 'a', url: `${env.receiver.url}?a` },
      { id: 'b', url: `${env.receiver.url}?b` },
    ]);
    emit(telemetry, 2);
    await telemetry.flush();
    await telemetry.flush();
    const toA = env.receiver.requests.filter((r) => r.url.endsWith('?a')).flatMap((r) => r.events);
    const toB = env.receiver.requests.filter((r) => r.url.endsWith('?b')).flatMap((r) => r.events);
    expect(telemetry.webhooks.stats('a').failed).toBeGreaterThan(0);
    expect(toA.filter((e) => e.data.id === 'a')).toEqual([]);
    const aboutA = toB.filter((e) => e.type === 'telemetry.webhook-error' && e.data.id === 'a');
    expect(aboutA.length).toBe(telemetry.webhooks.stats('a').failed);
  });
});
