import { read } from '../read.js';
/** A refusal as the host's callback gave it: the SMTP reply code and text smtp-server sends. */
export interface SmtpRefusal {
  /** The reply code: the error's `responseCode`, or smtp-server's default for the command. */
  readonly code: number;
  /** The error's message, the text of the reply. */
  readonly message: string;
}

/** A refused RCPT TO, handed to the `rcptRefusal` option. */
export interface RcptRefusal extends SmtpRefusal {
  /** The recipient address the client gave. */
  readonly address: string;
}

/** The events a refused RCPT TO can be reported as; `false` reports nothing. */
export type RcptRefusalEvent =
  | 'smtp.mailbox-does-not-exist'
  | 'smtp.relay-not-allowed'
  | 'smtp.rcpt-to-greylisted'
  | 'smtp.too-many-recipients'
  | 'smtp.too-many-invalid-rcpt'
  | 'smtp.rate-limit-exceeded'
  | 'smtp.error';

/**
 * The default mapping of a refused RCPT TO to an event, by the reply text first, then the code:
 * - text mentioning greylisting -> `smtp.rcpt-to-greylisted`;
 * - text mentioning relaying, or code 551 or 554 -> `smtp.relay-not-allowed`;
 * - text mentioning too many recipients, or code 452 -> `smtp.too-many-recipients`;
 * - text mentioning a rate limit -> `smtp.rate-limit-exceeded`;
 * - any other 4xx -> `smtp.rcpt-to-greylisted` (a temporary deferral);
 * - anything else (550, 553, ...) -> `smtp.mailbox-does-not-exist`.
 */
export function defaultRcptRefusal(refusal: RcptRefusal): RcptRefusalEvent {
  const { code, message } = refusal;
  if (/grey-?list/i.test(message)) return 'smtp.rcpt-to-greylisted';
  if (/relay/i.test(message) || code === 551 || code === 554) return 'smtp.relay-not-allowed';
  if (/too many recipients/i.test(message) || code === 452) return 'smtp.too-many-recipients';
  if (/rate.?limit/i.test(message)) return 'smtp.rate-limit-exceeded';
  if (code >= 400 && code < 500) return 'smtp.rcpt-to-greylisted';
  return 'smtp.mailbox-does-not-exist';
}

/**
 * Reads a host's error as smtp-server does (`responseCode || fallback`, `message`), without ever
 * throwing: a throwing getter or a non-error value reads as the fallback code and empty text.
 */
export function readRefusal(error: unknown, fallbackCode: number): SmtpRefusal {
  const code = read(error, 'responseCode');
  const message = read(error, 'message');
  return {
    code: typeof code === 'number' && code > 0 ? code : fallbackCode,
    message: typeof message === 'string' ? message : '',
  };
}
