import type { SMTPServerAddress, SMTPServerAuthentication } from 'smtp-server';
import { paramsText, read } from '../read.js';
import { type ConnectionState, limitsOf } from './connection.js';
import type { ResolvedSmtpOptions } from './options.js';
import { type QueueId, takeGivenQueueId, transactionOf } from './queue-id.js';
import { type RcptRefusalEvent, readRefusal } from './refusals.js';

// What each hook reports once the host's callback decides. None of these throw into the host:
// the hook wrappers call them inside try/catch, and every host value is read with `read`.

export function reportConnectRefused(state: ConnectionState, error: unknown): void {
  if (!error) return;
  const { code, message } = readRefusal(error, 554);
  state.span.emit('smtp.error', { code, reason: message, details: 'connection refused by onConnect' });
}

export function reportSecure(state: ConnectionState, socket: unknown, session: object, implicit: boolean): void {
  const cipher = read(session, 'tlsOptions');
  const protocol = callString(socket, 'getProtocol') ?? stringOf(read(cipher, 'version'));
  const name = stringOf(read(cipher, 'name'));
  const servername = stringOf(read(session, 'servername'));
  // After STARTTLS the client greets again (RFC 3207), and that greeting is reported too.
  if (!implicit) {
    state.ehlo = undefined;
    state.span.emit('smtp.start-tls', name === undefined ? {} : { details: name });
  }
  state.span.emit('tls.handshake', {
    ...(protocol === undefined ? {} : { version: protocol }),
    ...(name === undefined ? {} : { details: name }),
    ...(servername === undefined ? {} : { hostname: servername }),
  });
}

export function reportAuth(state: ConnectionState, auth: SMTPServerAuthentication, error: unknown, response: unknown): void {
  const username = stringOf(read(auth, 'username'));
  const method = stringOf(read(auth, 'method'));
  const who = { ...(username === undefined ? {} : { accountName: username }), ...(method === undefined ? {} : { type: method }) };
  if (!error && read(response, 'user')) {
    state.span.emit('auth.success', who);
    return;
  }
  const refusal = error ? readRefusal(error, 535) : readRefusal(response, 535);
  state.span.emit('auth.failed', { ...who, code: refusal.code, ...(refusal.message === '' ? {} : { reason: refusal.message }) });
}

export function reportMailFrom(state: ConnectionState, address: SMTPServerAddress, error: unknown): void {
  const from = stringOf(read(address, 'address')) ?? '';
  if (error) {
    const { code, message } = readRefusal(error, 550);
    state.span.emit('smtp.mail-from-not-allowed', { from, code, reason: message });
    return;
  }
  const args = read(address, 'args');
  const params = paramsText(args);
  // The declared SIZE= is a key of its own, so the history and filters can read it.
  const declared = Number(stringOf(read(args, 'SIZE')) ?? Number.NaN);
  const size = Number.isSafeInteger(declared) && declared >= 0 ? { size: declared } : {};
  state.span.emit('smtp.mail-from', params === '' ? { from, ...size } : { from, ...size, details: params });
}

export function reportRcptTo(
  state: ConnectionState,
  options: ResolvedSmtpOptions,
  address: SMTPServerAddress,
  error: unknown,
): void {
  const to = stringOf(read(address, 'address')) ?? '';
  if (!error) {
    state.span.emit('smtp.rcpt-to', { to });
    return;
  }
  const { code, message } = readRefusal(error, 550);
  let event: RcptRefusalEvent | false;
  try {
    event = options.rcptRefusal({ code, message, address: to });
  } catch {
    event = 'smtp.error';
  }
  if (event === false) return;
  if (event === 'smtp.too-many-recipients') {
    const { maxRecipients } = limitsOf(state);
    const limit = maxRecipients === undefined ? {} : { limit: maxRecipients };
    state.span.emit(event, { ...limit, code, reason: message, details: to });
  } else {
    state.span.emit(event, { to, code, reason: message });
  }
}

