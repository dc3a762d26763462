import { TelemetryConfigError } from '../../index.js';
import { defaultQueueId, type OutboundMessage, type QueueId } from './message.js';
import type { DeliveryOutcome } from './outcome.js';

/** Options of {@link instrumentTransport}. */
export interface NodemailerTelemetryOptions {
  /**
   * Names the message of each `sendMail` for the attempt's `queueId`, which the history indexes and
   * links the message's inbound session and attempts by. It must not throw (a throw falls back to
   * the default).
   * @default defaultQueueId (the message's own `queueId` field when it is a string or a number, else its Message-ID)
   */
  readonly queueId?: (message: OutboundMessage) => QueueId;
  /**
   * When the message was queued (epoch ms or a `Date`), for `delivery.completed`'s `elapsed` and so
   * `delivery.total-time`. Returning `undefined` falls back to the default. It must not throw.
   * @default the time of the `queue.*-queued` event with the same `queueId` that this telemetry delivered, if any
   */
  readonly queuedAt?: (message: OutboundMessage, queueId: QueueId) => number | Date | undefined;
  /**
   * Whether an attempt is the message's last, so that it leaves the queue (`delivery.completed`);
   * `false` reports `queue.rescheduled` instead, for a host that will send it again. It must not
   * throw (a throw counts as `true`).
   * @default every attempt is final (nodemailer does not retry)
   */
  readonly final?: (outcome: DeliveryOutcome) => boolean;
  /**
   * The `queueName` of every attempt, naming the host's queue when it has several.
   * @default undefined (no `queueName` key)
   */
  readonly queueName?: string;
}

/** The options with their defaults. */
export interface ResolvedNodemailerOptions {
  readonly queueId: (message: OutboundMessage) => QueueId;
  readonly queuedAt: ((message: OutboundMessage, queueId: QueueId) => number | Date | undefined) | undefined;
  readonly final: ((outcome: DeliveryOutcome) => boolean) | undefined;
  readonly queueName: string | undefined;
}

const PATH = 'instrumentTransport(options)';
const KNOWN = ['queueId', 'queuedAt', 'final', 'queueName'];

/** Checks the adapter's options; a bad one throws a `TelemetryConfigError` naming it. */
export function resolveNodemailerOptions(options: NodemailerTelemetryOptions | undefined): ResolvedNodemailerOptions {
  if (options === undefined) return { queueId: defaultQueueId, queuedAt: undefined, final: undefined, queueName: undefined };
  if (typeof options !== 'object' || options === null) throw new TelemetryConfigError(PATH, options, 'an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) throw new TelemetryConfigError(`${PATH}.${key}`, key, KNOWN.join(', '));
  }
  const { queueId = defaultQueueId, queuedAt, final, queueName } = options;
  if (typeof queueId !== 'function') throw new TelemetryConfigError(`${PATH}.queueId`, queueId, 'a function');
  if (queuedAt !== undefined && typeof queuedAt !== 'function')
    throw new TelemetryConfigError(`${PATH}.queuedAt`, queuedAt, 'a function');
  if (final !== undefined && typeof final !== 'function') throw new TelemetryConfigError(`${PATH}.final`, final, 'a function');
  if (queueName !== undefined && (typeof queueName !== 'string' || queueName === ''))
    throw new TelemetryConfigError(`${PATH}.queueName`, queueName, 'a non-empty string');
  return { queueId, queuedAt, final, queueName };
}
