import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { AlertWebhookBody } from '../../src/index.js';
import { listenLoopback, makeClocked } from '../support/telemetry.js';
import { collect } from './helpers.js';

interface Hit {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

/** A real HTTP receiver on loopback: answers `status`, or never answers when `hang`. */
async function receiver(options: { status?: number; hang?: boolean } = {}): Promise<{ url: string; hits: Hit[] }> {
  const hits: Hit[] = [];
  const { origin } = await listenLoopback((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ url: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      if (options.hang) return;
      res.writeHead(options.status ?? 204).end();
    });
  });
  return { url: origin, hits };
}

describe('the webhook action', () => {
  it('POSTs the alert as JSON on firing and on resolution, with the configured headers', async () => {
    const { url, hits } = await receiver();
    const telemetry = makeClocked({
      service: 'mx1',
      alerts: [
        {
          id: 'queue-high',
          condition: 'queue_count > 100',
          labels: { severity: 'page' },
          annotations: { summary: 'queue at {{ value }}' },
          webhook: { url: `${url}/hooks/alerts`, headers: { authorization: 'Bearer s3cret' } },
        },
      ],
    });
    const queue = telemetry.metrics.gauge('queue.count');
    queue.set(150);
    const started = telemetry.clock.now;
    await telemetry.alerts.evaluate();
    queue.set(0);
    telemetry.clock.now += 90_000;
    await telemetry.alerts.evaluate();
    expect(hits.map((h) => [h.url, h.headers.authorization, h.headers['content-type']])).toEqual([
      ['/hooks/alerts', 'Bearer s3cret', 'application/json'],
      ['/hooks/alerts', 'Bearer s3cret', 'application/json'],
    ]);
    const [firing, resolved] = hits.map((h) => h.body as AlertWebhookBody);
    expect(firing).toEqual({
      service: 'mx1',
      id: 'queue-high',
      state: 'firing',
      reason: 'firing',
      value: 150,
      condition: 'queue_count > 100',
      message: 'queue at 150',
      labels: { severity: 'page' },
      annotations: { summary: 'queue at 150' },
      startsAt: new Date(started).toISOString(),
    });
    expect(resolved).toMatchObject({
      state: 'resolved',
      value: 0,
      startsAt: new Date(started).toISOString(),
      endsAt: new Date(started + 90_000).toISOString(),
    });
  });
});

describe('action isolation', () => {
  it('reports a throwing sendMail, a hanging webhook and an HTTP error; the other actions still run', async () => {
    const good = await receiver();
    const hanging = await receiver({ hang: true });
    const failing = await receiver({ status: 500 });
    const telemetry = makeClocked({
      sendMail: async () => {
        throw new Error('relay refused');
      },
      alerts: [
        {
          id: 'broken',
          condition: 'queue_count > 1',
          email: { from: 'a@example.org', to: 'b@example.org', subject: 's', body: 'b' },
          webhook: { url: `${hanging.url}/?token=hunter2`, timeout: 150, headers: { authorization: 'Bearer s3cret' } },
        },
        { id: 'http-500', condition: 'queue_count > 1', webhook: { url: `${failing.url}/?token=hunter2` } },
        { id: 'fine', condition: 'queue_count > 1', webhook: { url: good.url } },
      ],
    });
    const alertEvents = collect(telemetry, ['telemetry.alert-event']);
    const errors = collect(telemetry, ['telemetry.*-error']);
    telemetry.metrics.gauge('queue.count').set(5);
    const transitions = await telemetry.alerts.evaluate();
    expect(transitions.map((t) => `${t.id} ${t.to}`)).toEqual(['broken firing', 'http-500 firing', 'fine firing']);
    await telemetry.flush();
    expect(alertEvents.map((e) => e.data.id)).toEqual(['broken', 'http-500', 'fine']);
    expect(good.hits).toHaveLength(1);
    expect(hanging.hits).toHaveLength(1);
    const reasons = Object.fromEntries(errors.map((e) => [e.data.id, e.data.reason]));
    expect(reasons).toEqual({
      'alerts.broken.email': 'the email action of alert broken failed: relay refused',
      'alerts.broken.webhook': 'the webhook action of alert broken failed: timed out after 150 ms',
      'alerts.http-500.webhook': 'the webhook action of alert http-500 failed: HTTP 500',
    });
    const text = JSON.stringify(errors.map((e) => e.toJSON()));
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('s3cret');
    expect(telemetry.alerts.state().every((s) => s.state === 'firing')).toBe(true);
  });

  it('bounds a sendMail that never settles by the email timeout', async () => {
    const telemetry = makeClocked({
      sendMail: () => new Promise<void>(() => {}),
      alerts: [
        {
          id: 'stuck',
          condition: '1',
          email: { from: 'a@example.org', to: 'b@example.org', subject: 's', body: 'b', timeout: 50 },
        },
      ],
    });
    const errors = collect(telemetry, ['telemetry.*-error']);
    await telemetry.alerts.evaluate();
    await telemetry.flush();
    expect(errors.map((e) => e.data.reason)).toEqual(['the email action of alert stuck failed: timed out after 50 ms']);
  });

  it('flush reports an action still in flight, and a later flush waits for it', async () => {
    const slow = await receiver({ hang: true });
    const telemetry = makeClocked({ alerts: [{ id: 'slow', condition: '1', webhook: { url: slow.url, timeout: 300 } }] });
    const errors = collect(telemetry, ['telemetry.*-error']);
    const evaluation = telemetry.alerts.evaluate();
    await new Promise((resolve) => setImmediate(resolve));
    const early = await telemetry.flush(20);
    expect(early).toEqual({ complete: false, pending: 1, subscribers: [{ id: 'alerts', pending: 1 }] });
    const late = await telemetry.flush();
    // The action settled; only the error event it reported may still sit in the collector's queue.
    expect(late.subscribers.map((x) => x.id)).not.toContain('alerts');
    expect(await evaluation).toMatchObject([{ id: 'slow', to: 'firing' }]);
    await telemetry.flush();
    expect(errors.map((e) => e.data.reason)).toEqual(['the webhook action of alert slow failed: timed out after 300 ms']);
  });
});
