import { paramsText, read } from '../read.js';
import type { RcptRefusal, RcptRefusalEvent } from '../smtp-server/refusals.js';
import { addressOf, type Session, text } from './session.js';

// What each hook reports. Every Haraka value is read with `read`, and the hooks call these inside
// try/catch: nothing here may change what Haraka answers.

/** Haraka's return codes (haraka-constants), the same in every Haraka release. */
export const CONT = 900;
const DENY = 902;
const DENYSOFT = 903;
const DENYDISCONNECT = 904;
const DENYSOFTDISCONNECT = 909;

/** The options the reports read. */
export interface ReportOptions {
  readonly rcptRefusal: (refusal: RcptRefusal) => RcptRefusalEvent | false;
  /** connection.ini's `max.bytes`, the limit a too-large message is refused at. */
  readonly maxBytes: number | undefined;
}

/**
 * Brings the span up to date with what Haraka has stored since the last hook the plugin saw: a
 * greeting, a TLS upgrade, a MAIL FROM that a plugin accepted with OK (which skips later plugins).
 * `withMail` is false while the MAIL command itself is being decided.
 */
export function sync(session: Session, connection: unknown, withMail = true): void {
  const tls = read(connection, 'tls');
  if (!session.tls && read(tls, 'enabled') === true) {
    session.tls = true;
    const cipher = read(tls, 'cipher');
    const name = text(cipher, 'standardName') ?? text(cipher, 'name');
    const version = text(cipher, 'version');
    // A STARTTLS upgrade is followed by a new greeting (RFC 3207); implicit TLS has had none yet.
    if (session.ehlo !== undefined) {
      session.ehlo = undefined;
      session.span.emit('smtp.start-tls', name === undefined ? {} : { details: name });
    }
    session.span.emit('tls.handshake', {
      ...(version === undefined ? {} : { version }),
      ...(name === undefined ? {} : { details: name }),
    });
  }
  const hello = read(connection, 'hello');
  const domain = text(hello, 'host');
  if (domain !== undefined && domain !== '' && domain !== session.ehlo) {
    session.ehlo = domain;
    const verb = text(hello, 'verb');
    session.span.emit('smtp.ehlo', verb === undefined ? { domain } : { domain, details: verb });
  }
  if (!withMail) return;
  const transaction = read(connection, 'transaction');
  const uuid = text(transaction, 'uuid');
  if (uuid !== undefined && uuid !== session.mailReported && read(transaction, 'mail_from') != null) {
    reportMailFrom(session, transaction, uuid);
  }
}

/** The MAIL FROM of the current transaction, accepted. */
export function reportMailAccepted(session: Session, connection: unknown): void {
  sync(session, connection);
}

function reportMailFrom(session: Session, transaction: unknown, uuid: string): void {
  session.mailReported = uuid;
  const from = addressOf(read(transaction, 'mail_from'));
  const params = paramsText(session.mailParams);
  const declared = Number(text(session.mailParams, 'SIZE') ?? Number.NaN);
  session.mailParams = undefined;
  session.span.emit('smtp.mail-from', {
    from,
    ...(Number.isSafeInteger(declared) && declared >= 0 ? { size: declared } : {}),
    ...(params === '' ? {} : { details: params }),
  });
}

/** The last rcpt hook saw every plugin pass: Haraka accepts only if the client may relay. */
export function reportRcptUndecided(session: Session, connection: unknown, params: unknown): void {
  if (read(connection, 'relaying') === true) return;
  const to = addressOf(Array.isArray(params) ? params[0] : undefined);
  session.span.emit('smtp.relay-not-allowed', { to, code: 550, reason: `I cannot deliver mail for <${to}>` });
}

export function reportRcptAccepted(session: Session, connection: unknown, rcpt: unknown): void {
  sync(session, connection);
  session.span.emit('smtp.rcpt-to', { to: addressOf(rcpt) });
}

export function reportQueued(session: Session, connection: unknown, reply: unknown): void {
  const transaction = read(connection, 'transaction');
  const queueId = text(transaction, 'uuid') ?? '';
  const size = read(transaction, 'data_bytes');
  const messageId = messageIdOf(read(transaction, 'header'));
  const reason = replyText(reply);
  session.span.emit('queue.message-queued', {
    queueId,
    from: addressOf(read(transaction, 'mail_from')),
    to: recipients(transaction),
    ...(typeof size === 'number' ? { size } : {}),
    ...(messageId === undefined ? {} : { messageId }),
    ...(reason === '' ? {} : { details: reason }),
  });
}

/** Every queue plugin passed: Haraka answers 451 and the message is not taken. */
export function reportQueueUnhandled(session: Session, connection: unknown, hook: string): void {
  const transaction = read(connection, 'transaction');
  session.span.emit('haraka.unhandled', {
    hook,
    code: 451,
    reason: 'Queuing declined or disabled, try later',
    from: addressOf(read(transaction, 'mail_from')),
    to: recipients(transaction),
  });
}

export function reportTooLarge(session: Session, connection: unknown, options: ReportOptions, refusal?: Refusal): void {
  const size = read(read(connection, 'transaction'), 'data_bytes');
  session.span.emit('smtp.message-too-large', {
    ...(typeof size === 'number' ? { size } : {}),
    ...(options.maxBytes === undefined ? {} : { limit: options.maxBytes }),
    code: refusal?.code ?? 550,
    reason: refusal?.reason || 'Message too big!',
    ...(refusal === undefined ? {} : { plugin: refusal.plugin, hook: refusal.hook }),
  });
}

