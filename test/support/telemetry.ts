/**
 * The one place tests create telemetry instances. Every instance made here is shut down after its
 * test, so no test leaves timers, sockets or pending deliveries behind for the next one; a test
 * that checks the state after `shutdown()` calls it itself (a second call does nothing).
 * test/support/shutdown.test.ts fails a test file that creates an instance some other way.
 */
import { afterEach } from 'vitest';
import {
  type BuiltinEvents,
  createTelemetry,
  type EventName,
  type HostEventMap,
  type HostEventSpecs,
  type HostEvents,
  type TelemetryFor,
  type TelemetryOptions,
} from '../../src/index.js';

export { listenLoopback } from './loopback.js';

/** A telemetry instance over the built-in catalogue, as `make` returns it. */
export type Telemetry = TelemetryFor<Record<never, never>>;

/** The options `make` takes: `createTelemetry`'s, for the built-in catalogue. */
export type Options = NonNullable<Parameters<typeof createTelemetry<Record<never, never>>>[0]>;

interface Closable {
  shutdown(timeout?: number): Promise<unknown>;
}

/**
 * How long the after-test shutdown waits for pending deliveries. Short: the test is over, and a
 * receiver it delivered to may already be closed.
 */
const SHUTDOWN_TIMEOUT = 200;

const open = new Set<Closable>();

/** Registers an instance to shut down after the current test; returns it. */
export function track<T extends Closable>(telemetry: T): T {
  open.add(telemetry);
  return telemetry;
}

/**
 * Shuts down every instance made so far, in parallel. Runs after each test; a helper that owns a
 * receiver calls it first, so that the instances deliver before their receiver closes.
 */
export async function shutdownAll(timeout = SHUTDOWN_TIMEOUT): Promise<void> {
  const closing = [...open];
  open.clear();
  await Promise.all(closing.map((telemetry) => telemetry.shutdown(timeout)));
}

afterEach(() => shutdownAll());

/** How many instances wait for the after-test shutdown. */
export function openCount(): number {
  return open.size;
}

/**
 * `createTelemetry(options)`, shut down after the test. A bad option throws as `createTelemetry`
 * does (and leaves nothing to shut down), so `expect(() => make(bad)).toThrow(...)` checks it.
 */
export function make(options?: Options): Telemetry {
  return track(createTelemetry<Record<never, never>>(options));
}

/** `make` for a host with its own events (`defineEvents`), typed by them. */
export function makeWithEvents<D extends HostEventSpecs, const T extends string = string>(
  options: TelemetryOptions<HostEvents<D>, NoInfer<EventName<BuiltinEvents & HostEventMap<D>>>, T>,
): TelemetryFor<D> {
  return track(createTelemetry<D, T>(options));
}

/** A hand-driven clock: tests move `now` instead of waiting. */
export interface Clock {
  now: number;
}

/** `make` on a hand-driven clock starting at 2026-11-24T12:00Z: `telemetry.clock.now += ms`. */
export function makeClocked(options: Options = {}): Telemetry & { readonly clock: Clock } {
  const clock: Clock = { now: Date.UTC(2026, 10, 24, 12) };
  return Object.assign(make({ now: () => clock.now, ...options }), { clock });
}

/** The keys a connection span's start event requires. */
export type Connection = BuiltinEvents['smtp.connection-start'] & {
  readonly remoteIp: string;
  readonly remotePort: number;
  readonly listenerId: string;
  readonly localPort: number;
};

/** A connection span's start keys: an SMTP client from `remoteIp` on listener `listenerId`, port 25. */
export function connection(remoteIp = '192.0.2.10', remotePort = 40_123, listenerId = 'smtp', localPort = 25): Connection {
  return { remoteIp, remotePort, listenerId, localPort };
}

/** The connection most tests open: 192.0.2.10:40123 on the 'smtp' listener, port 25. */
export const CONNECTION: Connection = Object.freeze(connection());

type Recipient = NonNullable<BuiltinEvents['smtp.rcpt-to']['to']>;

/** What `session` emits; each part has a typical default. */
export interface SessionOptions {
  /**
   * The connection's start keys.
   * @default CONNECTION
   */
  readonly connection?: Connection;
  /**
   * The EHLO domain; false sends no EHLO.
   * @default `helo.${remoteIp}`
   */
  readonly ehlo?: string | false;
  /**
   * The MAIL FROM address.
   * @default 'alice@example.org'
   */
  readonly from?: string;
  /**
   * One RCPT TO per element, each carrying it as `to`.
   * @default ['bob@example.com']
   */
  readonly to?: readonly Recipient[];
  /**
   * The keys of a `queue.message-queued` event emitted after the recipients; none when absent.
   * @default undefined (the message is not queued)
   */
  readonly queued?: { readonly queueId?: number; readonly size?: number };
}

/** The part of a telemetry instance `session` uses. */
type SpanOpener = Pick<Telemetry, 'span'>;

/**
 * Emits a typical inbound SMTP session, ended: connection start, EHLO, MAIL FROM, one RCPT TO per
 * recipient, optionally queued, connection end. Returns the (ended) span.
 */
export function session(telemetry: SpanOpener, options: SessionOptions = {}) {
  const keys = options.connection ?? CONNECTION;
  const span = telemetry.span('smtp.connection-start', keys);
  const ehlo = options.ehlo ?? `helo.${keys.remoteIp}`;
  if (ehlo !== false) span.emit('smtp.ehlo', { domain: ehlo });
  span.emit('smtp.mail-from', { from: options.from ?? 'alice@example.org' });
  for (const to of options.to ?? ['bob@example.com']) span.emit('smtp.rcpt-to', { to });
  if (options.queued !== undefined) span.emit('queue.message-queued', options.queued);
  span.end();
  return span;
}
