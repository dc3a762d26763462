import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { TelemetryEvent, WebhookDiscardReason, WebhookEvent, WebhookPayload } from '../../src/index.js';
import { drainAnswer, MAX_ANSWER_BYTES } from '../../src/webhooks/answer.js';
import { until } from '../support/guards.js';
import { hostileScalars, hostileValue } from '../support/hostile.js';
import { listenLoopback, make } from '../support/telemetry.js';
import { type Hook, useReceiver } from './receiver.js';

const env = useReceiver();
const KEY = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

/** One request as a raw receiver saw it. */
interface Seen {
  readonly raw: Buffer;
  readonly headers: IncomingHttpHeaders;
}

/** A loopback receiver that records each request body, then answers with `respond` (which may never finish). */
async function rawReceiver(respond: (res: ServerResponse, n: number) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const { origin } = await listenLoopback((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ raw: Buffer.concat(chunks), headers: req.headers });
      respond(res, seen.length);
    });
  });
  return { url: `${origin}/hook`, seen };
}

/** Writes an endless answer body as fast as the connection takes it; resolves the bytes written once the client closes. */
function endless(res: ServerResponse): Promise<number> {
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(65_536, 120);
    res.writeHead(200, { 'content-type': 'text/plain' });
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
    };
    res.on('drain', pump);
    res.on('close', () => resolve(res.socket?.bytesWritten ?? Number.POSITIVE_INFINITY));
    pump();
  });
}

/** A telemetry instance with webhook `hook` delivering to the receiver, fast retries, its discards and reports. */
function withWebhook(webhook: Partial<Hook>, now?: () => number) {
  const discards: { events: readonly WebhookEvent[]; reason: WebhookDiscardReason }[] = [];
  const telemetry = make({
    webhooks: [
      {
        id: 'hook',
        url: env.receiver.url,
        throttle: 1,
        retry: { initialDelay: 1, maxDelay: 5, jitter: 0.5 },
        onDiscard: (events, reason) => discards.push({ events, reason }),
        ...webhook,
      },
    ],
    ...(now === undefined ? {} : { now }),
  });
  const reports: TelemetryEvent[] = [];
  telemetry.on('telemetry.*', (e) => reports.push(e));
  return { telemetry, discards, reports };
}

describe('a receiver that answers 200 and never finishes its body', () => {
  it('costs one attempt timeout, not the endpoint: the next batches are delivered', async () => {
    // The first answer sends a little and then stalls forever; later ones are normal.
    const receiver = await rawReceiver((res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
      } else res.end('ok');
    });
    // Long enough for the status line on a loaded machine; the stalled body still costs only this once.
    const { telemetry } = withWebhook({ url: receiver.url, timeout: 2000 });
    telemetry.emit('smtp.mail-from', { from: 'first@example.org' });
    await until(() => receiver.seen.length === 1, 10_000);
    telemetry.emit('smtp.mail-from', { from: 'second@example.org' });
    await until(() => telemetry.webhooks.stats('hook').delivered === 2, 10_000);
    // The status line acknowledged the first batch: it is not sent again.
    expect(telemetry.webhooks.stats('hook')).toMatchObject({ delivered: 2, requests: 2, failed: 0, pending: 0 });
    expect(receiver.seen.map((s) => (JSON.parse(s.raw.toString()) as WebhookPayload).events[0]?.data.from)).toEqual([
      'first@example.org',
      'second@example.org',
    ]);
  });

  it('reads a few KiB of an endless answer, then closes the connection and moves on', async () => {
    const written: Promise<number>[] = [];
    const receiver = await rawReceiver((res) => {
      written.push(endless(res));
    });
    const { telemetry } = withWebhook({ url: receiver.url, timeout: 60_000 });
    for (let i = 0; i < 3; i++) {
      telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
      await until(() => telemetry.webhooks.stats('hook').delivered === i + 1, 10_000);
    }
    expect(telemetry.webhooks.stats('hook')).toMatchObject({ delivered: 3, requests: 3, failed: 0 });
    // Each endless answer ended because the endpoint closed its connection (long before the 60 s timeout),
    // having taken no more than the socket buffers hold.
    const bytes = await Promise.all(written);
    expect(bytes).toHaveLength(3);
    for (const b of bytes) expect(b).toBeLessThan(32 * 1024 * 1024);
  });

  it('drainAnswer reads at most the cap plus one chunk of an endless body', async () => {
    const written: Promise<number>[] = [];
    const { origin } = await listenLoopback((_req, res) => {
      written.push(endless(res));
    });
    for (let i = 0; i < 3; i++) {
      const response = await fetch(origin);
      const read = await drainAnswer(response.body);
      expect(read).toBeGreaterThanOrEqual(MAX_ANSWER_BYTES);
      expect(read).toBeLessThanOrEqual(MAX_ANSWER_BYTES + 65_536);
    }
    expect(await Promise.all(written)).toHaveLength(3);
  });

  it('a stalled answer body of a failure counts as a failed attempt and is retried', async () => {
    const receiver = await rawReceiver((res, n) => {
      if (n === 1) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.write('busy');
      } else res.end('ok');
    });
    const { telemetry } = withWebhook({ url: receiver.url, timeout: 300 });
    telemetry.emit('smtp.mail-from', { from: 'a@example.org' });
    await until(() => telemetry.webhooks.stats('hook').delivered === 1, 10_000);
    expect(telemetry.webhooks.stats('hook')).toMatchObject({ delivered: 1, requests: 1, failed: 1, retried: 1 });
  });
});

