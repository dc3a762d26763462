import { rawMessageId } from '../message-id.js';
import { callMethod, read, readStrings, readText } from './read.js';

/** A queue id: a number, or a string where it does not fit one. */
export type QueueId = string | number;

/** A message as the adapter reads it when nodemailer hands it to the transport. */
export interface OutboundMessage {
  /** The `Message-ID` header nodemailer gives the message (set by the host or generated), or a raw message's own. */
  readonly messageId: string | undefined;
  /** The envelope sender (`MAIL FROM`); undefined for the null sender `<>`. */
  readonly from: string | undefined;
  /** The envelope recipients (`RCPT TO`), in order. */
  readonly to: readonly string[];
  /**
   * The fields the host gave `sendMail` (nodemailer's copy, with the transporter's defaults), so a
   * `queueId` option can read a field of the host's own, such as `queueId`.
   */
  readonly fields: Readonly<Record<string, unknown>>;
}

const NO_FIELDS: Readonly<Record<string, unknown>> = Object.freeze({});

/** Reads nodemailer's `MailMessage` without ever throwing; odd shapes read as empty values. */
export function readMessage(mail: unknown): OutboundMessage {
  const compiled = read(mail, 'message');
  const envelope = callMethod(compiled, 'getEnvelope');
  const fields = read(mail, 'data');
  // nodemailer does not parse a raw message: the id it would give is one it made up, not the header's.
  const raw = read(fields, 'raw');
  const messageId = raw === undefined || raw === null ? callMethod(compiled, 'messageId') : rawMessageId(raw);
  const from = readText(envelope, 'from');
  return {
    messageId: typeof messageId === 'string' && messageId !== '' ? messageId : undefined,
    from: from === '' ? undefined : from,
    to: readStrings(envelope, 'to') ?? [],
    fields: typeof fields === 'object' && fields !== null ? (fields as Record<string, unknown>) : NO_FIELDS,
  };
}

let fallbackIds = 0;

/**
 * The default `queueId` reading: the message's own `queueId` field when it is a string or a
 * number (`sendMail({ ...mail, queueId })`; nodemailer keeps a field it does not know and ignores
 * it), otherwise the `Message-ID`.
 */
export function defaultQueueId(message: OutboundMessage): QueueId {
  const given = read(message.fields, 'queueId');
  if ((typeof given === 'string' && given !== '') || (typeof given === 'number' && Number.isFinite(given))) return given;
  fallbackIds = (fallbackIds + 1) % Number.MAX_SAFE_INTEGER;
  return message.messageId ?? `nodemailer.${fallbackIds}`;
}
