import { isIP } from 'node:net';
import { read, readStrings, readText } from './read.js';

/** What the adapter knows of the server a transport sends to, read from its options. */
export interface RemoteServer {
  /** True for nodemailer's SMTP transports (single and pooled), the ones with an SMTP dialogue. */
  readonly smtp: boolean;
  /** The host the transport connects to, as configured (a name or an address). */
  readonly hostname: string;
  /** The host when it is an IP address. */
  readonly remoteIp: string | undefined;
  readonly remotePort: number;
  /** Implicit TLS (`secure`, or port 465). */
  readonly secure: boolean;
  /** STARTTLS is required, so a session that went on negotiated it. */
  readonly requireTls: boolean;
  /** Credentials are configured for the transport or the message. */
  readonly auth: boolean;
  /** `forceAuth`: logs in even where the server does not offer AUTH. */
  readonly forceAuth: boolean;
}

/** Reads nodemailer's transport options the way its SMTP connection does, without ever throwing. */
export function remoteOf(transporter: unknown, fields: unknown): RemoteServer {
  const name = readText(transporter, 'name') ?? '';
  const options = read(transporter, 'options');
  const host = readText(options, 'host') || 'localhost';
  const givenPort = Number(read(options, 'port'));
  const secureOption = read(options, 'secure');
  const secure = secureOption === true || (secureOption === undefined && givenPort === 465);
  return {
    smtp: /^SMTP\b/i.test(name),
    hostname: host,
    remoteIp: isIP(host) === 0 ? undefined : host,
    remotePort: Number.isInteger(givenPort) && givenPort > 0 ? givenPort : secure ? 465 : 587,
    secure,
    requireTls: read(options, 'requireTLS') === true,
    auth: Boolean(read(transporter, 'auth') || read(options, 'auth') || read(fields, 'auth')),
    forceAuth: read(options, 'forceAuth') === true,
  };
}

/** True when the server's EHLO reply (nodemailer's `info.ehlo` lines) offers AUTH. */
export function offersAuth(info: unknown): boolean | undefined {
  const lines = readStrings(info, 'ehlo');
  if (lines === undefined) return undefined;
  return lines.some((line) => /^AUTH\b/i.test(line));
}
