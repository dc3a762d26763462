/**
 * `mail-telemetry/nodemailer`: a drop-in adapter for outbound mail sent with `nodemailer`. It loads no
 * package of its own: the host gives it the transporter it created.
 *
 * ```ts
 * import nodemailer from 'nodemailer';
 * import { createTelemetry } from 'mail-telemetry';
 * import { instrumentTransport, nodemailerLevels } from 'mail-telemetry/nodemailer';
 *
 * const telemetry = createTelemetry({ levels: { ...nodemailerLevels } });
 * const transport = instrumentTransport(telemetry, nodemailer.createTransport({ host: 'smtp.example.net', pool: true }));
 * await transport.sendMail({ from, to, subject, text, queueId }); // queueId: optional, defaults to the Message-ID
 * ```
 * @packageDocumentation
 * @module mail-telemetry/nodemailer
 */

export { type InstrumentableTransporter, instrumentTransport } from './adapters/nodemailer/instrument.js';
export { nodemailerLevels } from './adapters/nodemailer/levels.js';
export { defaultQueueId, type OutboundMessage, type QueueId } from './adapters/nodemailer/message.js';
export type { NodemailerTelemetryOptions } from './adapters/nodemailer/options.js';
export type { DeliveryOutcome, RecipientResult } from './adapters/nodemailer/outcome.js';
export { QUEUE_CLOCK_CAPACITY } from './adapters/nodemailer/queue-clock.js';
