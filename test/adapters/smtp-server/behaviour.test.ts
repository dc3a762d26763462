import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { createTelemetry, defineEvents, TelemetryConfigError, type TelemetryEvent } from '../../../src/index.js';
import { instrumentSmtpServer, setSmtpQueueId, smtpServerLevels } from '../../../src/smtp-server.js';
import { client, dialogue, hostOptions, listenSmtp, metric, PASSWORD, record, send, settle, USER } from './harness.js';

const MAIL = { from: 'alice@example.org', subject: 'hello', text: 'Hello.' };

describe('smtpServerLevels', () => {
  it('lets an info-level subscriber and the default history see the session', async () => {
    const run = async (levels: Record<string, 'info'>) => {
      const telemetry = createTelemetry({ levels, history: {} });
      const seen: TelemetryEvent[] = [];
      telemetry.subscribe({ level: 'info' }, (batch) => {
        seen.push(...batch);
      });
      const { server, port } = await listenSmtp(instrumentSmtpServer(telemetry, hostOptions([])));
      const bad = client(port, { auth: { user: USER, pass: 'wrong' } });
      await send(bad, { ...MAIL, to: 'bob@example.org' });
      bad.close();
      const good = client(port, { auth: { user: USER, pass: PASSWORD } });
      await send(good, { ...MAIL, to: ['bob@example.org', 'nobody@example.org'] });
      good.close();
      await settle(telemetry, server);
      const history = await telemetry.history.events({ types: ['smtp.connection-*', 'auth.failed'] });
      const types = new Set(seen.map((e) => e.type));
      await telemetry.shutdown();
      return { types, history: history.items.map((e) => e.type) };
    };
    const without = await run({});
    expect(without.types.has('smtp.connection-start')).toBe(false);
    expect(without.types.has('auth.failed')).toBe(false);
    expect(without.history).toEqual([]);

    const withPreset = await run({ ...smtpServerLevels });
    for (const type of [
      'smtp.connection-start',
      'smtp.connection-end',
      'auth.failed',
      'auth.success',
      'smtp.mailbox-does-not-exist',
      'queue.message-queued',
    ]) {
      expect(withPreset.types.has(type), type).toBe(true);
    }
    expect(withPreset.history.filter((t) => t === 'smtp.connection-start')).toHaveLength(2);
    expect(withPreset.history).toContain('auth.failed');
  });
});

describe('a telemetry failure never changes the mail flow', () => {
  // The same clients against the same host, bare and instrumented with consumers that throw.
  async function scenario(options: SMTPServerOptions) {
    const { server, port } = await listenSmtp(options);
    const outcomes = [];
    const good = client(port, { auth: { user: USER, pass: PASSWORD }, authMethod: 'PLAIN' });
    outcomes.push(await send(good, { ...MAIL, to: ['bob@example.org', 'nobody@example.org', 'x@elsewhere.net'] }));
    outcomes.push(await send(good, { ...MAIL, to: 'bob@example.org', text: 'x'.repeat(3000) }));
    good.close();
    const bad = client(port, { auth: { user: USER, pass: 'nope' }, authMethod: 'LOGIN' });
    outcomes.push(await send(bad, { ...MAIL, to: 'bob@example.org' }));
    bad.close();
    const pool = client(port, { pool: true, maxConnections: 1 });
    outcomes.push(...(await Promise.all(['bob', 'carol', 'grey'].map((u) => send(pool, { ...MAIL, to: `${u}@example.org` })))));
    pool.close();
    const raw = await dialogue(port, [
      'EHLO bot.example.net',
      'MAIL FROM:<x@example.net> SIZE=5000',
      'MAIL FROM:<x@example.net>',
      'RCPT TO:<bob@example.org>',
      'QUIT',
    ]);
    for (let i = 0; i < 200 && server.connections.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    // smtp-server calls onClose on setImmediate after the socket closed.
    await new Promise((r) => setTimeout(r, 20));
    return { outcomes, raw };
  }

  it('gives every client the same answers with consumers that throw on every event', async () => {
    const bareQueue: string[] = [];
    const bare = await scenario(hostOptions(bareQueue));

    const telemetry = createTelemetry({ levels: { ...smtpServerLevels }, history: {} });
    const events = record(telemetry);
    let thrown = 0;
    telemetry.on('*', () => {
      thrown++;
      throw new Error('listener down');
    });
    telemetry.subscribe({ id: 'broken-sink' }, () => {
      throw new Error('sink down');
    });
    const queue: string[] = [];
    const instrumented = await scenario(instrumentSmtpServer(telemetry, hostOptions(queue)));
    await telemetry.flush();

    expect(instrumented).toEqual(bare);
    expect(queue).toEqual(bareQueue);
    expect(bare.outcomes.map((o) => o.ok)).toEqual([true, false, false, true, true, false]);
    expect(thrown).toBeGreaterThan(0);
    // The failures are isolated and reported; the session is complete all the same.
    // Two connections for the first client (one per message), one for the bad login, the pool, the raw one.
    expect(events.filter((e) => e.type === 'smtp.connection-start')).toHaveLength(5);
    expect(events.filter((e) => e.type === 'smtp.connection-end')).toHaveLength(5);
    expect(metric(telemetry, 'smtp.active-connections')).toBe(0);
    await telemetry.shutdown();
  });

  it('gives the same answers after telemetry has shut down', async () => {
    const bare = await scenario(hostOptions([]));
    const telemetry = createTelemetry();
    await telemetry.shutdown();
    expect(await scenario(instrumentSmtpServer(telemetry, hostOptions([])))).toEqual(bare);
  });

  it('never lets a throwing rcptRefusal or queueId option reach the host', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const options = instrumentSmtpServer(telemetry, hostOptions([]), {
      rcptRefusal: () => {
        throw new Error('mapping bug');
      },
      queueId: () => {
        throw new Error('reader bug');
      },
    });
    const { server, port } = await listenSmtp(options);
    const transport = client(port);
    const outcome = await send(transport, { ...MAIL, to: ['bob@example.org', 'nobody@example.org'] });
    transport.close();
    await settle(telemetry, server);
    expect(outcome).toMatchObject({ ok: true, accepted: ['bob@example.org'], rejected: ['nobody@example.org'] });
    expect(events.find((e) => e.type === 'smtp.error')?.data).toMatchObject({ to: 'nobody@example.org', code: 550 });
    // The reply still names the host's queue id; a throwing reader falls back to the session's name.
    expect(outcome.response).toContain('queued as Q1');
    expect(events.find((e) => e.type === 'queue.message-queued')?.data.queueId).toMatch(/^.+\.1$/);
    await telemetry.shutdown();
  });
});

