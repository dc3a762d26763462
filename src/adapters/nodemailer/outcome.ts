import type { OutboundMessage, QueueId } from './message.js';
import { read, readStrings, readText, replyCode } from './read.js';

/** What became of one recipient in an attempt. */
export interface RecipientResult {
  /** The recipient address. */
  readonly to: string;
  /** True when the remote server accepted the message for this recipient. */
  readonly delivered: boolean;
  /** The remote server's reply code for this recipient, when there was a reply. */
  readonly code: number | undefined;
  /** The remote server's reply, or the error's message when there was no reply. */
  readonly reply: string | undefined;
  /** For a failure: true when the server refused for good (5xx); false for 4xx and no reply. */
  readonly permanent: boolean;
}

/** The end of one delivery attempt, handed to the `final` option. */
export interface DeliveryOutcome {
  readonly message: OutboundMessage;
  readonly queueId: QueueId;
  /** Every envelope recipient, delivered or not. */
  readonly recipients: readonly RecipientResult[];
  /** The error `sendMail` gives, as is; undefined when it succeeded. */
  readonly error: unknown;
}

/** The SMTP step an error stopped at; `other` when nodemailer's error does not tell. */
export type FailedStep = 'dns' | 'connect' | 'greeting' | 'tls' | 'ehlo' | 'auth' | 'mail' | 'rcpt' | 'data' | 'other';

/** The steps of a session in order; the steps before a failed one were passed. */
export const STEPS = ['connect', 'greeting', 'tls', 'ehlo', 'auth', 'mail', 'rcpt', 'data'] as const;

/** How nodemailer's error names its step: its `command` first, then its `code`. */
export function failedStep(error: unknown): FailedStep {
  const command = readText(error, 'command')?.toUpperCase();
  const code = readText(error, 'code');
  if (code === 'EAUTH' || command?.startsWith('AUTH')) return 'auth';
  if (command === 'MAIL FROM') return 'mail';
  if (command === 'RCPT TO') return 'rcpt';
  if (command === 'DATA' || code === 'EMESSAGE') return 'data';
  if (command === 'EHLO' || command === 'HELO' || command === 'LHLO') return 'ehlo';
  if (command === 'STARTTLS' || code === 'ETLS') return 'tls';
  if (code === 'EDNS') return 'dns';
  if (command !== 'CONN' && command !== undefined) return 'other';
  if (read(error, 'timeoutType') === 'GREETING_TIMEOUT' || typeof read(error, 'responseCode') === 'number') return 'greeting';
  if (read(error, 'timeoutType') === 'CONNECT_TIMEOUT' || readText(error, 'originalCode') !== undefined) return 'connect';
  if (code === 'ESOCKET' || code === 'ECONNREFUSED') return 'connect';
  return 'other';
}

/** A refusal or failure as read from a nodemailer error. */
export function failureOf(error: unknown, to: string): RecipientResult {
  const response = readText(error, 'response');
  const given = read(error, 'responseCode');
  const code = typeof given === 'number' && given >= 200 && given < 600 ? given : replyCode(response);
  const permanent = read(error, 'permanent');
  return {
    to,
    delivered: false,
    code,
    reply: response ?? readText(error, 'message'),
    permanent: typeof permanent === 'boolean' ? permanent : code !== undefined && code >= 500,
  };
}

/** The refused recipients an error or a result lists, each with its own reply. */
export function refusals(source: unknown): RecipientResult[] {
  const out: RecipientResult[] = [];
  const errors = read(source, 'rejectedErrors');
  const seen = new Set<string>();
  if (Array.isArray(errors)) {
    for (const error of errors) {
      const to = readText(error, 'recipient');
      if (to === undefined || seen.has(to)) continue;
      seen.add(to);
      out.push(failureOf(error, to));
    }
  }
  for (const to of readStrings(source, 'rejected') ?? []) {
    if (seen.has(to)) continue;
    seen.add(to);
    out.push({ to, delivered: false, code: undefined, reply: undefined, permanent: false });
  }
  return out;
}

/** Every recipient's result, from the transport's error or result. */
export function recipientResults(message: OutboundMessage, error: unknown, info: unknown): RecipientResult[] {
  if (error !== undefined && error !== null) {
    const refused = refusals(error);
    const refusedTo = new Set(refused.map((r) => r.to));
    const rest = message.to.filter((to) => !refusedTo.has(to)).map((to) => failureOf(error, to));
    return [...refused, ...rest];
  }
  const refused = refusals(info);
  const refusedTo = new Set(refused.map((r) => r.to));
  const accepted = readStrings(info, 'accepted') ?? message.to.filter((to) => !refusedTo.has(to));
  const response = readText(info, 'response');
  const code = replyCode(response);
  const delivered = accepted.map((to): RecipientResult => ({ to, delivered: true, code, reply: response, permanent: false }));
  // LMTP leaves recipients pending; a recipient the result does not name is not delivered.
  const named = new Set([...accepted, ...refusedTo]);
  const unnamed = message.to
    .filter((to) => !named.has(to))
    .map((to): RecipientResult => ({ to, delivered: false, code: undefined, reply: undefined, permanent: false }));
  return [...delivered, ...refused, ...unnamed];
}
