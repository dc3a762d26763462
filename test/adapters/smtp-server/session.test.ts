import { describe, expect, it } from 'vitest';
import { createTelemetry, type TelemetryEvent } from '../../../src/index.js';
import { instrumentSmtpServer, smtpServerLevels } from '../../../src/smtp-server.js';
import { client, dialogue, hostOptions, listenSmtp, metric, PASSWORD, record, send, settle, USER } from './harness.js';

const MAIL = { from: 'alice@example.org', subject: 'hello', text: 'Hello Bob.' };

/** The events of one span, checking that each carries it. */
function spans(events: readonly TelemetryEvent[]): Map<number | string, TelemetryEvent[]> {
  const bySpan = new Map<number | string, TelemetryEvent[]>();
  for (const event of events) {
    expect(event.spanId, `${event.type} carries a span id`).toBeDefined();
    const list = bySpan.get(event.spanId as number) ?? [];
    list.push(event);
    bySpan.set(event.spanId as number, list);
  }
  return bySpan;
}

describe('instrumentSmtpServer: one span per real smtp-server session', () => {
  it('reports a good mail: connect, EHLO, AUTH PLAIN, MAIL FROM, RCPT TO, the queued message, close', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const queue: string[] = [];
    const { server, port } = await listenSmtp(instrumentSmtpServer(telemetry, hostOptions(queue)));
    const transport = client(port, { auth: { user: USER, pass: PASSWORD }, authMethod: 'PLAIN' });
    const outcome = await send(transport, { ...MAIL, to: ['bob@example.org', 'carol@example.org'] });
    transport.close();
    await settle(telemetry, server);

    expect(outcome).toMatchObject({ ok: true, accepted: ['bob@example.org', 'carol@example.org'] });
    expect(outcome.response).toContain('queued as Q1');
    expect(events.map((e) => e.type)).toEqual([
      'smtp.connection-start',
      'smtp.ehlo',
      'auth.success',
      'smtp.mail-from',
      'smtp.rcpt-to',
      'smtp.rcpt-to',
      'queue.message-queued',
      'smtp.connection-end',
    ]);
    const [start, ehlo, auth, mailFrom, rcpt1, rcpt2, queued, end] = events as [
      TelemetryEvent,
      TelemetryEvent,
      TelemetryEvent,
      TelemetryEvent,
      TelemetryEvent,
      TelemetryEvent,
      TelemetryEvent,
      TelemetryEvent,
    ];
    expect(spans(events).size).toBe(1);
    expect(start.data).toMatchObject({ remoteIp: '127.0.0.1', listenerId: 'smtp', localPort: port, localIp: '127.0.0.1' });
    expect(start.data.remotePort).toEqual(expect.any(Number));
    expect(ehlo.data).toMatchObject({ domain: 'client.example.net', details: 'EHLO' });
    expect(auth.data).toMatchObject({ accountName: USER, type: 'PLAIN' });
    expect(mailFrom.data).toMatchObject({ from: 'alice@example.org' });
    expect(rcpt1.data).toMatchObject({ to: 'bob@example.org' });
    expect(rcpt2.data).toMatchObject({ to: 'carol@example.org' });
    expect(queued.data).toMatchObject({ queueId: 'Q1', from: 'alice@example.org', to: ['bob@example.org', 'carol@example.org'] });
    expect(queued.data.size).toBeGreaterThan(100);
    expect(end.data.elapsed).toEqual(expect.any(Number));
    // Span keys are merged into every event of the span.
    expect(queued.data.remoteIp).toBe('127.0.0.1');
    expect(JSON.stringify(events)).not.toContain(PASSWORD);

    expect(telemetry.metrics.eventCount('smtp.connection-start')).toBe(1);
    expect(telemetry.metrics.eventCount('smtp.connection-end')).toBe(1);
    expect(telemetry.metrics.eventCount('auth.success')).toBe(1);
    expect(telemetry.metrics.eventCount('queue.message-queued')).toBe(1);
    expect(metric(telemetry, 'smtp.active-connections')).toBe(0);
    expect(metric(telemetry, 'queue.count')).toBe(1);
    expect(metric(telemetry, 'message.size')).toBe(1);
    expect(metric(telemetry, 'smtp.request-time')).toBe(1);
    await telemetry.shutdown();
  });

  it('counts a message out of queue.count at once for a host that hands it on (handsOn)', async () => {
    const telemetry = createTelemetry();
    const queue: string[] = [];
    const { server, port } = await listenSmtp(instrumentSmtpServer(telemetry, hostOptions(queue), { handsOn: true }));
    const transport = client(port);
    for (const to of ['bob@example.org', 'carol@example.org']) expect((await send(transport, { ...MAIL, to })).ok).toBe(true);
    transport.close();
    await settle(telemetry, server);
    expect(queue).toEqual(['Q1', 'Q2']);
    expect(telemetry.metrics.eventCount('queue.message-queued')).toBe(2);
    expect(metric(telemetry, 'queue.count')).toBe(0);
    expect(() => instrumentSmtpServer(telemetry, {}, { handsOn: 'yes' as never })).toThrow(/handsOn/);
    await telemetry.shutdown();
  });

  it('reports a failed AUTH LOGIN with the account and method, never the password', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const { server, port } = await listenSmtp(instrumentSmtpServer(telemetry, hostOptions([])));
    const transport = client(port, { auth: { user: USER, pass: `${PASSWORD}-wrong` }, authMethod: 'LOGIN' });
    const outcome = await send(transport, { ...MAIL, to: 'bob@example.org' });
    transport.close();
    await settle(telemetry, server);

    expect(outcome).toMatchObject({ ok: false, code: 535 });
    const failed = events.find((e) => e.type === 'auth.failed');
    expect(failed?.data).toMatchObject({ accountName: USER, type: 'LOGIN', code: 535, reason: 'Invalid username or password' });
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
    expect(telemetry.metrics.eventCount('auth.failed')).toBe(1);
    expect(events.at(-1)?.type).toBe('smtp.connection-end');
    expect(spans(events).size).toBe(1);
    expect(metric(telemetry, 'smtp.active-connections')).toBe(0);
    await telemetry.shutdown();
  });

  it('maps refused recipients: unknown mailbox, relaying, greylisting; the message goes to the rest', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const { server, port } = await listenSmtp(instrumentSmtpServer(telemetry, hostOptions([])));
    const transport = client(port);
    const to = ['bob@example.org', 'nobody@example.org', 'someone@elsewhere.net', 'grey@example.org'];
    const outcome = await send(transport, { ...MAIL, to });
    transport.close();
    await settle(telemetry, server);

    expect(outcome).toMatchObject({ ok: true, accepted: ['bob@example.org'] });
    const refusals = events.filter((e) => e.type !== 'smtp.rcpt-to' && e.data.to !== undefined && e.type.startsWith('smtp.'));
    expect(refusals.map((e) => [e.type, e.data.to, e.data.code])).toEqual([
      ['smtp.mailbox-does-not-exist', 'nobody@example.org', 550],
      ['smtp.relay-not-allowed', 'someone@elsewhere.net', 554],
      ['smtp.rcpt-to-greylisted', 'grey@example.org', 450],
    ]);
    expect(events.find((e) => e.type === 'queue.message-queued')?.data.to).toEqual(['bob@example.org']);
    expect(telemetry.metrics.eventCount('smtp.mailbox-does-not-exist')).toBe(1);
    expect(telemetry.metrics.eventCount('smtp.relay-not-allowed')).toBe(1);
    expect(spans(events).size).toBe(1);
    await telemetry.shutdown();
  });

  it('catches a declared SIZE= over the limit, refused by smtp-server before onMailFrom', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const mailFromCalls: string[] = [];
    const { server, port } = await listenSmtp(
      instrumentSmtpServer(telemetry, {
        ...hostOptions([]),
        onMailFrom(address, _session, callback) {
          mailFromCalls.push(address.address);
          callback();
        },
      }),
    );
    // nodemailer refuses such a message itself, having read SIZE 1000 in the EHLO reply.
    const transport = client(port);
    const envelope = { from: MAIL.from, to: 'bob@example.org', size: 5000 };
    const refusedByClient = await send(transport, { ...MAIL, to: 'bob@example.org', envelope: envelope as never });
    transport.close();
    // Another client declares it anyway.
    const replies = await dialogue(port, ['EHLO bot.example.net', 'MAIL FROM:<x@example.net> SIZE=5000', 'QUIT']);
    await settle(telemetry, server);

    expect(refusedByClient).toMatchObject({ ok: false, response: 'Message size larger than allowed 1000' });
    expect(replies[2]).toMatch(/^552 /);
    expect(mailFromCalls).toEqual([]);
    const tooLarge = events.filter((e) => e.type === 'smtp.message-too-large');
    expect(tooLarge.map((e) => e.data)).toEqual([expect.objectContaining({ size: 5000, limit: 1000, code: 552 })]);
    expect(tooLarge[0]?.data.remoteIp).toBe('127.0.0.1');
    expect(events.some((e) => e.type === 'smtp.mail-from')).toBe(false);
    expect(events.filter((e) => e.type === 'smtp.ehlo').map((e) => e.data.domain)).toEqual([
      'client.example.net',
      'bot.example.net',
    ]);
    expect(telemetry.metrics.eventCount('smtp.message-too-large')).toBe(1);
    expect(spans(events).size).toBe(2);
    expect(metric(telemetry, 'smtp.active-connections')).toBe(0);
    await telemetry.shutdown();
  });

  it('reports an accepted SIZE= in smtp.mail-from, and an actual size over the limit refused by the host', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const { server, port } = await listenSmtp(instrumentSmtpServer(telemetry, hostOptions([])));
    const transport = client(port);
    const small = await send(transport, {
      ...MAIL,
      to: 'bob@example.org',
      envelope: { from: MAIL.from, to: 'bob@example.org', size: 600 } as never,
    });
    const big = await send(transport, { ...MAIL, to: 'bob@example.org', text: 'x'.repeat(3000) });
    transport.close();
    await settle(telemetry, server);

    expect(small.ok).toBe(true);
    expect(big).toMatchObject({ ok: false, code: 552 });
    const mailFrom = events.filter((e) => e.type === 'smtp.mail-from');
    expect(mailFrom[0]?.data.details).toContain('SIZE=600');
    expect(mailFrom[0]?.data.size).toBe(600);
    const tooLarge = events.filter((e) => e.type === 'smtp.message-too-large');
    expect(tooLarge).toHaveLength(1);
    expect(tooLarge[0]?.data).toMatchObject({ limit: 1000, code: 552, reason: 'Message too big for this server' });
    expect(tooLarge[0]?.data.size).toBeGreaterThan(3000);
    expect(telemetry.metrics.eventCount('queue.message-queued')).toBe(1);
    await telemetry.shutdown();
  });

  it('a pooled session sends 3 messages in one span; the history finds each message by its queue id', async () => {
    const telemetry = createTelemetry({ levels: { ...smtpServerLevels }, history: {} });
    const events = record(telemetry);
    const queue: string[] = [];
    const { server, port } = await listenSmtp(instrumentSmtpServer(telemetry, hostOptions(queue), { listenerId: 'submission' }));
    const transport = client(port, { pool: true, maxConnections: 1, auth: { user: USER, pass: PASSWORD } });
    const outcomes = await Promise.all(
      ['bob@example.org', 'carol@example.org', 'dave@example.org'].map((to) => send(transport, { ...MAIL, to })),
    );
    transport.close();
    await settle(telemetry, server);

    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(queue).toEqual(['Q1', 'Q2', 'Q3']);
    const bySpan = spans(events);
    expect(bySpan.size).toBe(1);
    const [spanId, session] = [...bySpan][0] as [number, TelemetryEvent[]];
    expect(session[0]?.data.listenerId).toBe('submission');
    expect(session.filter((e) => e.type === 'queue.message-queued').map((e) => e.data.queueId)).toEqual(['Q1', 'Q2', 'Q3']);
    expect(session.filter((e) => e.type === 'smtp.ehlo')).toHaveLength(1);
    expect(metric(telemetry, 'smtp.active-connections')).toBe(0);
    expect(metric(telemetry, 'queue.count')).toBe(3);

    for (const queueId of queue) {
      const found = await telemetry.history.events({ keys: { queueId } });
      expect(found.items.map((e) => [e.type, e.spanId])).toEqual([['queue.message-queued', spanId]]);
      const trace = await telemetry.history.trace(spanId);
      expect(trace?.events.some((e) => e.data.queueId === queueId)).toBe(true);
    }
    const traces = await telemetry.history.traces({ queueId: 'Q1' });
    expect(traces.items.map((t) => t.id)).toEqual([spanId]);
    await telemetry.shutdown();
  });
});
