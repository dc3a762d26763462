import { once } from 'node:events';
import { connect } from 'node:net';
import type { SendMailOptions } from 'nodemailer';
import type { SMTPServer, SMTPServerOptions } from 'smtp-server';
import type { Telemetry } from '../../../src/index.js';
import { type ClientOptions, listenServer, PLAIN_SERVER, smtpClient } from '../support.js';

export { type ClientOptions, record } from '../support.js';

/** The account the test server knows, and its password (which must never appear in an event). */
export const USER = 'alice';
export const PASSWORD = 'pw-Zq8#never-in-telemetry';

/** The recipient table: local mailboxes; other local addresses do not exist, other domains are relaying. */
export const MAILBOXES = new Set(['bob@example.org', 'carol@example.org', 'dave@example.org']);

/** Host options as a real mail server writes them: AUTH, a size limit, a recipient table, a queue. */
export function hostOptions(queue: string[]): SMTPServerOptions {
  return {
    ...PLAIN_SERVER,
    size: 1000,
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASSWORD) return callback(null, { user: USER });
      const error = Object.assign(new Error('Invalid username or password'), { responseCode: 535 });
      return callback(error);
    },
    onRcptTo(address, _session, callback) {
      const to = address.address.toLowerCase();
      if (to.startsWith('grey')) return callback(Object.assign(new Error('Greylisted, try again later'), { responseCode: 450 }));
      if (!to.endsWith('@example.org')) return callback(Object.assign(new Error('Relay access denied'), { responseCode: 554 }));
      if (!MAILBOXES.has(to)) return callback(Object.assign(new Error('No such user here'), { responseCode: 550 }));
      return callback();
    },
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        if (stream.sizeExceeded)
          return callback(Object.assign(new Error('Message too big for this server'), { responseCode: 552 }));
        const id = `Q${queue.length + 1}`;
        queue.push(id);
        return callback(null, `Ok: queued as ${id}`);
      });
    },
  };
}

/** A real SMTPServer on 127.0.0.1 and a free port, closed after the current test. */
export const listenSmtp = listenServer;

/** A nodemailer transport to the test server. */
export function client(port: number, extra: ClientOptions = {}) {
  return smtpClient(port, 'client.example.net', extra);
}

/** What a send ended with, as the client saw it. */
export interface Outcome {
  readonly ok: boolean;
  readonly accepted: readonly string[];
  readonly rejected: readonly string[];
  readonly code: number | undefined;
  readonly response: string;
}

export async function send(transport: ReturnType<typeof client>, mail: SendMailOptions): Promise<Outcome> {
  try {
    const info = await transport.sendMail(mail);
    return {
      ok: true,
      accepted: info.accepted.map(String),
      rejected: info.rejected.map(String),
      code: undefined,
      response: info.response,
    };
  } catch (error) {
    const e = error as { responseCode?: number; response?: string; message: string };
    return { ok: false, accepted: [], rejected: [], code: e.responseCode, response: e.response ?? e.message };
  }
}

/** Waits until smtp-server has called onClose for every connection and the events are delivered. */
export async function settle(telemetry: Telemetry, server: SMTPServer): Promise<void> {
  for (let i = 0; i < 200 && server.connections.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  // onClose runs on setImmediate after the socket closed.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  await telemetry.flush();
}

/** The value of a gauge, or the count of a histogram, in the metrics snapshot. */
export function metric(telemetry: Telemetry, name: string): number | undefined {
  const found = telemetry.metrics.snapshot().metrics.find((m) => m.name === name);
  const series = found?.series[0];
  if (series === undefined) return undefined;
  return 'value' in series ? series.value : series.count;
}

/**
 * A raw SMTP dialogue over a `net` socket, for what nodemailer never sends (it refuses a declared
 * SIZE over the server's limit itself). Returns the last reply line to each command.
 */
export async function dialogue(port: number, commands: readonly string[]): Promise<string[]> {
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('latin1');
  let buffer = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (const wake of waiters.splice(0)) wake();
  });
  const reply = async (): Promise<string> => {
    for (;;) {
      const end = /^\d{3} [^\r\n]*\r\n/m.exec(buffer);
      if (end !== null) {
        const line = end[0].trimEnd();
        buffer = buffer.slice(end.index + end[0].length);
        return line;
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const replies = [await reply()];
  for (const command of commands) {
    socket.write(`${command}\r\n`);
    replies.push(await reply());
  }
  socket.end();
  await once(socket, 'close');
  return replies;
}