describe('smtp-server hooks and replies', () => {
  it('reports STARTTLS: smtp.start-tls, tls.handshake with version and cipher, and the greeting again', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const options = { ...hostOptions([]), disabledCommands: [] };
    const { server, port } = await listenSmtp(instrumentSmtpServer(telemetry, options));
    const transport = client(port, { ignoreTLS: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    expect((await send(transport, { ...MAIL, to: 'bob@example.org' })).ok).toBe(true);
    transport.close();
    await settle(telemetry, server);
    expect(events.map((e) => e.type).slice(0, 5)).toEqual([
      'smtp.connection-start',
      'smtp.ehlo',
      'smtp.start-tls',
      'tls.handshake',
      'smtp.ehlo',
    ]);
    const handshake = events.find((e) => e.type === 'tls.handshake');
    expect(handshake?.data.version).toMatch(/^TLSv1\.[23]$/);
    expect(handshake?.data.details).toEqual(expect.any(String));
    await telemetry.shutdown();
  });

  it('reports recipients past maxRecipients, refused by smtp-server before onRcptTo', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const { server, port } = await listenSmtp(instrumentSmtpServer(telemetry, { ...hostOptions([]), maxRecipients: 2 }));
    const transport = client(port);
    const outcome = await send(transport, { ...MAIL, to: ['bob@example.org', 'carol@example.org', 'dave@example.org'] });
    transport.close();
    await settle(telemetry, server);
    expect(outcome).toMatchObject({ ok: true, rejected: ['dave@example.org'] });
    expect(events.filter((e) => e.type === 'smtp.too-many-recipients').map((e) => e.data)).toEqual([
      expect.objectContaining({ limit: 2, code: 452 }),
    ]);
    await telemetry.shutdown();
  });

  it('calls the host hooks with the server as this, and keeps smtp-server defaults for hooks the host has not', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const seenThis: unknown[] = [];
    const hostOnly: SMTPServerOptions = {
      logger: false,
      disableReverseLookup: true,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authOptional: true,
      onConnect(_session, callback) {
        seenThis.push(this);
        callback();
      },
    };
    const frozen = Object.freeze({ ...hostOnly });
    const options = instrumentSmtpServer(telemetry, frozen);
    expect(options).not.toBe(frozen);
    expect(frozen.onConnect).toBe(hostOnly.onConnect);
    const { server, port } = await listenSmtp(options);
    // smtp-server's own onAuth refuses every login: so does the instrumented one.
    const refused = client(port, { auth: { user: USER, pass: PASSWORD } });
    const outcome = await send(refused, { ...MAIL, to: 'bob@example.org' });
    refused.close();
    const anonymous = client(port);
    expect((await send(anonymous, { ...MAIL, to: 'bob@example.org' })).ok).toBe(true);
    anonymous.close();
    await settle(telemetry, server);
    expect(seenThis).toEqual([server, server]);
    expect(outcome).toMatchObject({ ok: false });
    expect(outcome.response).toContain('Authentication not implemented');
    expect(events.find((e) => e.type === 'auth.failed')?.data).toMatchObject({ reason: 'Authentication not implemented' });
    // smtp-server's own onData reads the message and accepts it; the adapter names it after the session.
    expect(events.find((e) => e.type === 'queue.message-queued')?.data.queueId).toMatch(/^.+\.1$/);
    await telemetry.shutdown();
  });

  it('takes the queue id from setSmtpQueueId or the queueId option', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    let n = 0;
    const options = hostOptions([]);
    const { server, port } = await listenSmtp(
      instrumentSmtpServer(
        telemetry,
        {
          ...options,
          onData(stream, session, callback) {
            stream.resume();
            stream.on('end', () => {
              n++;
              if (n === 1) setSmtpQueueId(session, 4242);
              callback(null, n === 2 ? 'Accepted, id=AB-2' : 'OK');
            });
          },
        },
        { queueId: ({ reply, sessionId, transaction }) => /id=(\S+)/.exec(reply ?? '')?.[1] ?? `${sessionId}#${transaction}` },
      ),
    );
    const transport = client(port, { pool: true, maxConnections: 1 });
    await Promise.all([1, 2, 3].map(() => send(transport, { ...MAIL, to: 'bob@example.org' })));
    transport.close();
    await settle(telemetry, server);
    const ids = events.filter((e) => e.type === 'queue.message-queued').map((e) => e.data.queueId);
    expect(ids.slice(0, 2)).toEqual([4242, 'AB-2']);
    expect(ids[2]).toMatch(/#3$/);
    await telemetry.shutdown();
  });

  it('reports a connection refused by onConnect, and ends its span', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const options = {
      ...hostOptions([]),
      onConnect(_session: unknown, callback: (error?: Error | null) => void) {
        callback(Object.assign(new Error('Go away'), { responseCode: 421 }));
      },
    };
    const { server, port } = await listenSmtp(instrumentSmtpServer(telemetry, options));
    const replies = await dialogue(port, []);
    await settle(telemetry, server);
    expect(replies[0]).toMatch(/^421 /);
    expect(events.map((e) => e.type)).toEqual(['smtp.connection-start', 'smtp.error', 'smtp.connection-end']);
    expect(events[1]?.data).toMatchObject({ code: 421, reason: 'Go away' });
    expect(metric(telemetry, 'smtp.active-connections')).toBe(0);
    await telemetry.shutdown();
  });

  it('runs the host hooks inside the connection span, so the host emits join it', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const options = hostOptions([]);
    const onRcptTo = options.onRcptTo;
    const { server, port } = await listenSmtp(
      instrumentSmtpServer(telemetry, {
        ...options,
        onRcptTo(address, session, callback) {
          telemetry.emit('smtp.rcpt-to-rewritten', { to: address.address, details: 'host' });
          onRcptTo?.call(this, address, session, callback);
        },
      }),
    );
    const transport = client(port);
    await send(transport, { ...MAIL, to: 'bob@example.org' });
    transport.close();
    await settle(telemetry, server);
    const start = events[0];
    expect(events.find((e) => e.type === 'smtp.rcpt-to-rewritten')?.spanId).toBe(start?.spanId);
    await telemetry.shutdown();
  });

  it("runs a subclass's hook in the span and reports its answer, as for a hook given in the options", async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    class Refusing extends SMTPServer {
      override onMailFrom(address: SMTPServerAddress, _session: SMTPServerSession, callback: (err?: Error | null) => void) {
        telemetry.emit('smtp.rcpt-to-rewritten', { to: address.address, details: 'subclass' });
        callback(Object.assign(new Error('Not you'), { responseCode: 553 }));
      }
    }
    const server = new Refusing({ closeTimeout: 200, ...instrumentSmtpServer(telemetry, hostOptions([])) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const transport = client((server.server.address() as AddressInfo).port);
    const outcome = await send(transport, { ...MAIL, to: 'bob@example.org' });
    transport.close();
    await settle(telemetry, server);
    expect(outcome.code).toBe(553);
    const start = events[0];
    expect(events.find((e) => e.type === 'smtp.rcpt-to-rewritten')?.spanId).toBe(start?.spanId);
    expect(events.find((e) => e.type === 'smtp.mail-from-not-allowed')?.data).toMatchObject({ code: 553, reason: 'Not you' });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await telemetry.shutdown();
  });

  it('accepts a telemetry with host events, and refuses bad options and options instrumented twice', async () => {
    const events = defineEvents({ 'mx.spam-verdict': { id: 1000, description: 'Spam verdict', keys: { score: 'number' } } });
    const telemetry = createTelemetry({ events });
    const options = instrumentSmtpServer(telemetry, hostOptions([]));
    expect(() => instrumentSmtpServer(telemetry, options)).toThrow(TelemetryConfigError);
    expect(() => instrumentSmtpServer(telemetry, {}, { listenerId: '' })).toThrow(/listenerId: expected a non-empty string/);
    // @ts-expect-error: an unknown adapter option
    expect(() => instrumentSmtpServer(telemetry, {}, { listener: 'x' })).toThrow(TelemetryConfigError);
    await telemetry.shutdown();
  });
});
