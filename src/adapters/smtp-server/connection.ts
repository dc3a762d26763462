import type { SMTPServerOptions } from 'smtp-server';
import type { BuiltinEvents, Span } from '../../index.js';
import { read } from '../read.js';

/** The connection span of an smtp-server session. */
export type ConnectionSpan = Span<BuiltinEvents, 'smtp.connection-end'>;

/** What the adapter remembers of one connection. */
export interface ConnectionState {
  readonly span: ConnectionSpan;
  /** The server's (instrumented) options, where the size and recipient limits are read. */
  readonly options: SMTPServerOptions;
  /** The EHLO/HELO domain last reported, so that each greeting is reported once. */
  ehlo: string | undefined;
  /** The MAIL command smtp-server is handling (its SIZE check happens there), else undefined. */
  mailCommand: unknown;
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

export function openState(session: object, span: ConnectionSpan, options: SMTPServerOptions): ConnectionState {
  const state: ConnectionState = { span, options, ehlo: undefined, mailCommand: undefined };
  states.set(session, state);
  return state;
}

export function closeState(session: object): ConnectionState | undefined {
  const state = states.get(session);
  states.delete(session);
  return state;
}

/** The limits as the server's options give them now; read only when a refusal reports one. */
export function limitsOf(state: ConnectionState): Limits {
  return { size: positive(read(state.options, 'size')), maxRecipients: positive(read(state.options, 'maxRecipients')) };
}

function positive(value: unknown): number | undefined {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Reports the client's EHLO/HELO domain once smtp-server has stored it in the session. */
export function syncEhlo(state: ConnectionState, session: object): void {
  const domain = read(session, 'hostNameAppearsAs');
  if (typeof domain !== 'string' || domain === '' || domain === state.ehlo) return;
  state.ehlo = domain;
  const command = read(session, 'openingCommand');
  state.span.emit('smtp.ehlo', typeof command === 'string' ? { domain, details: command } : { domain });
}
