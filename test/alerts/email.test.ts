import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { buildMessage, rfc5322Date } from '../../src/alerts/email.js';
import type { SendMail } from '../../src/index.js';
import { makeClocked } from '../support/telemetry.js';
import { collect } from './helpers.js';

interface Received {
  readonly from: string;
  readonly to: string[];
  readonly raw: string;
}

const servers: SMTPServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A real SMTP server on loopback that keeps what it receives. */
async function smtpServer(): Promise<{ port: number; received: Received[] }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.server.address() as AddressInfo).port, received };
}

/** The host's transport: nodemailer relaying the raw message as built. */
function nodemailerSendMail(port: number): SendMail {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  return async ({ from, to, raw }) => {
    await transport.sendMail({ envelope: { from, to: [...to] }, raw });
  };
}

describe('the alert email', () => {
  it('is an RFC 5322 message with MIME headers and an encoded non-ASCII subject', () => {
    const raw = buildMessage({
      from: 'alerts@mx.example.org',
      fromName: 'Mail "Ops"',
      to: ['ops@example.org', 'oncall@example.org'],
      subject: 'Störung: Warteschlange über 1000 – bitte prüfen, es ist dringend und wirklich lang',
      body: 'Line one\nZeile zwei: ä\n',
      date: Date.UTC(2026, 10, 24, 22, 56, 36),
    });
    const [head, body] = raw.split('\r\n\r\n') as [string, string];
    expect(raw).not.toMatch(/[^\r]\n/);
    expect(head).toContain('From: "Mail \\"Ops\\"" <alerts@mx.example.org>');
    expect(head).toContain('To: ops@example.org, oncall@example.org');
    expect(head).toContain('Date: Tue, 24 Nov 2026 22:56:36 +0000');
    expect(head).toMatch(/\r\nMessage-ID: <[a-z0-9]+\.[0-9a-f]{18}@mx\.example\.org>\r\n/);
    expect(head).toContain('Auto-Submitted: auto-generated');
    expect(head).toContain('MIME-Version: 1.0');
    expect(head).toContain('Content-Type: text/plain; charset=utf-8');
    expect(head).toContain('Content-Transfer-Encoding: base64');
    expect(head).toMatch(/Subject: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=\r\n =\?UTF-8\?B\?/);
    for (const line of head.split('\r\n')) expect(line.length).toBeLessThanOrEqual(78);
    expect(Buffer.from(body.replaceAll('\r\n', ''), 'base64').toString('utf8')).toBe('Line one\r\nZeile zwei: ä\r\n');
    expect(rfc5322Date(Date.UTC(2027, 0, 3, 4, 5, 6))).toBe('Sun, 03 Jan 2027 04:05:06 +0000');
  });

  it('cannot be split into extra headers by a templated subject', async () => {
    const raw = buildMessage({
      from: 'a@example.org',
      to: ['b@example.org'],
      subject: 'queue\r\nBcc: victim@example.org',
      body: 'plain ascii',
      date: 0,
    });
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe('queue Bcc: victim@example.org');
    expect(parsed.headers.has('bcc')).toBe(false);
    expect(raw).toContain('Content-Transfer-Encoding: 7bit');
  });

  it('goes through the host sendMail (nodemailer) to a real SMTP server and parses back', async () => {
    const { port, received } = await smtpServer();
    const telemetry = makeClocked({
      sendMail: nodemailerSendMail(port),
      alerts: [
        {
          id: 'queue-high',
          condition: 'queue_count > 1000',
          labels: { team: 'mail' },
          email: {
            from: 'alerts@mx.example.org',
            fromName: 'Mail Telemetry',
            to: ['ops@example.org', 'oncall@example.org'],
            subject: '⚠ {{ id }} {{ state }}: {{ value }} queued',
            body: 'The queue holds %{queue.count}% messages (team {{ labels.team }}).\nPrüfen Sie die Zustellung.',
          },
        },
      ],
    });
    const messages = collect(telemetry, ['telemetry.alert-message']);
    const queue = telemetry.metrics.gauge('queue.count');
    queue.set(1500);
    await telemetry.alerts.evaluate();
    queue.set(10);
    telemetry.clock.now += 60_000;
    await telemetry.alerts.evaluate();
    await telemetry.flush();
    expect(received).toHaveLength(2);
    expect(received[0]).toMatchObject({ from: 'alerts@mx.example.org', to: ['ops@example.org', 'oncall@example.org'] });
    const firing = await simpleParser(received[0]?.raw as string);
    expect(firing.subject).toBe('⚠ queue-high firing: 1500 queued');
    expect(firing.from?.value).toEqual([{ address: 'alerts@mx.example.org', name: 'Mail Telemetry' }]);
    expect((Array.isArray(firing.to) ? firing.to : [firing.to]).flatMap((a) => a?.value.map((v) => v.address))).toEqual([
      'ops@example.org',
      'oncall@example.org',
    ]);
    expect(firing.date?.getTime()).toBe(Date.UTC(2026, 10, 24, 12));
    expect(firing.messageId).toMatch(/@mx\.example\.org>$/);
    expect(firing.headers.get('auto-submitted')).toBe('auto-generated');
    expect(firing.text?.trim()).toBe('The queue holds 1500 messages (team mail).\nPrüfen Sie die Zustellung.');
    const resolved = await simpleParser(received[1]?.raw as string);
    expect(resolved.subject).toBe('⚠ queue-high resolved: 10 queued');
    expect(resolved.messageId).not.toBe(firing.messageId);
    expect(messages.map((m) => m.data)).toEqual([
      { id: 'queue-high', to: ['ops@example.org', 'oncall@example.org'], details: firing.subject, reason: 'firing' },
      { id: 'queue-high', to: ['ops@example.org', 'oncall@example.org'], details: resolved.subject, reason: 'resolved' },
    ]);
  });
});
