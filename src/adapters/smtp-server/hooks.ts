import type {
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerDataStream,
  SMTPServerOptions,
  SMTPServerSession,
} from 'smtp-server';
import type { Telemetry } from '../../index.js';
import { read } from '../read.js';
import { type ConnectionState, closeState, limitsOf, openState, stateOf, syncEhlo } from './connection.js';
import { type HeaderTap, tapHeaders } from './headers.js';
import { callHost } from './host.js';
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
import { observeReplies } from './replies.js';

/** A hook's callback, as the adapter passes it on: smtp-server's callbacks take an error and a reply. */
export type Callback = (error?: unknown, reply?: unknown) => unknown;

export const HOOKS = ['onConnect', 'onSecure', 'onAuth', 'onMailFrom', 'onRcptTo', 'onData', 'onClose'] as const;

/**
 * The wrappers' bodies: observe, then call the host's hook with the same `this` and arguments.
 * Each hook's callback is wrapped by one closure that reports the host's first answer and passes
 * every answer on; a report never throws into smtp-server or the host.
 */
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

  connect(server: unknown, session: SMTPServerSession, callback: Callback): void {
    const state = this.#open(server, session);
    const done = state === undefined ? callback : reportingRefusal(state, callback);
    callHost(this.#telemetry, state, 'onConnect', this.#host.onConnect, server, session, done);
  }

  secure(server: unknown, socket: unknown, session: SMTPServerSession, callback: Callback): void {
    const state = stateOf(session);
    if (state !== undefined) {
      try {
        reportSecure(state, socket, session, this.#server.secure === true);
      } catch {
        // Telemetry never breaks mail.
      }
    }
    const done = state === undefined ? callback : reportingRefusal(state, callback);
    callHost(this.#telemetry, state, 'onSecure', this.#host.onSecure, server, socket, session, done);
  }

  auth(server: unknown, auth: SMTPServerAuthentication, session: SMTPServerSession, callback: Callback): void {
    const state = touch(session);
    const done = state === undefined ? callback : reportingOnce(callback, reportAuth, state, auth);
    callHost(this.#telemetry, state, 'onAuth', this.#host.onAuth, server, auth, session, done);
  }

  mailFrom(server: unknown, address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void {
    const state = touch(session);
    const done = state === undefined ? callback : reportingOnce(callback, reportMailFrom, state, address);
    callHost(this.#telemetry, state, 'onMailFrom', this.#host.onMailFrom, server, address, session, done);
  }

  rcptTo(server: unknown, address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void {
    const state = touch(session);
    const done = state === undefined ? callback : reportingOnce(callback, this.#reportRcpt, state, address);
    callHost(this.#telemetry, state, 'onRcptTo', this.#host.onRcptTo, server, address, session, done);
  }

  data(server: unknown, stream: SMTPServerDataStream, session: SMTPServerSession, callback: Callback): void {
    const state = touch(session);
    let done = callback;
    if (state !== undefined) {
      let envelope: Envelope | undefined;
      let headers: HeaderTap | undefined;
      try {
        envelope = envelopeOf(session);
        headers = tapHeaders(stream);
      } catch {
        envelope = undefined;
      }
      if (envelope !== undefined && headers !== undefined)
        done = reportingOnce(callback, this.#watchData, state, { stream, session, envelope, headers });
    }
    callHost(this.#telemetry, state, 'onData', this.#host.onData, server, stream, session, done);
  }

  close(server: unknown, session: SMTPServerSession, callback: Callback): void {
    const state = touch(session);
    try {
      callHost(this.#telemetry, state, 'onClose', this.#host.onClose, server, session, callback);
    } finally {
      if (state !== undefined) {
        try {
          closeState(session);
          syncEhlo(state, session);
          state.span.end();
        } catch {
          // Telemetry never breaks mail.
        }
      }
    }
  }

  #open(server: unknown, session: SMTPServerSession): ConnectionState | undefined {
    let state: ConnectionState;
    try {
      const span = this.#telemetry.span('smtp.connection-start', connectionKeys(session, this.#options.listenerId));
      state = openState(session, span, this.#server);
    } catch {
      return undefined;
    }
    try {
      observeReplies(server);
    } catch {
      // The refusals smtp-server makes alone go unreported; the session is still observed.
    }
    return state;
  }

  // Arrows, so that reportingOnce can call them unbound.
  readonly #reportRcpt = (state: ConnectionState, address: SMTPServerAddress, error: unknown): void => {
    reportRcptTo(state, this.#options, address, error);
  };

  readonly #watchData = (state: ConnectionState, watched: DataWatch, error: unknown, reply: unknown): void => {
    const { stream } = watched;
    // The size and the reply are final once the message has been read to its end.
    const finish = (): void => {
      try {
        const size = read(stream, 'byteLength');
        const bytes = typeof size === 'number' ? size : 0;
        const limit = limitsOf(state).size;
        const queued = reportData(state, this.#options, watched.session, watched.envelope, {
          error,
          reply,
          size: bytes,
          sizeExceeded: read(stream, 'sizeExceeded') === true,
          rejectOversized: state.options.rejectOversized === true && limit !== undefined && bytes > limit,
          messageId: watched.headers.messageId,
        });
        if (queued && this.#options.handsOn) this.#telemetry.metrics.gauge('queue.count').dec();
      } catch {
        // Telemetry never breaks mail.
      }
    };
    if (read(stream, 'readableEnded') === true) finish();
    else stream.once('end', finish);
  };
}

/** A DATA transfer being watched until its end. */
interface DataWatch {
  readonly stream: SMTPServerDataStream;
  readonly session: SMTPServerSession;
  readonly envelope: Envelope;
  readonly headers: HeaderTap;
}

/** The session's state, with its greeting reported if smtp-server has stored one since. */
function touch(session: SMTPServerSession): ConnectionState | undefined {
  const state = stateOf(session);
  if (state !== undefined) {
    try {
      syncEhlo(state, session);
    } catch {
      // Telemetry never breaks mail.
    }
  }
  return state;
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

/**
 * The host's callback, preceded by one report of the first answer it is given (a callback may be
 * called twice). One closure a hook: the report takes its subject as an argument.
 */
function reportingOnce<T>(
  callback: Callback,
  report: (state: ConnectionState, subject: T, error: unknown, reply: unknown) => void,
  state: ConnectionState,
  subject: T,
): Callback {
  let reported = false;
  return (error, reply) => {
    if (!reported) {
      reported = true;
      try {
        report(state, subject, error, reply);
      } catch {
        // Telemetry never breaks mail.
      }
    }
    return callback(error, reply);
  };
}

/** The host's connect or TLS callback, preceded by a report of the refusal it may be given. */
function reportingRefusal(state: ConnectionState, callback: Callback): Callback {
  return (error, reply) => {
    try {
      reportConnectRefused(state, error);
    } catch {
      // Telemetry never breaks mail.
    }
    return callback(error, reply);
  };
}
