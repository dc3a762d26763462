import type { BuiltinEvents, Span } from '../../index.js';
import { type FailedStep, failedStep, type RecipientResult, refusals, STEPS } from './outcome.js';
import { read, readStrings, readText, replyCode } from './read.js';
import { offersAuth, type RemoteServer } from './remote.js';

/** The delivery span of one `sendMail`. */
export type AttemptSpan = Span<BuiltinEvents, 'delivery.attempt-end'>;

/**
 * Reports the SMTP steps of an ended attempt, from its result or error: the steps before the one
 * that failed were passed, the failed one is reported with the server's reply, and every recipient
 * was delivered or refused (`delivery.rcpt-to` / `delivery.rcpt-to-rejected`).
 */
export function reportSteps(
  span: AttemptSpan,
  remote: RemoteServer,
  from: string | undefined,
  error: unknown,
  info: unknown,
  recipients: readonly RecipientResult[],
): void {
  const failed: FailedStep | undefined = error === undefined || error === null ? undefined : failedStep(error);
  if (failed === 'other') return;
  const reached = failed === undefined ? STEPS.length : failed === 'dns' ? 0 : STEPS.indexOf(failed);
  const hostname = remote.hostname;
  const refused = new Set(refusals(failed === undefined ? info : error).map((r) => r.to));
  for (let i = 0; i < reached; i++) {
    const step = STEPS[i];
    if (step === 'connect') span.emit('delivery.connect', connectKeys(remote));
    else if (step === 'tls' && remote.requireTls && !remote.secure) span.emit('delivery.start-tls', { hostname });
    else if (step === 'ehlo') {
      const lines = readStrings(info, 'ehlo');
      span.emit('delivery.ehlo', lines === undefined ? { hostname } : { hostname, details: lines.join(', ') });
    } else if (step === 'auth' && remote.auth && (remote.forceAuth || offersAuth(info) === true))
      span.emit('delivery.auth', { hostname });
    else if (step === 'mail') span.emit('delivery.mail-from', from === undefined ? { hostname, from: '<>' } : { hostname, from });
    else if (step === 'rcpt') reportRecipients(span, hostname, recipients, refused);
  }
  if (failed !== undefined) reportFailedStep(span, remote, failed, error, recipients, refused);
}

function connectKeys(remote: RemoteServer): { hostname: string; remotePort: number; remoteIp?: string } {
  return remote.remoteIp === undefined
    ? { hostname: remote.hostname, remotePort: remote.remotePort }
    : { hostname: remote.hostname, remoteIp: remote.remoteIp, remotePort: remote.remotePort };
}

// A recipient the server did not refuse at RCPT TO was accepted there, even if DATA failed later.
function reportRecipients(
  span: AttemptSpan,
  hostname: string,
  recipients: readonly RecipientResult[],
  refused: ReadonlySet<string>,
): void {
  for (const r of recipients) {
    if (refused.has(r.to)) span.emit('delivery.rcpt-to-rejected', withReply({ hostname, to: r.to }, r));
    else span.emit('delivery.rcpt-to', { hostname, to: r.to });
  }
}

function reportFailedStep(
  span: AttemptSpan,
  remote: RemoteServer,
  step: FailedStep,
  error: unknown,
  recipients: readonly RecipientResult[],
  refused: ReadonlySet<string>,
): void {
  const hostname = remote.hostname;
  const reply = readText(error, 'response');
  const given = read(error, 'responseCode');
  const code = typeof given === 'number' ? given : replyCode(reply);
  const reason = readText(error, 'message') ?? '';
  const withCode = <T extends object>(keys: T): T & { code?: number } => (code === undefined ? keys : { ...keys, code });
  if (step === 'dns') span.emit('delivery.ip-lookup-failed', { hostname, details: reason });
  else if (step === 'connect') span.emit('delivery.connect-error', { ...connectKeys(remote), reason });
  else if (step === 'greeting') span.emit('delivery.greeting-failed', withCode({ hostname, details: reply ?? reason }));
  else if (step === 'tls' && remote.secure) span.emit('delivery.implicit-tls-error', { hostname, reason });
  else if (step === 'tls') span.emit('delivery.start-tls-error', withCode({ hostname, reason }));
  else if (step === 'ehlo') span.emit('delivery.ehlo-rejected', withCode({ hostname, details: reply ?? reason }));
  else if (step === 'auth') span.emit('delivery.auth-failed', withCode({ hostname, reason }));
  else if (step === 'mail') span.emit('delivery.mail-from-rejected', withCode({ hostname, reason }));
  else if (step === 'rcpt') reportRecipients(span, hostname, recipients, refused);
  else if (step === 'data') span.emit('delivery.message-rejected', withCode({ hostname, details: reply ?? reason }));
}

/** One outcome event per recipient: `delivery.delivered` or `delivery.failed`, with the reply code. */
export function reportRecipientOutcomes(span: AttemptSpan, remote: RemoteServer, recipients: readonly RecipientResult[]): void {
  for (const r of recipients) {
    if (r.delivered) {
      const keys = remote.smtp ? { hostname: remote.hostname, to: r.to } : { to: r.to };
      span.emit('delivery.delivered', withReply(keys, r));
    } else {
      const keys = { to: r.to, details: r.permanent ? 'permanent' : 'temporary' };
      span.emit('delivery.failed', {
        ...keys,
        ...(r.code === undefined ? {} : { code: r.code }),
        ...(r.reply === undefined ? {} : { reason: r.reply }),
      });
    }
  }
}

function withReply<T extends object>(keys: T, r: RecipientResult): T & { code?: number; details?: string } {
  return {
    ...keys,
    ...(r.code === undefined ? {} : { code: r.code }),
    ...(r.reply === undefined ? {} : { details: r.reply }),
  };
}
