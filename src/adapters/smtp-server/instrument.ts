import type { SMTPServerOptions } from 'smtp-server';
import { type BuiltinEvents, type BuiltinSpans, type Telemetry, TelemetryConfigError } from '../../index.js';
import { type Callback, HOOKS, Hooks } from './hooks.js';
import { wrappers } from './host.js';
import { resolveSmtpOptions, type SmtpServerTelemetryOptions } from './options.js';

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
 * Each connection is one span, `smtp.connection-start` ... `smtp.connection-end`, and every event
 * below is emitted in it (it carries the span's id and keys). The host's hooks run inside the span,
 * so the host's own emits there join the session without a `spanId`.
 *
 * | smtp-server hook or reply | event and keys |
 * | --- | --- |
 * | `onConnect` | `smtp.connection-start` { `remoteIp`, `remotePort`, `listenerId`, `localPort`, `localIp`, `hostname` (reverse DNS, when found) }; a refusal by the host adds `smtp.error` { `code`, `reason` } |
 * | `onSecure` | `tls.handshake` { `version` (negotiated protocol), `details` (cipher), `hostname` (SNI) }; after STARTTLS first `smtp.start-tls` { `details` (cipher) } |
 * | the reply to EHLO/HELO (or the next hook) | `smtp.ehlo` { `domain`, `details` (EHLO, HELO or LHLO) }, once per greeting domain |
 * | `onAuth` | `auth.success` or `auth.failed` { `accountName`, `type` (the method), `code`, `reason` }; never the password |
 * | `onMailFrom` | `smtp.mail-from` { `from`, `size` (the declared `SIZE=`), `details` (the parameters) }, or `smtp.mail-from-not-allowed` { `from`, `code`, `reason` } |
 * | smtp-server's refusal of `SIZE=` over `size` (no hook runs) | `smtp.message-too-large` { `size` (declared), `limit`, `code`: 552 } |
 * | `onRcptTo` | `smtp.rcpt-to` { `to` }, or the refusal event chosen by `rcptRefusal` { `to`, `code`, `reason` } |
 * | smtp-server's refusal past `maxRecipients` (no hook runs) | `smtp.too-many-recipients` { `limit`, `code`: 452 } |
 * | `onData`, when the message has been read | `queue.message-queued` { `queueId`, `from`, `to` (accepted), `size`, `messageId` (the Message-ID header, read as the message passes) }; over `size` and refused: `smtp.message-too-large` { `size`, `limit`, `code`, `reason` }; other refusals: `smtp.error` { `code`, `reason`, `from` } |
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
  instrumented.onConnect = function (this: unknown, session, callback) {
    hooks.connect(this, session, callback as Callback);
  };
  instrumented.onSecure = function (this: unknown, socket, session, callback) {
    hooks.secure(this, socket, session, callback as Callback);
  };
  instrumented.onAuth = function (this: unknown, auth, session, callback) {
    hooks.auth(this, auth, session, callback as Callback);
  };
  instrumented.onMailFrom = function (this: unknown, address, session, callback) {
    hooks.mailFrom(this, address, session, callback as Callback);
  };
  instrumented.onRcptTo = function (this: unknown, address, session, callback) {
    hooks.rcptTo(this, address, session, callback as Callback);
  };
  instrumented.onData = function (this: unknown, stream, session, callback) {
    hooks.data(this, stream, session, callback as Callback);
  };
  instrumented.onClose = function (this: unknown, session, callback) {
    hooks.close(this, session, callback as Callback);
  };
  for (const name of HOOKS) wrappers.add(instrumented[name] as object);
  return instrumented;
}
