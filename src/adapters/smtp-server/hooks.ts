import type { SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { Telemetry } from '../../index.js';
import { read } from '../read.js';
import { type ConnectionState, closeState, type Limits, observeReplies, openState, stateOf, syncEhlo } from './connection.js';
import { type HeaderTap, tapHeaders } from './headers.js';
import { callHost, type HookName, inSpan, quietly } from './host.js';
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
import type { ResolvedSmtpOptions } from './options.js';

/** The arguments smtp-server passes to hook `K`. */
export type Args<K extends HookName> = Parameters<NonNullable<SMTPServerOptions[K]>>;

export const HOOKS = ['onConnect', 'onSecure', 'onAuth', 'onMailFrom', 'onRcptTo', 'onData', 'onClose'] as const;

/** The wrappers' bodies: observe, then call the host's hook with the same `this` and arguments. */
export class Hooks {
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
    const done = state === undefined ? callback : reportingRefusal(state, callback);
    inSpan(this.#telemetry, state, () => callHost('onConnect', this.#host.onConnect, server, [session, done]));
  }

  secure(server: unknown, [socket, session, callback]: Args<'onSecure'>): void {
    const state = stateOf(session);
    if (state !== undefined) quietly(reportSecure, state, socket, session, this.#server.secure === true);
    const done = state === undefined ? callback : reportingRefusal(state, callback);
    inSpan(this.#telemetry, state, () => callHost('onSecure', this.#host.onSecure, server, [socket, session, done]));
  }

  auth(server: unknown, [auth, session, callback]: Args<'onAuth'>): void {
    const state = this.#touch(session);
    const done: typeof callback =
      state === undefined
        ? callback
        : reportingOnce(callback, (...result) => quietly(reportAuth, state, auth, result[0], result[1]));
    inSpan(this.#telemetry, state, () => callHost('onAuth', this.#host.onAuth, server, [auth, session, done]));
  }

  mailFrom(server: unknown, [address, session, callback]: Args<'onMailFrom'>): void {
    const state = this.#touch(session);
    const done: typeof callback =
      state === undefined ? callback : reportingOnce(callback, (...result) => quietly(reportMailFrom, state, address, result[0]));
    inSpan(this.#telemetry, state, () => callHost('onMailFrom', this.#host.onMailFrom, server, [address, session, done]));
  }

  rcptTo(server: unknown, [address, session, callback]: Args<'onRcptTo'>): void {
    const state = this.#touch(session);
    const done: typeof callback =
      state === undefined
        ? callback
        : reportingOnce(callback, (...result) => quietly(reportRcptTo, state, this.#options, this.#limits(), address, result[0]));
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
    const headers = state === undefined || envelope === undefined ? undefined : tapHeaders(stream);
    const done: typeof callback =
      state === undefined || envelope === undefined || headers === undefined
        ? callback
        : reportingOnce(callback, (...result) =>
            quietly(this.#watchData, state, stream, session, envelope, headers, result[0], result[1]),
          );
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
    headers: HeaderTap,
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
        messageId: headers.messageId,
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

/** The host's connect or TLS callback, preceded by a report of the refusal it may be given. */
function reportingRefusal<A extends unknown[], R>(state: ConnectionState, callback: (...args: A) => R): (...args: A) => R {
  return (...result) => {
    quietly(reportConnectRefused, state, result[0]);
    return callback(...result);
  };
}

/** The host's callback, preceded by one report of the first answer it is given (a callback may be called twice). */
function reportingOnce<A extends unknown[], R>(callback: (...args: A) => R, report: (...result: A) => void): (...args: A) => R {
  let reported = false;
  return (...result) => {
    if (!reported) {
      reported = true;
      report(...result);
    }
    return callback(...result);
  };
}
