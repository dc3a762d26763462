import { describe, expect, it } from 'vitest';
import { createTelemetry, type TelemetryEvent } from '../../../src/index.js';
import { instrumentTransport, nodemailerLevels } from '../../../src/nodemailer.js';
import { client, closedPort, listenMta, metric, PASSWORD, record, typesOf, USER } from './harness.js';

const FROM = 'sender@example.net';

function only(events: readonly TelemetryEvent[], type: string): TelemetryEvent {
  const found = events.filter((e) => e.type === type);
  expect(found, type).toHaveLength(1);
  return found[0] as TelemetryEvent;
}

describe('one delivery span per sendMail, from a real SMTP session', () => {
  it('reports accepted, refused (550) and deferred (450) recipients with their reply codes', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const port = await listenMta();
    const transport = instrumentTransport(telemetry, client(port, { auth: { user: USER, pass: PASSWORD } }));
    const info = await transport.sendMail({
      from: FROM,
      to: ['ok1@example.org', 'nouser@example.org', 'grey@example.org'],
      subject: 'hello',
      text: 'body',
    });
    await telemetry.flush();

    const start = only(events, 'delivery.attempt-start');
    const spanId = start.spanId;
    expect(typeof spanId).toBe('number');
    expect(events.every((e) => e.spanId === spanId)).toBe(true);
    expect(typesOf(events)).toEqual([
      'delivery.attempt-start',
      'delivery.connect',
      'delivery.ehlo',
      'delivery.auth',
      'delivery.mail-from',
      'delivery.rcpt-to',
      'delivery.rcpt-to-rejected',
      'delivery.rcpt-to-rejected',
      'delivery.delivered',
      'delivery.failed',
      'delivery.failed',
      'delivery.attempt-end',
    ]);
    expect(start.data).toEqual({
      spanId,
      queueId: info.messageId,
      messageId: info.messageId,
      from: FROM,
      to: ['ok1@example.org', 'nouser@example.org', 'grey@example.org'],
      total: 3,
    });
    const own = (e: TelemetryEvent) => {
      const { spanId: _s, queueId: _q, from: _f, to: _t, total: _n, messageId: _m, ...rest } = e.data as Record<string, unknown>;
      return rest;
    };
    expect(only(events, 'delivery.connect').data).toMatchObject({
      hostname: '127.0.0.1',
      remoteIp: '127.0.0.1',
      remotePort: port,
    });
    expect(own(only(events, 'delivery.ehlo'))).toEqual({
      hostname: '127.0.0.1',
      details: expect.stringContaining('AUTH PLAIN LOGIN'),
    });
    expect(only(events, 'delivery.mail-from').data).toMatchObject({ from: FROM });
    expect(only(events, 'delivery.rcpt-to').data).toMatchObject({ to: 'ok1@example.org' });
    const refused = events.filter((e) => e.type === 'delivery.rcpt-to-rejected').map((e) => own(e));
    expect(refused).toEqual([
      { hostname: '127.0.0.1', code: 550, details: '550 No such user here' },
      { hostname: '127.0.0.1', code: 450, details: '450 Greylisted, try again later' },
    ]);
    expect(events.filter((e) => e.type === 'delivery.rcpt-to-rejected').map((e) => e.data.to)).toEqual([
      'nouser@example.org',
      'grey@example.org',
    ]);
    expect(only(events, 'delivery.delivered').data).toMatchObject({ to: 'ok1@example.org', code: 250, details: info.response });
    const failed = events.filter((e) => e.type === 'delivery.failed').map((e) => e.data);
    expect(failed).toMatchObject([
      { to: 'nouser@example.org', code: 550, details: 'permanent', reason: '550 No such user here' },
      { to: 'grey@example.org', code: 450, details: 'temporary', reason: '450 Greylisted, try again later' },
    ]);
    expect(typeof only(events, 'delivery.attempt-end').data.elapsed).toBe('number');
    // The catalogue's levels without the preset: the accepted steps are debug.
    expect(only(events, 'delivery.ehlo').level).toBe('debug');
    expect(only(events, 'delivery.delivered').level).toBe('info');
    // Never the password, anywhere.
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
    expect(telemetry.metrics.eventCount('delivery.attempt-start')).toBe(1);
    expect(telemetry.metrics.eventCount('delivery.attempt-end')).toBe(1);
    expect(telemetry.metrics.eventCount('delivery.rcpt-to-rejected')).toBe(2);
    expect(telemetry.metrics.eventCount('delivery.delivered')).toBe(1);
    expect(metric(telemetry, 'delivery.active-connections')?.value).toBe(0);
    expect(metric(telemetry, 'delivery.attempt-time')?.value).toBe(1);
    transport.close();
    await telemetry.shutdown();
  });

  it('reports a message whose every recipient is refused at RCPT TO', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const transport = instrumentTransport(telemetry, client(await listenMta()));
    await expect(transport.sendMail({ from: FROM, to: ['nouser@example.org'], text: 'x' })).rejects.toMatchObject({
      responseCode: 550,
    });
    await telemetry.flush();
    expect(typesOf(events)).toEqual([
      'delivery.attempt-start',
      'delivery.connect',
      'delivery.ehlo',
      'delivery.mail-from',
      'delivery.rcpt-to-rejected',
      'delivery.failed',
      'delivery.attempt-end',
    ]);
    expect(only(events, 'delivery.rcpt-to-rejected').data).toMatchObject({ to: 'nouser@example.org', code: 550 });
    expect(only(events, 'delivery.failed').data).toMatchObject({ to: 'nouser@example.org', code: 550, details: 'permanent' });
    transport.close();
    await telemetry.shutdown();
  });

  it('reports a message refused after DATA as message-rejected, and its accepted recipients as failed', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const transport = instrumentTransport(telemetry, client(await listenMta()));
    await expect(
      transport.sendMail({ from: FROM, to: ['ok1@example.org', 'ok2@example.org'], subject: 'reject-data', text: 'x' }),
    ).rejects.toMatchObject({ responseCode: 554, code: 'EMESSAGE' });
    await telemetry.flush();
    expect(typesOf(events)).toEqual([
      'delivery.attempt-start',
      'delivery.connect',
      'delivery.ehlo',
      'delivery.mail-from',
      'delivery.rcpt-to',
      'delivery.rcpt-to',
      'delivery.message-rejected',
      'delivery.failed',
      'delivery.failed',
      'delivery.attempt-end',
    ]);
    expect(only(events, 'delivery.message-rejected').data).toMatchObject({ code: 554, details: '554 Message content rejected' });
    expect(events.filter((e) => e.type === 'delivery.failed').map((e) => [e.data.to, e.data.code, e.data.details])).toEqual([
      ['ok1@example.org', 554, 'permanent'],
      ['ok2@example.org', 554, 'permanent'],
    ]);
    transport.close();
    await telemetry.shutdown();
  });

  it('reports a refused connection as connect-error and a temporary failure, with no step passed', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const port = await closedPort();
    const transport = instrumentTransport(telemetry, client(port));
    await expect(transport.sendMail({ from: FROM, to: ['ok1@example.org'], text: 'x' })).rejects.toMatchObject({
      code: 'ESOCKET',
    });
    await telemetry.flush();
    expect(typesOf(events)).toEqual([
      'delivery.attempt-start',
      'delivery.connect-error',
      'delivery.failed',
      'delivery.attempt-end',
    ]);
    expect(only(events, 'delivery.connect-error').data).toMatchObject({
      hostname: '127.0.0.1',
      remoteIp: '127.0.0.1',
      remotePort: port,
      reason: expect.stringContaining('ECONNREFUSED'),
    });
    const failed = only(events, 'delivery.failed').data;
    expect(failed).toMatchObject({ to: 'ok1@example.org', details: 'temporary' });
    expect(failed).not.toHaveProperty('code');
    transport.close();
    await telemetry.shutdown();
  });

  it('reports a refused login as auth-failed with 535, and never the password', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const transport = instrumentTransport(
      telemetry,
      client(await listenMta(), { auth: { user: USER, pass: `${PASSWORD}-wrong` } }),
    );
    await expect(transport.sendMail({ from: FROM, to: ['ok1@example.org'], text: 'x' })).rejects.toMatchObject({ code: 'EAUTH' });
    await telemetry.flush();
    expect(typesOf(events)).toEqual([
      'delivery.attempt-start',
      'delivery.connect',
      'delivery.ehlo',
      'delivery.auth-failed',
      'delivery.failed',
      'delivery.attempt-end',
    ]);
    expect(only(events, 'delivery.auth-failed').data).toMatchObject({ code: 535, hostname: '127.0.0.1' });
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
    transport.close();
    await telemetry.shutdown();
  });
});