describe('a storm against a small budget', () => {
  /** Every emitted `from` is delivered or handed to onDiscard, exactly once, and never both. */
  function account(emitted: number, delivered: readonly WebhookEvent[], discarded: readonly WebhookEvent[]) {
    const deliveredFroms = new Set(delivered.map((e) => e.data.from));
    const discardedFroms = discarded.map((e) => e.data.from);
    expect(new Set(discardedFroms).size).toBe(discardedFroms.length);
    for (const from of discardedFroms) expect(deliveredFroms.has(from)).toBe(false);
    expect(deliveredFroms.size + discardedFroms.length).toBe(emitted);
  }

  it('lossless: the intake queue is bounded by maxPendingBytes, and every refused event reaches onDiscard', async () => {
    const { telemetry, discards } = withWebhook({ maxPendingBytes: 16_384, maxBatchEvents: 100 });
    const total = 20_000;
    for (let i = 0; i < total; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    const intake = telemetry.stats().subscribers.find((s) => s.id === 'webhook:hook');
    // max(1024, 16 KiB / 512): not 20,000 records waiting for their first look.
    expect(intake?.queued).toBeLessThanOrEqual(1024);
    await telemetry.flush(10_000);
    await telemetry.flush(10_000);
    const stats = telemetry.webhooks.stats('hook');
    const discarded = discards.flatMap((d) => d.events);
    account(total, env.receiver.events, discarded);
    expect(new Set(discards.map((d) => d.reason))).toContain('queue-full');
    expect(stats.discarded).toBe(discarded.length);
    expect(stats.delivered + stats.discarded).toBe(total);
    expect(stats).toMatchObject({ pending: 0, dropped: 0 });
  }, 30_000);

  it('lossy: every drop, in the intake queue or over maxPending, reaches onDiscard exactly once', async () => {
    const { telemetry, discards } = withWebhook({ lossy: true, maxPending: 100, maxBatchEvents: 100 });
    const total = 30_000;
    for (let i = 0; i < total; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    await telemetry.flush(10_000);
    await telemetry.flush(10_000);
    const stats = telemetry.webhooks.stats('hook');
    const discarded = discards.flatMap((d) => d.events);
    account(total, env.receiver.events, discarded);
    expect(new Set(discards.map((d) => d.reason))).toEqual(new Set(['queue-full', 'dropped']));
    expect(stats.dropped).toBe(discarded.length);
    expect(stats.delivered + stats.dropped).toBe(total);
  }, 30_000);

  it('a 410 hands everything it took, waiting or queued, to onDiscard as disabled, once', async () => {
    let hold: ServerResponse | undefined;
    const receiver = await rawReceiver((res) => {
      hold = res;
    });
    const { telemetry, discards } = withWebhook({ url: receiver.url, maxBatchEvents: 10 });
    telemetry.emit('smtp.mail-from', { from: 'u0@example.org' });
    await until(() => hold !== undefined, 10_000);
    // These arrive while the 410 is on its way: some wait in the buffer, some may still be in the intake queue.
    for (let i = 1; i < 50; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 50; i < 100; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    hold?.writeHead(410).end();
    await until(() => telemetry.webhooks.stats('hook').state === 'disabled', 10_000);
    await telemetry.flush();
    const froms = discards.flatMap((d) => d.events.map((e) => e.data.from));
    expect(new Set(froms).size).toBe(100);
    expect(froms).toHaveLength(100);
    expect(new Set(discards.map((d) => d.reason))).toEqual(new Set(['disabled']));
    expect(telemetry.webhooks.stats('hook')).toMatchObject({ discarded: 100, pending: 0, delivered: 0 });
  });
});

describe('hostile event values framed by innocent events', () => {
  it('every innocent event arrives, every body parses and its signatures verify', async () => {
    const receiver = await rawReceiver((res) => res.end('ok'));
    const { telemetry, reports } = withWebhook({ url: receiver.url, signatureKey: KEY, signing: 'both', throttle: 20 });
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const values: unknown[] = [
      { nextRetry: new Date(Number.NaN) },
      circular,
      10n ** 30n,
      Object.defineProperty({}, 'boom', {
        enumerable: true,
        get() {
          throw new Error('getter');
        },
      }),
      {
        toJSON() {
          throw new Error('toJSON');
        },
      },
      ...hostileScalars(),
      ...fc.sample(hostileValue(), { numRuns: 40, seed: 42 }),
    ];
    let innocent = 0;
    for (const value of values) {
      telemetry.emit('smtp.mail-from', { from: `innocent${innocent++}@example.org` });
      telemetry.emit('auth.error', { details: value as never });
      // The same value as the whole data, where the core allows it.
      telemetry.emit('auth.failed', value as never);
    }
    telemetry.emit('smtp.mail-from', { from: `innocent${innocent++}@example.org` });
    await telemetry.flush(10_000);
    const verifier = new Webhook(KEY);
    const stalwartKey = Buffer.from(KEY, 'utf8');
    const events: WebhookEvent[] = [];
    for (const { raw, headers } of receiver.seen) {
      const payload = JSON.parse(raw.toString('utf8')) as WebhookPayload;
      events.push(...payload.events);
      expect(headers['x-signature']).toBe(createHmac('sha256', stalwartKey).update(raw).digest('base64'));
      expect(() => verifier.verify(raw.toString('utf8'), headers as Record<string, string>)).not.toThrow();
      for (const event of payload.events) expect(typeof event.data).toBe('object');
    }
    const froms = events.filter((e) => e.type === 'smtp.mail-from').map((e) => e.data.from);
    expect(froms).toEqual(Array.from({ length: innocent }, (_, i) => `innocent${i}@example.org`));
    // Each hostile value cost at most its own event: the rest were written with markers.
    expect(events.filter((e) => e.type === 'auth.error')).toHaveLength(values.length);
    expect(events.find((e) => e.type === 'auth.error')?.data).toEqual({ details: { nextRetry: '[InvalidDate]' } });
    expect(events.filter((e) => e.type === 'auth.error')[1]?.data).toEqual({
      details: { name: 'loop', self: '[Circular]' },
    });
    expect(telemetry.webhooks.stats('hook')).toMatchObject({ discarded: 0, pending: 0, failed: 0 });
    expect(reports.filter((e) => e.type === 'telemetry.webhook-error')).toEqual([]);
  }, 30_000);
});

describe('at least once', () => {
  it('a late answer causes a duplicate with the same webhook-id, body and signature: deduping on it yields each event once', async () => {
    const processed = new Map<string, WebhookEvent[]>();
    const receiver = await rawReceiver((res, n) => {
      const seen = receiver.seen[n - 1] as Seen;
      const id = String(seen.headers['webhook-id']);
      // The receiver's dedupe: a webhook-id already processed is acknowledged and skipped.
      if (!processed.has(id)) processed.set(id, (JSON.parse(seen.raw.toString()) as WebhookPayload).events.slice());
      // The first answer comes after the attempt timeout: the library retries what was processed.
      if (n === 1) setTimeout(() => res.end('late'), 600);
      else res.end('ok');
    });
    const { telemetry } = withWebhook({ url: receiver.url, timeout: 200, signatureKey: KEY, signing: 'both', throttle: 600_000 });
    for (let i = 0; i < 5; i++) telemetry.emit('smtp.mail-from', { from: `u${i}@example.org` });
    await telemetry.flush(5000);
    expect(receiver.seen.length).toBeGreaterThanOrEqual(2);
    const [first, second] = receiver.seen as [Seen, Seen];
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(second.raw.equals(first.raw)).toBe(true);
    expect(second.headers['x-signature']).toBe(first.headers['x-signature']);
    const verifier = new Webhook(KEY);
    for (const s of receiver.seen) verifier.verify(s.raw.toString(), s.headers as Record<string, string>);
    const once = [...processed.values()].flat().map((e) => e.data.from);
    expect(once).toEqual(['u0@example.org', 'u1@example.org', 'u2@example.org', 'u3@example.org', 'u4@example.org']);
    expect(telemetry.webhooks.stats('hook')).toMatchObject({ delivered: 5, failed: 1, pending: 0 });
  });

  it('keeps the webhook-id when stale events leave a retried batch, so deduping on it still sees each event once', async () => {
    let clock = Date.UTC(2026, 0, 1);
    const start = clock;
    const processed = new Map<string, unknown[]>();
    const receiver = await rawReceiver((res, n) => {
      const seen = receiver.seen[n - 1] as Seen;
      const id = String(seen.headers['webhook-id']);
      const froms = (JSON.parse(seen.raw.toString()) as WebhookPayload).events.map((e) => e.data.from);
      if (!processed.has(id)) processed.set(id, froms);
      if (n === 1) return; // processed, never answered
      res.end('ok');
    });
    const { telemetry, discards } = withWebhook(
      {
        url: receiver.url,
        timeout: 200,
        discardAfter: 1000,
        throttle: 600_000,
        retry: { initialDelay: 600_000, maxDelay: 600_000, jitter: 0 },
      },
      () => clock,
    );
    telemetry.emit('smtp.mail-from', { from: 'old0@example.org' });
    telemetry.emit('smtp.mail-from', { from: 'old1@example.org' });
    await new Promise((resolve) => setTimeout(resolve, 1));
    clock = start + 500;
    telemetry.emit('smtp.mail-from', { from: 'new@example.org' });
    void telemetry.flush(100);
    await until(() => telemetry.webhooks.stats('hook').failed === 1, 10_000);
    // The two older events go stale before the retry.
    clock = start + 1100;
    await telemetry.flush(5000);
    expect(receiver.seen).toHaveLength(2);
    const [first, second] = receiver.seen as [Seen, Seen];
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect((JSON.parse(second.raw.toString()) as WebhookPayload).events.map((e) => e.data.from)).toEqual(['new@example.org']);
    expect([...processed.values()].flat()).toEqual(['old0@example.org', 'old1@example.org', 'new@example.org']);
    expect(discards.map((d) => [d.reason, d.events.map((e) => e.data.from)])).toEqual([
      ['stale', ['old0@example.org', 'old1@example.org']],
    ]);
  });
});