/** An AUTH result a Haraka auth plugin stored in `connection.results`. */
export function reportAuth(session: Session, result: unknown): void {
  const pass = read(result, 'pass');
  const fail = read(result, 'fail');
  if (typeof pass === 'string' && !session.authenticated) {
    session.authenticated = true;
    const user = text(result, 'user');
    const method = text(result, 'method');
    session.span.emit('auth.success', {
      ...(user === undefined ? {} : { accountName: user }),
      ...(method === undefined ? {} : { type: method }),
      plugin: pass,
    });
  } else if (typeof fail === 'string') {
    // auth_base writes `<plugin>/<method>`.
    const slash = fail.lastIndexOf('/');
    session.span.emit('auth.failed', {
      code: 535,
      ...(slash > 0 ? { plugin: fail.slice(0, slash), type: fail.slice(slash + 1) } : { plugin: fail }),
    });
  }
}

/** A refusal as Haraka's deny hook hands it over. */
interface Refusal {
  readonly plugin: string;
  readonly hook: string;
  readonly code: number;
  readonly reason: string;
}

/**
 * A plugin refused: Haraka runs the deny hook with `[retval, msg, plugin, method, params, hook]`
 * before it answers. Reported as the catalogue's event for the command where it has one.
 */
export function reportDeny(session: Session, connection: unknown, params: unknown, options: ReportOptions): void {
  if (!Array.isArray(params)) return;
  const [retval, msg, plugin, , hookParams, hook] = params as unknown[];
  if (typeof hook !== 'string') return;
  const code = codeOf(hook, retval, msg);
  if (code === undefined) return;
  const refusal: Refusal = { plugin: typeof plugin === 'string' ? plugin : '', hook, code, reason: replyText(msg) };
  const first = Array.isArray(hookParams) ? hookParams[0] : hookParams;
  switch (hook) {
    case 'connect':
    case 'lookup_rdns':
      session.span.emit('smtp.error', { ...refusal, details: 'connection refused' });
      return;
    case 'mail':
      session.mailParams = undefined;
      session.span.emit('smtp.mail-from-not-allowed', { from: addressOf(first), ...refusal });
      return;
    case 'rcpt':
    case 'rcpt_ok':
      sync(session, connection);
      reportRcptRefusal(session, options, { to: addressOf(first), ...refusal });
      return;
    case 'max_data_exceeded':
      reportTooLarge(session, connection, options, refusal);
      return;
    case 'helo':
    case 'ehlo':
      // The refused greeting is not reported as one: Haraka forgets it.
      session.span.emit('haraka.refused', { ...refusal });
      return;
    default: {
      sync(session, connection);
      const transaction = read(connection, 'transaction');
      const envelope =
        transaction == null ? {} : { from: addressOf(read(transaction, 'mail_from')), to: recipients(transaction) };
      session.span.emit('haraka.refused', { ...envelope, ...refusal });
    }
  }
}

function reportRcptRefusal(
  session: Session,
  options: ReportOptions,
  refusal: { to: string; code: number; reason: string; hook: string; plugin?: string },
): void {
  let event: RcptRefusalEvent | false;
  try {
    event = options.rcptRefusal({ code: refusal.code, message: refusal.reason, address: refusal.to });
  } catch {
    event = 'smtp.error';
  }
  if (event === false) return;
  if (event === 'smtp.too-many-recipients') {
    const { to, ...rest } = refusal;
    session.span.emit(event, { ...rest, details: to });
  } else {
    session.span.emit(event, refusal);
  }
}

/** The reply code Haraka sends for a refusal of `hook` with `retval` (connection.js's *_respond). */
function codeOf(hook: string, retval: unknown, msg: unknown): number | undefined {
  const given = read(msg, 'code');
  if (typeof given === 'number' && given >= 400 && given < 600) return given;
  const hard = retval === DENY || retval === DENYDISCONNECT;
  const soft = retval === DENYSOFT || retval === DENYSOFTDISCONNECT;
  if (!hard && !soft) return undefined;
  switch (hook) {
    case 'connect':
    case 'lookup_rdns':
      return hard ? 554 : 421;
    case 'data':
      return hard ? 554 : 451;
    case 'unrecognized_command':
      return retval === DENYDISCONNECT ? 521 : hard ? 500 : 421;
    default:
      return hard ? 550 : 450;
  }
}

/** A reply as a plugin gives it: a string, an array of lines, or a DSN object with `reply`. */
function replyText(msg: unknown): string {
  if (typeof msg === 'string') return msg;
  if (Array.isArray(msg)) return msg.filter((line) => typeof line === 'string').join(' ');
  const reply = read(msg, 'reply');
  return typeof reply === 'string' ? reply : '';
}

function recipients(transaction: unknown): string[] {
  const rcpts = read(transaction, 'rcpt_to');
  const to: string[] = [];
  if (Array.isArray(rcpts)) for (const rcpt of rcpts) to.push(addressOf(rcpt));
  return to;
}

function messageIdOf(header: unknown): string | undefined {
  const get = read(header, 'get');
  if (typeof get !== 'function') return undefined;
  try {
    const value: unknown = get.call(header, 'Message-ID');
    if (typeof value !== 'string') return undefined;
    // Unfolded and trimmed, as the smtp-server adapter reads it from the bytes.
    const id = value.replace(/\r?\n[ \t]+/g, ' ').trim();
    return id === '' ? undefined : id;
  } catch {
    return undefined;
  }
}
