import nodemailer, { type Transporter } from 'nodemailer';
import { ACCOUNT } from './maildir.js';

/** How a client connects: with the demo login, a wrong one, or none; pooled (one connection, many messages) or not. */
export interface ClientOptions {
  readonly port: number;
  readonly login?: 'good' | 'bad' | 'none';
  readonly pool?: boolean;
}

/** A nodemailer client for the example server (its STARTTLS certificate is smtp-server's self-signed one). */
export function client({ port, login = 'good', pool = false }: ClientOptions): Transporter {
  const auth =
    login === 'none' ? undefined : { user: ACCOUNT.username, pass: login === 'good' ? ACCOUNT.password : 'not-the-password' };
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    auth,
    pool,
    maxConnections: 1,
    tls: { rejectUnauthorized: false },
  });
}

/** A plain message of about `bytes` bytes. */
export function message(from: string, to: string, subject: string, bytes = 400) {
  return { from, to, subject, text: `${subject}\n${'Lorem ipsum dolor sit amet. '.repeat(Math.ceil(bytes / 28))}` };
}

/** The queue id in a `250 … queued as <id>` reply. */
export function queueIdOf(response: string): string | undefined {
  return /queued as (\S+)/.exec(response)?.[1];
}
