/**
 * `mail-telemetry/smtp-server`: a drop-in adapter for an `smtp-server` mail server. It loads no
 * package of its own: the host builds the `SMTPServer` with the options it returns.
 *
 * ```ts
 * import { SMTPServer } from 'smtp-server';
 * import { createTelemetry } from 'mail-telemetry';
 * import { instrumentSmtpServer, smtpServerLevels } from 'mail-telemetry/smtp-server';
 *
 * const telemetry = createTelemetry({ levels: { ...smtpServerLevels } });
 * const server = new SMTPServer(instrumentSmtpServer(telemetry, { size: 10 << 20, onAuth, onRcptTo, onData }));
 * ```
 * @packageDocumentation
 * @module mail-telemetry/smtp-server
 */

export { instrumentSmtpServer } from './adapters/smtp-server/instrument.js';
export { smtpServerLevels } from './adapters/smtp-server/levels.js';
export type { SmtpServerTelemetryOptions } from './adapters/smtp-server/options.js';
export type { QueuedReply, QueueId } from './adapters/smtp-server/queue-id.js';
export { defaultQueueId, setSmtpQueueId } from './adapters/smtp-server/queue-id.js';
export type { RcptRefusal, RcptRefusalEvent, SmtpRefusal } from './adapters/smtp-server/refusals.js';
export { defaultRcptRefusal } from './adapters/smtp-server/refusals.js';