describe('the queue: queue.count and delivery.total-time', () => {
  it('counts a queued message down when its delivery completes, and feeds delivery.total-time', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const transport = instrumentTransport(telemetry, client(await listenMta()));
    telemetry.emit('queue.message-queued', { queueId: 'Q1', from: FROM, to: ['ok1@example.org'], size: 120 });
    await telemetry.flush();
    expect(metric(telemetry, 'queue.count')?.value).toBe(1);
    await transport.sendMail({ from: FROM, to: ['ok1@example.org'], text: 'x', queueId: 'Q1' } as Parameters<
      typeof transport.sendMail
    >[0]);
    await telemetry.flush();
    expect(metric(telemetry, 'queue.count')?.value).toBe(0);
    expect(metric(telemetry, 'delivery.total-time')?.value).toBe(1);
    const completed = only(events, 'delivery.completed');
    const start = only(events, 'delivery.attempt-start');
    expect(completed.spanId).toBe(start.spanId);
    expect(completed.data).toMatchObject({ queueId: 'Q1' });
    expect(completed.data.elapsed).toBeGreaterThanOrEqual(0);
    expect(typesOf(events).slice(-2)).toEqual(['delivery.completed', 'delivery.attempt-end']);
    transport.close();
    await telemetry.shutdown();
  });

  it('leaves queue.count alone for a message the telemetry never saw queued', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const transport = instrumentTransport(telemetry, client(await listenMta()));
    await transport.sendMail({ from: FROM, to: ['ok1@example.org'], text: 'x' });
    await telemetry.flush();
    expect(typesOf(events)).not.toContain('delivery.completed');
    expect(metric(telemetry, 'queue.count')?.value ?? 0).toBe(0);
    transport.close();
    await telemetry.shutdown();
  });

  it('reschedules a non-final attempt, then completes the message on its final one', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const port = await listenMta();
    const outcomes: string[] = [];
    const transport = instrumentTransport(telemetry, client(port), {
      queueId: (message) => String(message.fields.queueRef),
      final: (outcome) => {
        outcomes.push(outcome.recipients.map((r) => `${r.to}:${r.delivered}:${r.code}:${r.permanent}`).join(','));
        return outcome.recipients.every((r) => r.delivered || r.permanent);
      },
    });
    telemetry.emit('queue.message-queued', { queueId: 'Q7' });
    await telemetry.flush();
    const mail = { from: FROM, to: ['grey@example.org'], text: 'x', queueRef: 'Q7' } as Parameters<typeof transport.sendMail>[0];
    await expect(transport.sendMail(mail)).rejects.toMatchObject({ responseCode: 450 });
    await telemetry.flush();
    expect(typesOf(events)).toContain('queue.rescheduled');
    expect(only(events, 'queue.rescheduled').data).toMatchObject({ queueId: 'Q7' });
    expect(metric(telemetry, 'queue.count')?.value).toBe(1);
    await transport.sendMail({ ...mail, to: ['ok1@example.org'] });
    await telemetry.flush();
    expect(metric(telemetry, 'queue.count')?.value).toBe(0);
    expect(metric(telemetry, 'delivery.total-time')?.value).toBe(1);
    expect(outcomes).toEqual(['grey@example.org:false:450:false', 'ok1@example.org:true:250:false']);
    expect(events.filter((e) => e.type === 'delivery.attempt-start').map((e) => e.data.queueId)).toEqual(['Q7', 'Q7']);
    transport.close();
    await telemetry.shutdown();
  });

  it('takes the queued time from the queuedAt option', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const queuedAt = Date.now() - 60_000;
    const transport = instrumentTransport(telemetry, client(await listenMta()), { queuedAt: () => new Date(queuedAt) });
    await transport.sendMail({ from: FROM, to: ['ok1@example.org'], text: 'x' });
    await telemetry.flush();
    expect(only(events, 'delivery.completed').data.elapsed).toBeGreaterThanOrEqual(60_000);
    expect(metric(telemetry, 'delivery.total-time')?.sum).toBeGreaterThanOrEqual(60_000);
    transport.close();
    await telemetry.shutdown();
  });
});

