/**
 * Message ids: the inbound adapter reads the Message-ID from the DATA stream without taking any
 * byte from the host, the outbound adapter reports the id of the message it sends (a raw message's
 * own header included), and the history finds both records by it.
 */
import fc from 'fast-check';
import type { SMTPServerOptions } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { bytesHeaderEnd, headerEnd, messageIdOf, rawMessageId } from '../../src/adapters/message-id.js';
import { createTelemetry } from '../../src/index.js';
import { instrumentTransport } from '../../src/nodemailer.js';
import { instrumentSmtpServer } from '../../src/smtp-server.js';
import * as mta from './nodemailer/harness.js';
import { client, hostOptions, listenSmtp, record, send, settle } from './smtp-server/harness.js';

describe('messageIdOf and rawMessageId', () => {
  it('reads the first Message-ID header, folded or not, in any case', () => {
    expect(messageIdOf('Subject: x\r\nMessage-ID: <a@b>\r\nMessage-Id: <c@d>')).toBe('<a@b>');
    expect(messageIdOf('message-id:\r\n   <folded@example.org>\r\nTo: x')).toBe('<folded@example.org>');
    expect(messageIdOf('Subject: x\r\nX-Message-ID: <no@no>')).toBeUndefined();
    expect(messageIdOf('Message-ID:   \r\n')).toBeUndefined();
    expect(rawMessageId('Message-ID: <raw@x>\r\n\r\nMessage-ID: <body@x>')).toBe('<raw@x>');
    expect(rawMessageId(Buffer.from('To: a\n\nMessage-ID: <body@x>'))).toBeUndefined();
    expect(rawMessageId({ path: '/etc/passwd' })).toBeUndefined();
    expect(headerEnd('\r\nbody')).toBe(0);
  });

  it('finds the end of the header block in bytes where the text search finds it', () => {
    const text = fc.array(fc.constantFrom('\r', '\n', 'a', ':', ' '), { maxLength: 40 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (header) => {
        expect(bytesHeaderEnd(Buffer.from(header, 'latin1'))).toBe(headerEnd(header));
      }),
      { numRuns: 2000 },
    );
    const long = Buffer.from(`Subject: ${'x'.repeat(70_000)}\r\n\r\nbody`, 'latin1');
    expect(bytesHeaderEnd(long)).toBe(-1);
  });

  it('never throws, and an id is one line of at most 998 characters', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 })), (raw) => {
        const id = rawMessageId(raw);
        if (id !== undefined) {
          expect(id.length).toBeLessThanOrEqual(998);
          expect(id).not.toMatch(/[\r\n]/);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the inbound adapter reads the Message-ID as the message passes', () => {
  // A host that reads its DATA stream in paused mode: a tap that consumed bytes would show here.
  function pausedReader(kept: Buffer[]): NonNullable<SMTPServerOptions['onData']> {
    return (stream, _session, callback) => {
      stream.on('readable', () => {
        for (let chunk = stream.read(); chunk !== null; chunk = stream.read()) kept.push(chunk as Buffer);
      });
      stream.on('end', () => callback(null, 'Ok: queued as M1'));
    };
  }

  it('keeps every byte for the host and reports the id after a header longer than one chunk', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const kept: Buffer[] = [];
    const options = { ...hostOptions([]), size: 1 << 20, onData: pausedReader(kept) };
    const { server, port } = await listenSmtp(instrumentSmtpServer(telemetry, options));
    const transport = client(port);
    const long = 'x'.repeat(150_000);
    const outcome = await send(transport, {
      from: 'alice@example.org',
      to: 'bob@example.org',
      subject: 'long header',
      headers: { 'X-Padding': long },
      messageId: '<after-a-long-header@example.org>',
      text: 'Body.\r\n.\r\nNot the end.',
    });
    const medium = await transport.sendMail({
      from: 'alice@example.org',
      to: 'carol@example.org',
      subject: 'header over several chunks',
      headers: { 'X-Padding': 'y'.repeat(20_000) },
      text: 'Body.',
    });
    transport.close();
    await settle(telemetry, server);
    expect(outcome.ok).toBe(true);
    const queued = events.filter((e) => e.type === 'queue.message-queued');
    expect(queued[1]?.data.messageId).toBe(medium.messageId);
    const first = kept.splice(
      0,
      kept.findIndex((c) => c.includes('header over several chunks')),
    );
    const received = Buffer.concat(first).toString('latin1');
    expect(received.length).toBeGreaterThan(long.length);
    expect(received).toContain('\r\n.\r\nNot the end.');
    expect(queued[0]?.data.size).toBe(Buffer.concat(first).length);
    // Past 64 KiB of header the adapter stops looking: it costs nothing and reports no id.
    expect(events.find((e) => e.type === 'queue.message-queued')?.data.messageId).toBeUndefined();
    await telemetry.shutdown();
  });

  it('reports the id of each message on a pooled connection, and the history finds each by it', async () => {
    const telemetry = createTelemetry({ history: { level: 'trace' } });
    const options = { ...hostOptions([]), size: 1 << 20 };
    const { server, port } = await listenSmtp(instrumentSmtpServer(telemetry, options));
    const transport = client(port, { pool: true, maxConnections: 1 });
    const infos = await Promise.all(
      ['bob', 'carol', 'dave'].map((box) =>
        transport.sendMail({ from: 'alice@example.org', to: `${box}@example.org`, subject: box, text: `Hi ${box}` }),
      ),
    );
    transport.close();
    await settle(telemetry, server);
    for (const info of infos) {
      const { items } = await telemetry.history.traces({ keywords: info.messageId });
      expect(items).toHaveLength(1);
      expect(items[0]?.messages.find((m) => m.messageId === info.messageId)?.to).toEqual(info.accepted);
    }
    await telemetry.shutdown();
  });
});

describe('the outbound adapter reports the id of the message it sends', () => {
  it('a composed message: the id nodemailer gives it; a raw one: its own header', async () => {
    const telemetry = createTelemetry({ history: { level: 'trace' } });
    const port = await mta.listenMta();
    const transport = instrumentTransport(telemetry, mta.client(port));
    const composed = await transport.sendMail({ from: 'a@example.org', to: 'ok1@example.org', subject: 's', text: 't' });
    const raw = 'From: a@example.org\r\nTo: ok2@example.org\r\nMessage-ID: <raw-1@example.org>\r\nSubject: r\r\n\r\nRaw.\r\n';
    await transport.sendMail({ envelope: { from: 'a@example.org', to: ['ok2@example.org'] }, raw });
    transport.close();
    await telemetry.flush();
    const starts = (await telemetry.history.events({ types: ['delivery.attempt-start'] })).items;
    expect(starts.map((e) => e.data.messageId).sort()).toEqual([composed.messageId, '<raw-1@example.org>'].sort());
    const found = await telemetry.history.traces({ keywords: 'raw-1@example.org' });
    expect(found.items.map((t) => t.type)).toEqual(['delivery.attempt-start']);
    await telemetry.shutdown();
  });
});
