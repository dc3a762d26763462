import type { SMTPServerSession } from 'smtp-server';
import { read } from '../read.js';

/** A queue id: a number, or a string where it does not fit one. */
export type QueueId = string | number;

/** What the `queueId` option reads a queued message's id from. */
export interface QueuedReply {
  /** The text the host's onData callback gave as its second argument, if a string. */
  readonly reply: string | undefined;
  /** smtp-server's random id of the connection. */
  readonly sessionId: string;
  /** The ordinal of the mail transaction within the connection (1, 2, ...). */
  readonly transaction: number;
}

const given = new WeakMap<object, QueueId>();

/**
 * Names the message of the current transaction, for a host whose onData reply does not say
 * `queued as <id>`. Call it in onData before calling back; the adapter reports the message as
 * `queue.message-queued` with this `queueId`, which the history indexes and keeps the session by.
 */
export function setSmtpQueueId(session: SMTPServerSession, queueId: QueueId): void {
  if (typeof session === 'object' && session !== null) given.set(session, queueId);
}

/** The id given with {@link setSmtpQueueId} for this transaction, forgotten once taken. */
export function takeGivenQueueId(session: object): QueueId | undefined {
  const id = given.get(session);
  if (id !== undefined) given.delete(session);
  return id;
}

const QUEUED_AS = /\bqueued as\s+<?([A-Za-z0-9][\w.@:+-]*)/i;

/**
 * The default `queueId` reading: the id after `queued as` in the reply (Postfix's
 * `250 2.0.0 Ok: queued as 4Bq1xR0ZzPz9v`), otherwise `<session id>.<transaction>`, unique per message.
 */
export function defaultQueueId(queued: QueuedReply): QueueId {
  const match = queued.reply === undefined ? null : QUEUED_AS.exec(queued.reply);
  return match?.[1] ?? `${queued.sessionId}.${queued.transaction}`;
}

/** The session's id and transaction ordinal, read without throwing. */
export function transactionOf(session: object): { sessionId: string; transaction: number } {
  const id = read(session, 'id');
  const transaction = read(session, 'transaction');
  return {
    sessionId: typeof id === 'string' ? id : 'session',
    transaction: typeof transaction === 'number' ? transaction : 1,
  };
}
