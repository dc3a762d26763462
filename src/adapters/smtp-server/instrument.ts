import type { SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import { type BuiltinEvents, type BuiltinSpans, type Telemetry, TelemetryConfigError } from '../../index.js';
import { type ConnectionState, closeState, type Limits, observeReplies, openState, stateOf, syncEhlo } from './connection.js';
import { callHost, type HookName, inSpan, quietly, wrappers } from './host.js';
import {
  type Envelope,
  envelopeOf,
  reportAuth,
  reportConnectRefused,
  reportData,
  reportMailFrom,
  reportRcptTo,
  reportSecure,
} from './observe.js';
import { type ResolvedSmtpOptions, resolveSmtpOptions, type SmtpServerTelemetryOptions } from './options.js';
import { read } from './refusals.js';

type Args<K extends HookName> = Parameters<NonNullable<SMTPServerOptions[K]>>;

/**
 * Instruments an `smtp-server` server: returns a copy of `options` whose hooks report every session
 * to `telemetry` and then call the host's own hooks (or smtp-server's defaults) unchanged, with the
 * same `this`, arguments and callbacks. The host's callbacks decide; the adapter only observes, and
 * a telemetry failure never reaches the host or the client. Instrument each options object once.
 *
 * ```ts
 * const server = new SMTPServer(instrumentSmtpServer(telemetry, { size: 10 << 20, onAuth, onRcptTo, onData }));
 * ```
 *
 * Each connection is one span, `smtp.connection-start` … `smtp.connection-end`, and every event
 * below is emitted in it (it carries the span's id and keys). The host's hooks run inside the span,
 * so the host's own emits there join the session without a `spanId`.
 *
 * | smtp-server hook or reply | event and keys |
 * | --- | --- |
 * | `onConnect` | `smtp.connection-start` { `remoteIp`, `remotePort`, `listenerId`, `localPort`, `localIp`, `hostname` (reverse DNS, when found) }; a refusal by the host adds `smtp.error` { `code`, `reason` } |
 * | `onSecure` | `tls.handshake` { `version` (negotiated protocol), `details` (cipher), `hostname` (SNI) }; after STARTTLS first `smtp.start-tls` { `details` (cipher) } |
 * | the reply to EHLO/HELO (or the next hook) | `smtp.ehlo` { `domain`, `details` (EHLO, HELO or LHLO) }, once per greeting domain |
 * | `onAuth` | `auth.success` or `auth.failed` { `accountName`, `type` (the method), `code`, `reason` }; never the password |
 * | `onMailFrom` | `smtp.mail-from` { `from`, `details` (the parameters, `SIZE=…`) }, or `smtp.mail-from-not-allowed` { `from`, `code`, `reason` } |
 * | smtp-server's refusal of `SIZE=` over `size` (no hook runs) | `smtp.message-too-large` { `size` (declared), `limit`, `code`: 552 } |
 * | `onRcptTo` | `smtp.rcpt-to` { `to` }, or the refusal event chosen by `rcptRefusal` { `to`, `code`, `reason` } |
 * | smtp-server's refusal past `maxRecipients` (no hook runs) | `smtp.too-many-recipients` { `limit`, `code`: 452 } |
 * | `onData`, when the message has been read | `queue.message-queued` { `queueId`, `from`, `to` (accepted), `size` }; over `size` and refused: `smtp.message-too-large` { `size`, `limit`, `code`, `reason` }; other refusals: `smtp.error` { `code`, `reason`, `from` } |
 * | `onClose` | `smtp.connection-end` { `elapsed` } |
 *
 * @param telemetry - the instance the events go to.
 * @param options - the host's smtp-server options; they are copied, never modified.
 * @param adapterOptions - the listener id, the refusal mapping and the queue id reading.
 * @returns the options to give `new SMTPServer(...)`.
 * @throws TelemetryConfigError for a bad adapter option, or options that are already instrumented.
 */
export function instrumentSmtpServer<M extends BuiltinEvents, S extends BuiltinSpans>(
  telemetry: Telemetry<M, S>,
  options: SMTPServerOptions = {},
  adapterOptions?: SmtpServerTelemetryOptions,
): SMTPServerOptions {
  const resolved = resolveSmtpOptions(adapterOptions);
  if (typeof options !== 'object' || options === null)
    throw new TelemetryConfigError('instrumentSmtpServer(smtpOptions)', options, 'smtp-server options (an object)');
  const given = options.onConnect;
  if (typeof given === 'function' && wrappers.has(given))
    throw new TelemetryConfigError('instrumentSmtpServer(smtpOptions)', 'instrumented options', 'options not instrumented yet');
  const instrumented: SMTPServerOptions = { ...options };
  const hooks = new Hooks(telemetry as unknown as Telemetry, options, instrumented, resolved);
  instrumented.onConnect = function (this: unknown, ...args: Args<'onConnect'>) {
    hooks.connect(this, args);
  };
  instrumented.onSecure = function (this: unknown, ...args: Args<'onSecure'>) {
    hooks.secure(this, args);
  };
  instrumented.onAuth = function (this: unknown, ...args: Args<'onAuth'>) {
    hooks.auth(this, args);
  };
  instrumented.onMailFrom = function (this: unknown, ...args: Args<'onMailFrom'>) {
    hooks.mailFrom(this, args);
  };
  instrumented.onRcptTo = function (this: unknown, ...args: Args<'onRcptTo'>) {
    hooks.rcptTo(this, args);
  };
  instrumented.onData = function (this: unknown, ...args: Args<'onData'>) {
    hooks.data(this, args);
  };
  instrumented.onClose = function (this: unknown, ...args: Args<'onClose'>) {
    hooks.close(this, args);
  };
  for (const name of HOOKS) wrappers.add(instrumented[name] as object);
  return instrumented;
}

const HOOKS = ['onConnect', 'onSecure', 'onAuth', 'onMailFrom', 'onRcptTo', 'onData', 'onClose'] as const;

/** The wrappers' bodies: observe, then call the host's hook with the same `this` and arguments. */
class Hooks {
  readonly #telemetry: Telemetry;
  readonly #host: SMTPServerOptions;
  readonly #server: SMTPServerOptions;
  readonly #options: ResolvedSmtpOptions;

  constructor(telemetry: Telemetry, host: SMTPServerOptions, server: SMTPServerOptions, options: ResolvedSmtpOptions) {
    this.#telemetry = telemetry;
    // The host's hooks are read once, as smtp-server reads them once when it is built.
    this.#host = { ...pickHooks(host) };
    this.#server = server;
    this.#options = options;
  }

  connect(server: unknown, [session, callback]: Args<'onConnect'>): void {
    const state = this.#open(server, session);
    const done: typeof callback =
      state === undefined
        ? callback
        : (...result) => {
            quietly(reportConnectRefused, state, result[0]);
            return callback(...result);
          };
    inSpan(this.#telemetry, state, () => callHost('onConnect', this.#host.onConnect, server, [session, done]));
  }

  secure(server: unknown, [socket, session, callback]: Args<'onSecure'>): void {
    const state = stateOf(session);
    if (state !== undefined) quietly(reportSecure, state, socket, session, this.#server.secure === true);
    const done: typeof callback =
      state === undefined
        ? callback
        : (...result) => {
            quietly(reportConnectRefused, state, result[0]);
            return callback(...result);
          };
    inSpan(this.#telemetry, state, () => callHost('onSecure', this.#host.onSecure, server, [socket, session, done]));
  }

  auth(server: unknown, [auth, session, callback]: Args<'onAuth'>): void {
    const state = this.#touch(session);
    let reported = false;
    const done: typeof callback =
      state === undefined
        ? callback
        : (...result) => {
            if (!reported) {
              reported = true;
              quietly(reportAuth, state, auth, result[0], result[1]);
            }
            return callback(...result);
          };
    inSpan(this.#telemetry, state, () => callHost('onAuth', this.#host.onAuth, server, [auth, session, done]));
  }

  mailFrom(server: unknown, [address, session, callback]: Args<'onMailFrom'>): void {
    const state = this.#touch(session);
    let reported = false;
    const done: typeof callback =
      state === undefined
        ? callback
        : (...result) => {
            if (!reported) {
              reported = true;
              quietly(reportMailFrom, state, address, result[0]);
            }
            return callback(...result);
          };
    inSpan(this.#telemetry, state, () => callHost('onMailFrom', this.#host.onMailFrom, server, [address, session, done]));
  }

  rcptTo(server: unknown, [address, session, callback]: Args<'onRcptTo'>): void {
    const state = this.#touch(session);
    let reported = false;
    const done: typeof callback =
      state === undefined
        ? callback
        : (...result) => {
            if (!reported) {
              reported = true;
              quietly(reportRcptTo, state, this.#options, this.#limits(), address, result[0]);
            }
            return callback(...result);
          };
    inSpan(this.#telemetry, state, () => callHost('onRcptTo', this.#host.onRcptTo, server, [address, session, done]));
  }

  data(server: unknown, [stream, session, callback]: Args<'onData'>): void {
    const state = this.#touch(session);
    let envelope: Envelope | undefined;
    if (state !== undefined) {
      try {
        envelope = envelopeOf(session);
      } catch {
        envelope = undefined;
      }
    }
    let reported = false;
    const done: typeof callback =
      state === undefined || envelope === undefined
        ? callback
        : (...result) => {
            if (!reported) {
              reported = true;
              quietly(this.#watchData, state, stream, session, envelope, result[0], result[1]);
            }
            return callback(...result);
          };
    inSpan(this.#telemetry, state, () => callHost('onData', this.#host.onData, server, [stream, session, done]));
  }

  close(server: unknown, [session, callback]: Args<'onClose'>): void {
    const state = this.#touch(session);
    try {
      inSpan(this.#telemetry, state, () => callHost('onClose', this.#host.onClose, server, [session, callback]));
    } finally {
      if (state !== undefined) quietly(endSpan, state, session);
    }
  }

  #open(server: unknown, session: SMTPServerSession): ConnectionState | undefined {
    let state: ConnectionState;
    try {
      const span = this.#telemetry.span('smtp.connection-start', connectionKeys(session, this.#options.listenerId));
      state = openState(session, span);
    } catch {
      return undefined;
    }
    quietly(observeReplies, server, session, state, this.#limits());
    return state;
  }

  /** The session's state, with its greeting reported if smtp-server has stored one since. */
  #touch(session: SMTPServerSession): ConnectionState | undefined {
    const state = stateOf(session);
    if (state !== undefined) quietly(syncEhlo, state, session);
    return state;
  }

  #limits(): Limits {
    return { size: positive(read(this.#server, 'size')), maxRecipients: positive(read(this.#server, 'maxRecipients')) };
  }

  // An arrow, so that `quietly` can call it unbound.
  readonly #watchData = (
    state: ConnectionState,
    stream: Args<'onData'>[0],
    session: SMTPServerSession,
    envelope: Envelope,
    error: unknown,
    reply: unknown,
  ): void => {
    // The size and the reply are final once the message has been read to its end.
    const finish = (): void => {
      const size = read(stream, 'byteLength');
      const bytes = typeof size === 'number' ? size : 0;
      const limit = positive(read(this.#server, 'size'));
      const outcome = {
        error,
        reply,
        size: bytes,
        sizeExceeded: read(stream, 'sizeExceeded') === true,
        rejectOversized: this.#server.rejectOversized === true && limit !== undefined && bytes > limit,
      };
      quietly(reportData, state, this.#options, this.#limits(), session, envelope, outcome);
    };
    if (read(stream, 'readableEnded') === true) finish();
    else stream.once('end', finish);
  };
}

function pickHooks(options: SMTPServerOptions): SMTPServerOptions {
  const hooks: Record<string, unknown> = {};
  for (const name of HOOKS) {
    const hook = read(options, name);
    if (typeof hook === 'function') hooks[name] = hook;
  }
  return hooks as SMTPServerOptions;
}

function connectionKeys(session: SMTPServerSession, listenerId: string) {
  const remoteIp = read(session, 'remoteAddress');
  const remotePort = read(session, 'remotePort');
  const localPort = read(session, 'localPort');
  const localIp = read(session, 'localAddress');
  const hostname = read(session, 'clientHostname');
  return {
    remoteIp: typeof remoteIp === 'string' ? remoteIp : '',
    remotePort: typeof remotePort === 'number' ? remotePort : 0,
    listenerId,
    localPort: typeof localPort === 'number' ? localPort : 0,
    ...(typeof localIp === 'string' && localIp !== '' ? { localIp } : {}),
    // smtp-server writes `[ip]` when reverse DNS found no name: only a real name is a hostname.
    ...(typeof hostname === 'string' && hostname !== '' && !hostname.startsWith('[') ? { hostname } : {}),
  };
}

function positive(value: unknown): number | undefined {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function endSpan(state: ConnectionState, session: SMTPServerSession): void {
  closeState(session);
  syncEhlo(state, session);
  state.span.end();
}