describe('pooled transports', () => {
  it('gives each message of a pooled session its own span and outcome', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const received: string[] = [];
    const transport = instrumentTransport(telemetry, client(await listenMta(received), { pool: true, maxConnections: 1 }));
    const results = await Promise.allSettled([
      transport.sendMail({ from: FROM, to: ['ok1@example.org'], text: '1' }),
      transport.sendMail({ from: FROM, to: ['nouser@example.org'], text: '2' }),
      transport.sendMail({ from: FROM, to: ['ok2@example.org', 'grey@example.org'], text: '3' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    transport.close();
    await telemetry.flush();
    expect(received).toHaveLength(2);
    const starts = events.filter((e) => e.type === 'delivery.attempt-start');
    expect(starts).toHaveLength(3);
    expect(new Set(starts.map((e) => e.spanId)).size).toBe(3);
    const bySpan = starts.map((s) => ({
      to: s.data.to,
      types: typesOf(events, s.spanId as number).filter((t) => /delivered|failed|rejected|attempt-end/.test(t)),
    }));
    expect(bySpan).toEqual([
      { to: ['ok1@example.org'], types: ['delivery.delivered', 'delivery.attempt-end'] },
      { to: ['nouser@example.org'], types: ['delivery.rcpt-to-rejected', 'delivery.failed', 'delivery.attempt-end'] },
      {
        to: ['ok2@example.org', 'grey@example.org'],
        types: ['delivery.rcpt-to-rejected', 'delivery.delivered', 'delivery.failed', 'delivery.attempt-end'],
      },
    ]);
    expect(telemetry.metrics.eventCount('delivery.attempt-end')).toBe(3);
    expect(metric(telemetry, 'delivery.active-connections')?.value).toBe(0);
    await telemetry.shutdown();
  });
});

describe('nodemailerLevels', () => {
  it('shows the whole outbound dialogue to an info-level subscriber and keeps it in the history by queue id', async () => {
    const telemetry = createTelemetry({ levels: { ...nodemailerLevels }, history: {} });
    const seen: TelemetryEvent[] = [];
    telemetry.subscribe({ id: 'info', level: 'info' }, (batch) => {
      for (const e of batch) seen.push(e);
    });
    const transport = instrumentTransport(telemetry, client(await listenMta(), { auth: { user: USER, pass: PASSWORD } }));
    telemetry.emit('queue.message-queued', { queueId: 'Q9', from: FROM, to: ['ok1@example.org'] });
    await transport.sendMail({
      from: FROM,
      to: ['ok1@example.org', 'nouser@example.org'],
      text: 'x',
      queueId: 'Q9',
    } as Parameters<typeof transport.sendMail>[0]);
    await telemetry.flush();
    expect(typesOf(seen)).toEqual([
      'queue.message-queued',
      'delivery.attempt-start',
      'delivery.connect',
      'delivery.ehlo',
      'delivery.auth',
      'delivery.mail-from',
      'delivery.rcpt-to',
      'delivery.rcpt-to-rejected',
      'delivery.delivered',
      'delivery.failed',
      'delivery.completed',
      'delivery.attempt-end',
    ]);
    expect(seen.every((e) => e.level === 'info')).toBe(true);
    const traces = await telemetry.history.traces({ queueId: 'Q9' });
    expect(traces.items).toHaveLength(1);
    const trace = await telemetry.history.trace((traces.items[0] as { id: number }).id);
    expect(trace?.events.map((e) => e.type)).toContain('delivery.delivered');
    transport.close();
    await telemetry.shutdown();
  });
});
