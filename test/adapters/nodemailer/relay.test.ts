import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { afterEach, expect, it } from 'vitest';
import { createTelemetry } from '../../../src/index.js';
import { instrumentTransport, nodemailerLevels } from '../../../src/nodemailer.js';
import { instrumentSmtpServer, smtpServerLevels } from '../../../src/smtp-server.js';
import { client, listenMta, metric } from './harness.js';

const servers: SMTPServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('relays a message from an instrumented smtp-server through an instrumented transporter: one queue entry, in and out', async () => {
  const delivered: string[] = [];
  const mtaPort = await listenMta(delivered);
  const relayed: Promise<unknown>[] = [];

  // The host's whole instrumentation: three lines.
  const telemetry = createTelemetry({ levels: { ...smtpServerLevels, ...nodemailerLevels }, history: {} });
  const outbound = instrumentTransport(telemetry, client(mtaPort));
  const inbound = new SMTPServer(
    instrumentSmtpServer(telemetry, {
      logger: false,
      disableReverseLookup: true,
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const queueId = `IN${session.transaction}`;
          const envelope = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          };
          // smtp-server resets the envelope once the host calls back.
          callback(null, `Ok: queued as ${queueId}`);
          const mail = { envelope, raw: Buffer.concat(chunks), queueId } as Parameters<typeof outbound.sendMail>[0];
          relayed.push(outbound.sendMail(mail).catch((error: unknown) => error));
        });
      },
    }),
  );
  servers.push(inbound);
  await new Promise<void>((resolve) => inbound.listen(0, '127.0.0.1', resolve));
  const inboundPort = (inbound.server.address() as AddressInfo).port;

  const sender = nodemailer.createTransport({ host: '127.0.0.1', port: inboundPort, secure: false, ignoreTLS: true });
  await sender.sendMail({
    from: 'alice@example.net',
    to: ['ok1@example.org', 'nouser@example.org'],
    subject: 'relay me',
    text: 'x',
  });
  sender.close();
  await Promise.all(relayed);
  await telemetry.flush();

  expect(delivered).toHaveLength(1);
  expect(telemetry.metrics.eventCount('queue.message-queued')).toBe(1);
  expect(metric(telemetry, 'queue.count')?.value).toBe(0);
  expect(metric(telemetry, 'delivery.total-time')?.value).toBe(1);
  const traces = await telemetry.history.traces({ queueId: 'IN1' });
  expect(traces.items.map((t) => t.type).sort()).toEqual(['delivery.attempt-start', 'smtp.connection-start']);
  const attempt = traces.items.find((t) => t.type === 'delivery.attempt-start') as { id: number };
  const events = (await telemetry.history.trace(attempt.id))?.events.map((e) => e.type);
  expect(events).toEqual(
    expect.arrayContaining(['delivery.delivered', 'delivery.failed', 'delivery.completed', 'delivery.attempt-end']),
  );
  outbound.close();
  await telemetry.shutdown();
});
