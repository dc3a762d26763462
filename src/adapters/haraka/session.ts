import { read } from '../read.js';
import type { HarakaTelemetry } from './events.js';

/**
 * A span or instance as the plugin emits into it. Haraka's plugin and hook names travel as the
 * `plugin` and `hook` keys, which the catalogue's refusal events do not declare, so the plugin
 * emits through this looser view; the keys reach every sink as given.
 */
export interface Emitter {
  emit(name: string, data: Record<string, unknown>): void;
}

/** A connection span as the plugin drives it. */
export interface SessionSpan extends Emitter {
  readonly id: number;
  readonly ended: boolean;
  end(data?: Record<string, unknown>): void;
}

/** What the plugin remembers of one Haraka connection. */
export interface Session {
  readonly span: SessionSpan;
  /** The greeting domain last reported, so that each greeting is reported once. */
  ehlo: string | undefined;
  /** Whether the TLS upgrade (or implicit TLS) has been reported. */
  tls: boolean;
  /** Whether a successful AUTH has been reported. */
  authenticated: boolean;
  /** The uuid of the transaction whose MAIL FROM has been reported. */
  mailReported: string | undefined;
  /** The ESMTP parameters of the MAIL command being decided, kept until it is accepted. */
  mailParams: unknown;
  /** The uuid of the transaction no queue_outbound plugin took: Haraka's own outbound queue holds it. */
  outbound: string | undefined;
}

const sessions = new WeakMap<object, Session>();
const open = new Set<Session>();

export function sessionOf(connection: unknown): Session | undefined {
  return typeof connection === 'object' && connection !== null ? sessions.get(connection) : undefined;
}

/** Opens the connection span, once per connection (Haraka runs connect_init again after PROXY). */
export function openSession(telemetry: HarakaTelemetry, connection: object, listenerId: string): Session | undefined {
  const known = sessions.get(connection);
  if (known !== undefined) return known;
  const span = telemetry.span('smtp.connection-start', connectionKeys(connection, listenerId)) as unknown as SessionSpan;
  const session: Session = {
    span,
    ehlo: undefined,
    tls: false,
    authenticated: false,
    mailReported: undefined,
    mailParams: undefined,
    outbound: undefined,
  };
  sessions.set(connection, session);
  open.add(session);
  return session;
}

export function closeSession(connection: object, data?: Record<string, unknown>): void {
  const session = sessions.get(connection);
  if (session === undefined) return;
  sessions.delete(connection);
  open.delete(session);
  session.span.end(data);
}

/** Ends every span still open, so that a shutdown leaves no session without its end. */
export function closeAllSessions(reason: string): number {
  let closed = 0;
  for (const session of open) {
    try {
      session.span.end({ reason });
      closed++;
    } catch {
      // Telemetry never breaks mail.
    }
  }
  open.clear();
  return closed;
}

function connectionKeys(connection: object, listenerId: string) {
  const remote = read(connection, 'remote');
  const local = read(connection, 'local');
  const remoteIp = read(remote, 'ip');
  const remotePort = read(remote, 'port');
  const localIp = read(local, 'ip');
  const localPort = read(local, 'port');
  const uuid = read(connection, 'uuid');
  return {
    remoteIp: typeof remoteIp === 'string' ? remoteIp : '',
    remotePort: portOf(remotePort),
    listenerId,
    localPort: portOf(localPort),
    ...(typeof localIp === 'string' && localIp !== '' ? { localIp } : {}),
    // Haraka's connection uuid, which its own log lines carry.
    ...(typeof uuid === 'string' ? { id: uuid } : {}),
  };
}

function portOf(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : 0;
}

/** A string property, or undefined. */
export function text(value: unknown, key: string): string | undefined {
  const v = read(value, key);
  return typeof v === 'string' ? v : undefined;
}

/** The bare address of a Haraka `Address` (`user@host`, `''` for the null sender). */
export function addressOf(address: unknown): string {
  let value = read(address, 'address');
  if (typeof value === 'function') {
    try {
      value = value.call(address);
    } catch {
      value = undefined;
    }
  }
  if (typeof value === 'string') return value;
  return value === null ? '' : typeof address === 'string' ? address : '';
}
