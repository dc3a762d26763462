import { randomBytes } from 'node:crypto';
import type { SMTPServerOptions } from 'smtp-server';
import { ACCOUNT, type Maildir } from './maildir.js';

/** A message the server accepted, waiting for delivery. */
export interface QueuedMessage {
  readonly queueId: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: Buffer;
}

function refusal(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

/**
 * The mail server's own smtp-server options, written with no telemetry in mind: one login, local
 * mailboxes only, a size limit, and every accepted message handed to `queue` with a queue id.
 */
export function inboundOptions(maildir: Maildir, maxSize: number, queue: (message: QueuedMessage) => void): SMTPServerOptions {
  return {
    name: 'mx.example.org',
    logger: false, // STARTTLS uses smtp-server's built-in demo certificate; a real server passes `key` and `cert`
    size: maxSize,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true, // anyone may deliver to a local mailbox; a login is needed for nothing else here
    onAuth(auth, _session, callback) {
      if (auth.username === ACCOUNT.username && auth.password === ACCOUNT.password) callback(null, { user: auth.username });
      else callback(refusal(535, '5.7.8 Authentication credentials invalid'));
    },
    onRcptTo(address, _session, callback) {
      if (maildir.mailbox(address.address) !== undefined) callback();
      else if (address.address.toLowerCase().endsWith('@example.org')) callback(refusal(550, '5.1.1 Mailbox does not exist'));
      else callback(refusal(554, '5.7.1 Relaying denied: this server delivers to example.org only'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          callback(refusal(552, `5.3.4 Message exceeds the fixed maximum size of ${maxSize} bytes`));
          return;
        }
        const queueId = randomBytes(6).toString('hex').toUpperCase();
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        queue({ queueId, from, to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw: Buffer.concat(chunks) });
        callback(null, `2.0.0 Ok: queued as ${queueId}`);
      });
    },
  };
}

/** The local delivery agent's options: it takes the queue's mail and writes it into the maildir. */
export function deliveryOptions(maildir: Maildir): SMTPServerOptions {
  return {
    name: 'lda.example.org',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    onRcptTo(address, _session, callback) {
      if (maildir.mailbox(address.address) !== undefined) callback();
      else callback(refusal(550, '5.1.1 Mailbox does not exist'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const boxes = session.envelope.rcptTo.map((rcpt) => maildir.mailbox(rcpt.address) ?? '');
        Promise.all(boxes.map((box) => maildir.deliver(box, raw))).then(
          () => callback(null, '2.0.0 Delivered'),
          () => callback(refusal(451, '4.3.0 Mailbox temporarily unavailable')),
        );
      });
    },
  };
}
