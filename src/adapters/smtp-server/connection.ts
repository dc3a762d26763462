import type { BuiltinEvents, Span } from '../../index.js';
import { read } from '../read.js';

/** The connection span of an smtp-server session. */
export type ConnectionSpan = Span<BuiltinEvents, 'smtp.connection-end'>;

/** What the adapter remembers of one connection. */
export interface ConnectionState {
  readonly span: ConnectionSpan;
  /** The EHLO/HELO domain last reported, so that each greeting is reported once. */
  ehlo: string | undefined;
  /** True while smtp-server handles a MAIL command (its SIZE check happens there). */
  inMail: boolean;
  /** The `SIZE=` of the MAIL command being handled. */
  declaredSize: number | undefined;
}

/** The limits of the server's options that refusals report. */
export interface Limits {
  readonly size: number | undefined;
  readonly maxRecipients: number | undefined;
}

const states = new WeakMap<object, ConnectionState>();

export function stateOf(session: unknown): ConnectionState | undefined {
  return typeof session === 'object' && session !== null ? states.get(session) : undefined;
}

export function openState(session: object, span: ConnectionSpan): ConnectionState {
  const state: ConnectionState = { span, ehlo: undefined, inMail: false, declaredSize: undefined };
  states.set(session, state);
  return state;
}

export function closeState(session: object): ConnectionState | undefined {
  const state = states.get(session);
  states.delete(session);
  return state;
}

/** Reports the client's EHLO/HELO domain once smtp-server has stored it in the session. */
export function syncEhlo(state: ConnectionState, session: object): void {
  const domain = read(session, 'hostNameAppearsAs');
  if (typeof domain !== 'string' || domain === '' || domain === state.ehlo) return;
  state.ehlo = domain;
  const command = read(session, 'openingCommand');
  state.span.emit('smtp.ehlo', typeof command === 'string' ? { domain, details: command } : { domain });
}

type Send = (this: unknown, code: number, ...rest: unknown[]) => unknown;
type Handler = (this: unknown, command: unknown, ...rest: unknown[]) => unknown;

const SIZE_PARAM = /\sSIZE=(\d{1,20})(?:\s|$)/i;

/**
 * Finds the smtp-server connection of `session` among `server.connections` and observes its replies:
 * the EHLO answer, and the refusals smtp-server makes before any hook runs (a `SIZE=` over the
 * limit, too many recipients). Its methods are wrapped as own properties that call the originals
 * with the same arguments and return their results. Nothing happens when the shape is not found.
 */
export function observeReplies(server: unknown, session: object, state: ConnectionState, limits: Limits): void {
  const connection = findConnection(server, session);
  if (connection === undefined) return;
  const send = read(connection, 'send');
  const handleMail = read(connection, 'handler_MAIL');
  if (typeof send !== 'function' || typeof handleMail !== 'function') return;
  const originalSend = send as Send;
  const originalMail = handleMail as Handler;
  const wrappedSend: Send = function (this: unknown, code, ...rest) {
    const result = originalSend.call(this, code, ...rest);
    try {
      onReply(state, session, limits, code, rest[1]);
    } catch {
      // Observation only: a failure here never reaches the connection.
    }
    return result;
  };
  const wrappedMail: Handler = function (this: unknown, command, ...rest) {
    try {
      state.inMail = true;
      state.declaredSize = declaredSize(command);
    } catch {
      state.declaredSize = undefined;
    }
    try {
      return originalMail.call(this, command, ...rest);
    } finally {
      state.inMail = false;
    }
  };
  try {
    Object.defineProperty(connection, 'send', { value: wrappedSend, writable: true, configurable: true });
    Object.defineProperty(connection, 'handler_MAIL', { value: wrappedMail, writable: true, configurable: true });
  } catch {
    // A frozen or exotic connection is left as it is.
  }
}

function findConnection(server: unknown, session: object): object | undefined {
  const connections = read(server, 'connections');
  if (!(connections instanceof Set)) return undefined;
  for (const connection of connections) if (read(connection, 'session') === session) return connection as object;
  return undefined;
}

function declaredSize(command: unknown): number | undefined {
  const text = Buffer.isBuffer(command) ? command.toString('latin1') : typeof command === 'string' ? command : '';
  const match = SIZE_PARAM.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function onReply(state: ConnectionState, session: object, limits: Limits, code: number, context: unknown): void {
  syncEhlo(state, session);
  if (code === 552 && context === 'MESSAGE_TOO_BIG' && state.inMail) {
    state.span.emit('smtp.message-too-large', {
      ...(state.declaredSize === undefined ? {} : { size: state.declaredSize }),
      ...(limits.size === undefined ? {} : { limit: limits.size }),
      code,
      details: 'MAIL FROM SIZE',
    });
  } else if (code === 452 && context === 'TOO_MANY_RECIPIENTS') {
    state.span.emit('smtp.too-many-recipients', {
      ...(limits.maxRecipients === undefined ? {} : { limit: limits.maxRecipients }),
      code,
    });
  }
}