/** The envelope of a transaction, read when DATA starts (smtp-server resets it after the reply). */
export interface Envelope {
  readonly from: string;
  readonly to: readonly string[];
  readonly sessionId: string;
  readonly transaction: number;
}

export function envelopeOf(session: object): Envelope {
  const envelope = read(session, 'envelope');
  const from = stringOf(read(read(envelope, 'mailFrom'), 'address')) ?? '';
  const rcptTo = read(envelope, 'rcptTo');
  const to: string[] = [];
  if (Array.isArray(rcptTo)) {
    for (const rcpt of rcptTo) {
      const address = stringOf(read(rcpt, 'address'));
      if (address !== undefined) to.push(address);
    }
  }
  return { from, to, ...transactionOf(session) };
}

/** The end of a DATA transfer: the message queued, or refused for its size or by the host. */
export interface DataOutcome {
  readonly error: unknown;
  readonly reply: unknown;
  readonly size: number;
  readonly sizeExceeded: boolean;
  /** smtp-server's `rejectOversized`: an oversized message is refused whatever the host says. */
  readonly rejectOversized: boolean;
  /** The message's Message-ID header, when its header block was read. */
  readonly messageId: string | undefined;
}

/** Reports the end of a DATA transfer; true when the message was queued. */
export function reportData(
  state: ConnectionState,
  options: ResolvedSmtpOptions,
  session: object,
  envelope: Envelope,
  outcome: DataOutcome,
): boolean {
  const { error, reply, size, sizeExceeded } = outcome;
  const accepted = acceptedRecipients(envelope.to, error, reply);
  if (sizeExceeded && (outcome.rejectOversized || accepted.length === 0)) {
    const refusal = outcome.rejectOversized ? { code: 552, message: '' } : readRefusal(error, 450);
    const limit = limitsOf(state).size;
    state.span.emit('smtp.message-too-large', {
      size,
      ...(limit === undefined ? {} : { limit }),
      code: refusal.code,
      ...(refusal.message === '' ? {} : { reason: refusal.message }),
    });
    return false;
  }
  if (accepted.length === 0) {
    const { code, message } = readRefusal(Array.isArray(reply) ? reply[0] : error, 450);
    state.span.emit('smtp.error', { code, reason: message, details: 'message refused by onData', from: envelope.from });
    return false;
  }
  const queueId = queueIdOf(options, session, envelope, reply);
  const { messageId } = outcome;
  state.span.emit('queue.message-queued', {
    queueId,
    from: envelope.from,
    to: accepted,
    size,
    ...(messageId === undefined ? {} : { messageId }),
  });
  return true;
}

function queueIdOf(options: ResolvedSmtpOptions, session: object, envelope: Envelope, reply: unknown): QueueId {
  const given = takeGivenQueueId(session);
  if (given !== undefined) return given;
  const text = typeof reply === 'string' ? reply : Array.isArray(reply) ? reply.find((r) => typeof r === 'string') : undefined;
  const queued = { reply: text, sessionId: envelope.sessionId, transaction: envelope.transaction };
  try {
    const id = options.queueId(queued);
    if (typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) return id;
  } catch {
    // A throwing reader falls back to the session's own name for the message.
  }
  return `${envelope.sessionId}.${envelope.transaction}`;
}

/** The recipients the message was accepted for: all, none, or (LMTP) those whose result is not an error. */
function acceptedRecipients(to: readonly string[], error: unknown, reply: unknown): readonly string[] {
  if (error) return [];
  if (!Array.isArray(reply)) return to;
  return to.filter((_, i) => i < reply.length && !isError(reply[i]));
}

/** smtp-server's own test for an error among LMTP results. */
function isError(value: unknown): boolean {
  try {
    return /Error\]$/i.test(Object.prototype.toString.call(value));
  } catch {
    return false;
  }
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function callString(target: unknown, method: string): string | undefined {
  const fn = read(target, method);
  if (typeof fn !== 'function') return undefined;
  try {
    return stringOf(fn.call(target));
  } catch {
    return undefined;
  }
}
