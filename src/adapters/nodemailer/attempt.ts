import * as types from 'node:util/types';
import type { Telemetry } from '../../index.js';
import { defaultQueueId, type OutboundMessage, type QueueId, readMessage } from './message.js';
import type { ResolvedNodemailerOptions } from './options.js';
import { type DeliveryOutcome, recipientResults } from './outcome.js';
import type { QueueClock } from './queue-clock.js';
import { type RemoteServer, remoteOf } from './remote.js';
import { type AttemptSpan, reportRecipientOutcomes, reportSteps } from './report.js';

/** What an instrumented transport shares between its attempts. */
export interface AttemptContext {
  readonly telemetry: Telemetry;
  readonly options: ResolvedNodemailerOptions;
  readonly clock: QueueClock;
}

/** One message handed to the transport: its delivery span, ended once with what became of it. */
export class Attempt {
  readonly #context: AttemptContext;
  readonly #span: AttemptSpan;
  readonly #message: OutboundMessage;
  readonly #queueId: QueueId;
  readonly #remote: RemoteServer;
  readonly #startedAt = Date.now();
  #ended = false;

  private constructor(
    context: AttemptContext,
    span: AttemptSpan,
    message: OutboundMessage,
    queueId: QueueId,
    remote: RemoteServer,
  ) {
    this.#context = context;
    this.#span = span;
    this.#message = message;
    this.#queueId = queueId;
    this.#remote = remote;
  }

  /** Opens the span of a message nodemailer hands to `transporter.send`. */
  static start(context: AttemptContext, transporter: unknown, mail: unknown): Attempt {
    const message = readMessage(mail);
    const queueId = queueIdOf(context.options, message);
    const { queueName } = context.options;
    const span = context.telemetry.span('delivery.attempt-start', {
      queueId,
      ...(message.from === undefined ? { from: '<>' } : { from: message.from }),
      to: message.to,
      total: message.to.length,
      ...(message.messageId === undefined ? {} : { messageId: message.messageId }),
      ...(queueName === undefined ? {} : { queueName }),
    });
    return new Attempt(context, span, message, queueId, remoteOf(transporter, message.fields));
  }

  /**
   * Reports the attempt's end from the transport's callback arguments (or a throw), once: the SMTP
   * steps, one outcome per recipient, `delivery.completed` or `queue.rescheduled`, then
   * `delivery.attempt-end`. Never throws.
   */
  finish(error: unknown, info: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    try {
      const failed = error !== undefined && error !== null;
      const recipients = recipientResults(this.#message, failed ? error : undefined, failed ? undefined : info);
      if (this.#remote.smtp) reportSteps(span, this.#remote, this.#message.from, failed ? error : undefined, info, recipients);
      reportRecipientOutcomes(span, this.#remote, recipients);
      this.#leaveQueue({ message: this.#message, queueId: this.#queueId, recipients, error: failed ? error : undefined });
    } catch {
      // Observation only: a failure here never reaches nodemailer or the host.
    }
    try {
      span.end();
    } catch {
      // As above.
    }
  }

  // A message the telemetry saw queued leaves the queue on its final attempt: delivery.completed
  // counts queue.count down and feeds delivery.total-time. One it never saw queued was never counted.
  #leaveQueue(outcome: DeliveryOutcome): void {
    const { options, clock } = this.#context;
    if (!isFinal(options, outcome)) {
      this.#span.emit('queue.rescheduled', { queueId: this.#queueId });
      return;
    }
    const queuedAt = queuedAtOf(options, clock, this.#message, this.#queueId);
    clock.forget(this.#queueId);
    if (queuedAt === undefined) return;
    this.#span.emit('delivery.completed', { elapsed: Math.max(0, Date.now() - Math.min(queuedAt, this.#startedAt)) });
  }
}

function queueIdOf(options: ResolvedNodemailerOptions, message: OutboundMessage): QueueId {
  try {
    const id = options.queueId(message);
    if ((typeof id === 'string' && id !== '') || (typeof id === 'number' && Number.isFinite(id))) return id;
  } catch {
    // The host's reading failed: the default names the message.
  }
  return defaultQueueId(message);
}

function isFinal(options: ResolvedNodemailerOptions, outcome: DeliveryOutcome): boolean {
  if (options.final === undefined) return true;
  try {
    return options.final(outcome) !== false;
  } catch {
    return true;
  }
}

function queuedAtOf(
  options: ResolvedNodemailerOptions,
  clock: QueueClock,
  message: OutboundMessage,
  queueId: QueueId,
): number | undefined {
  if (options.queuedAt !== undefined) {
    try {
      const given = options.queuedAt(message, queueId);
      const time = types.isDate(given) ? Date.prototype.getTime.call(given) : given;
      if (typeof time === 'number' && Number.isFinite(time)) return time;
    } catch {
      // Falls back to the queued event.
    }
  }
  return clock.queuedAt(queueId);
}
