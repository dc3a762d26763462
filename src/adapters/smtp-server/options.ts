import { TelemetryConfigError } from '../../index.js';
import { defaultQueueId, type QueuedReply, type QueueId } from './queue-id.js';
import { defaultRcptRefusal, type RcptRefusal, type RcptRefusalEvent } from './refusals.js';

/** Options of {@link instrumentSmtpServer}. */
export interface SmtpServerTelemetryOptions {
  /**
   * The `listenerId` of every connection span, naming this listener among the host's servers.
   * @default 'smtp'
   */
  readonly listenerId?: string;
  /**
   * Maps a recipient refused by the host's onRcptTo to the event reporting it; `false` reports
   * nothing. It must not throw (a throw reports the refusal as `smtp.error`).
   * @default defaultRcptRefusal (greylisting, relaying, too many recipients, rate limits by text; 551/554 relay, 452 too many, other 4xx greylisted, other 5xx mailbox does not exist)
   */
  readonly rcptRefusal?: (refusal: RcptRefusal) => RcptRefusalEvent | false;
  /**
   * Reads the queue id of an accepted message from the host's onData reply. An id given with
   * `setSmtpQueueId(session, id)` takes precedence. It must not throw (a throw falls back to the default).
   * @default defaultQueueId (`queued as <id>` in the reply, else `<session id>.<transaction>`)
   */
  readonly queueId?: (queued: QueuedReply) => QueueId;
  /**
   * Whether the host hands each message on as it accepts it (to an LMTP server, another MTA, a
   * spool another program drains) rather than holding it in a queue of its own. Then a queued
   * message leaves the `queue.count` gauge at once; otherwise it counts until a
   * `delivery.completed` (which the nodemailer adapter emits) counts it out.
   * @default false
   */
  readonly handsOn?: boolean;
}

/** The options with their defaults. */
export interface ResolvedSmtpOptions {
  readonly listenerId: string;
  readonly rcptRefusal: (refusal: RcptRefusal) => RcptRefusalEvent | false;
  readonly queueId: (queued: QueuedReply) => QueueId;
  readonly handsOn: boolean;
}

const PATH = 'instrumentSmtpServer(options)';

/** Checks the adapter's options; a bad one throws a `TelemetryConfigError` naming it. */
export function resolveSmtpOptions(options: SmtpServerTelemetryOptions | undefined): ResolvedSmtpOptions {
  if (options === undefined)
    return { listenerId: 'smtp', rcptRefusal: defaultRcptRefusal, queueId: defaultQueueId, handsOn: false };
  if (typeof options !== 'object' || options === null) throw new TelemetryConfigError(PATH, options, 'an object');
  const known = new Set(['listenerId', 'rcptRefusal', 'queueId', 'handsOn']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new TelemetryConfigError(`${PATH}.${key}`, key, 'listenerId, rcptRefusal, queueId or handsOn');
  }
  const { listenerId = 'smtp', rcptRefusal = defaultRcptRefusal, queueId = defaultQueueId, handsOn = false } = options;
  if (typeof listenerId !== 'string' || listenerId === '')
    throw new TelemetryConfigError(`${PATH}.listenerId`, listenerId, 'a non-empty string');
  if (typeof rcptRefusal !== 'function') throw new TelemetryConfigError(`${PATH}.rcptRefusal`, rcptRefusal, 'a function');
  if (typeof queueId !== 'function') throw new TelemetryConfigError(`${PATH}.queueId`, queueId, 'a function');
  if (typeof handsOn !== 'boolean') throw new TelemetryConfigError(`${PATH}.handsOn`, handsOn, 'true or false');
  return { listenerId, rcptRefusal, queueId, handsOn };
}
