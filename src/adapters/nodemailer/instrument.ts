import { type BuiltinEvents, type BuiltinSpans, type Telemetry, TelemetryConfigError } from '../../index.js';
import { Attempt, type AttemptContext } from './attempt.js';
import { type NodemailerTelemetryOptions, resolveNodemailerOptions } from './options.js';
import { queueClockOf } from './queue-clock.js';
import { read } from './read.js';

/** What {@link instrumentTransport} needs of a nodemailer transporter: `createTransport`'s result. */
export interface InstrumentableTransporter {
  /** The transport behind the transporter, whose `send(mail, callback)` nodemailer calls per message. */
  readonly transporter: object;
}

type Send = (this: unknown, mail: unknown, callback: unknown, ...rest: unknown[]) => unknown;
type Callback = (this: unknown, ...args: unknown[]) => unknown;

const wrappers = new WeakSet<object>();
const PATH = 'instrumentTransport(transport)';

/**
 * Instruments a nodemailer transporter in place and returns it: each message it sends is one
 * delivery span, `delivery.attempt-start` ... `delivery.attempt-end`, with no event to write by hand.
 * `sendMail` itself is not touched: its callback and promise forms give the same result and the same
 * error as before, and a telemetry failure never reaches them. Instrument each transporter once.
 *
 * ```ts
 * const transport = instrumentTransport(telemetry, nodemailer.createTransport({ host: 'smtp.example.net', pool: true }));
 * ```
 *
 * nodemailer reports its SMTP dialogue through no hook that holds for both the single and the pooled
 * transport, so the steps are read from what `sendMail` ends with (its result, or its error's
 * `command`, `code` and `responseCode`) and reported when the attempt ends, in session order:
 *
 * | what | events and keys |
 * | --- | --- |
 * | the transport takes the message | `delivery.attempt-start` { `queueId`, `from` (envelope, `<>` for none), `to`, `total`, `messageId`, `queueName` } |
 * | the steps passed (SMTP transports) | `delivery.connect` { `hostname`, `remoteIp` (when the host is an address), `remotePort` }; `delivery.start-tls` (with `requireTLS`); `delivery.ehlo` { `details`: the extensions }; `delivery.auth` (credentials given and AUTH offered); `delivery.mail-from` { `from` }; `delivery.rcpt-to` { `to` } per accepted recipient |
 * | the step that failed | `delivery.ip-lookup-failed`, `delivery.connect-error` { `reason` }, `delivery.greeting-failed`, `delivery.start-tls-error` / `delivery.implicit-tls-error`, `delivery.ehlo-rejected`, `delivery.auth-failed`, `delivery.mail-from-rejected`, `delivery.rcpt-to-rejected` { `to`, `code`, `details` } per refused recipient, `delivery.message-rejected` (DATA); each with the reply `code` when there was one |
 * | each recipient's outcome | `delivery.delivered` { `to`, `code`, `details`: the reply to the message } or `delivery.failed` { `to`, `code`, `reason`: the reply, `details`: `permanent` or `temporary` } |
 * | a final attempt of a message the telemetry saw queued | `delivery.completed` { `elapsed` since queued } (`queue.count` - 1, `delivery.total-time`); with `final` false: `queue.rescheduled` |
 * | always | `delivery.attempt-end` { `elapsed` } |
 *
 * A `sendMail` that fails before nodemailer hands the message to its transport (a plugin or compose
 * error, an aborted signal) starts no attempt. Keys never hold credentials.
 *
 * @param telemetry - the instance the events go to.
 * @param transport - the transporter `nodemailer.createTransport(...)` returned; it is returned as is.
 * @param options - the queue id, queued time and final-attempt readings.
 * @returns `transport`.
 * @throws TelemetryConfigError for a bad option, a value that is no nodemailer transporter, or one already instrumented.
 */
export function instrumentTransport<T extends InstrumentableTransporter, M extends BuiltinEvents, S extends BuiltinSpans>(
  telemetry: Telemetry<M, S>,
  transport: T,
  options?: NodemailerTelemetryOptions,
): T {
  const resolved = resolveNodemailerOptions(options);
  const transporter = read(transport, 'transporter');
  const send = read(transporter, 'send');
  if (typeof transporter !== 'object' || transporter === null || typeof send !== 'function')
    throw new TelemetryConfigError(PATH, shape(transport), "a nodemailer transporter (createTransport's result)");
  if (wrappers.has(send))
    throw new TelemetryConfigError(PATH, 'an instrumented transporter', 'a transporter not instrumented yet');
  const base = telemetry as unknown as Telemetry;
  const context: AttemptContext = { telemetry: base, options: resolved, clock: queueClockOf(base) };
  const wrapped = wrapSend(context, send as Send);
  try {
    Object.defineProperty(transporter, 'send', { value: wrapped, writable: true, configurable: true, enumerable: false });
  } catch {
    throw new TelemetryConfigError(PATH, 'a frozen transport', 'a transporter whose transport can be observed');
  }
  wrappers.add(wrapped);
  return transport;
}

// Names what was given without printing it: a transporter's options may hold credentials.
function shape(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return typeof read(value, 'transporter') === 'object'
    ? 'an object whose transporter has no send()'
    : 'an object without transporter';
}

function wrapSend(context: AttemptContext, original: Send): Send {
  return function (this: unknown, mail, callback, ...rest) {
    let attempt: Attempt | undefined;
    try {
      attempt = typeof callback === 'function' ? Attempt.start(context, this, mail) : undefined;
    } catch {
      attempt = undefined;
    }
    if (attempt === undefined) return original.call(this, mail, callback, ...rest);
    const observed = attempt;
    const host = callback as Callback;
    const done: Callback = function (this: unknown, ...args) {
      observed.finish(args[0], args[1]);
      return host.apply(this, args);
    };
    try {
      return original.call(this, mail, done, ...rest);
    } catch (error) {
      observed.finish(error, undefined);
      throw error;
    }
  };
}
