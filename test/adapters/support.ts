/** What both adapters' test harnesses need: real SMTP servers on loopback, clients, and a recorder. */
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach } from 'vitest';
import type { Telemetry, TelemetryEvent } from '../../src/index.js';

/** What both test servers share: plain text on loopback, optional AUTH PLAIN and LOGIN, no log. */
export const PLAIN_SERVER: SMTPServerOptions = {
  logger: false,
  disableReverseLookup: true,
  authMethods: ['PLAIN', 'LOGIN'],
  authOptional: true,
  allowInsecureAuth: true,
  disabledCommands: ['STARTTLS'],
};

const servers: SMTPServer[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A real SMTPServer on 127.0.0.1 and a free port, closed after the current test. */
export async function listenServer(options: SMTPServerOptions): Promise<{ server: SMTPServer; port: number }> {
  const server = new SMTPServer({ closeTimeout: 200, ...options });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.server.address() as AddressInfo).port };
}

/** Transport options, with nodemailer's pool options (`pool: true` makes one pooled session). */
export type ClientOptions = SMTPTransport.Options & { readonly pool?: boolean; readonly maxConnections?: number };

/** A real nodemailer transporter to a test server on 127.0.0.1, greeting as `name`, without TLS. */
export function smtpClient(port: number, name: string, extra: ClientOptions = {}) {
  const options: SMTPTransport.Options = {
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    name,
    connectionTimeout: 5000,
    ...extra,
  };
  return nodemailer.createTransport(options);
}

/** Every event the telemetry emits, in order, from a lossless subscriber at trace level. */
export function record(telemetry: Telemetry): TelemetryEvent[] {
  const events: TelemetryEvent[] = [];
  telemetry.subscribe({ id: 'recorder', level: 'trace' }, (batch) => {
    for (const event of batch) if (!event.type.startsWith('telemetry.')) events.push(event);
  });
  return events;
}
