import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { createTelemetry, type Duration, type SendMail, type Telemetry } from '../../src/index.js';
import { instrumentTransport, nodemailerLevels } from '../../src/nodemailer.js';
import { instrumentSmtpServer, smtpServerLevels } from '../../src/smtp-server.js';
import { startAdmin } from './admin.js';
import { deliveryOptions, inboundOptions, type QueuedMessage } from './inbound.js';
import { Maildir } from './maildir.js';
import { type Receiver, startReceiver } from './receiver.js';

const CONSOLE_EVENTS = [
  'smtp.connection-*',
  'auth.*',
  'smtp.mailbox-does-not-exist',
  'smtp.relay-not-allowed',
  'smtp.message-too-large',
  'queue.message-queued',
  'delivery.completed',
  'delivery.failed',
  'telemetry.alert-*',
  'telemetry.webhook-error',
] as const;

/** How the example mail server runs. */
export interface MailServerOptions {
  /** Where the server's own lines go (webhook deliveries, delivery failures). @default console.log */
  readonly log?: (line: string) => void;
  /** Print info-level events as text lines on stdout. @default true */
  readonly console?: boolean;
  /** The largest message accepted, in bytes. @default 65_536 */
  readonly maxSize?: number;
  /** The window of the failed-login alert. @default '1m' */
  readonly alertWindow?: Exclude<Duration, number>;
  /** How often the alert is evaluated. @default '5s' */
  readonly alertInterval?: Duration;
  /** How often the history records a metrics point, in ms. @default 5000 */
  readonly seriesInterval?: number;
}

/** A running example mail server. */
export interface MailServer {
  readonly telemetry: Telemetry;
  /** The SMTP port on 127.0.0.1. */
  readonly smtpPort: number;
  /** The admin base URL: `/metrics`, `/live/…`, `/history/…` and `/dashboard` under it. */
  readonly adminUrl: string;
  /** The bearer token of the history handler. */
  readonly historyToken: string;
  readonly maildir: Maildir;
  readonly receiver: Receiver;
  /** Resolves when every message accepted so far has been handed to the maildir (or failed). */
  delivered(): Promise<void>;
  /** Stops taking mail, delivers what was accepted, flushes the telemetry and stops. */
  close(): Promise<void>;
}

/** Starts the example: an SMTP server, its local delivery, the admin server and a webhook receiver. */
export async function startMailServer(options: MailServerOptions = {}): Promise<MailServer> {
  const log = options.log ?? console.log;
  const maxSize = options.maxSize ?? 65_536;
  const maildir = new Maildir(await mkdtemp(join(tmpdir(), 'mail-telemetry-example-')));
  await maildir.create();
  const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const receiver = await startReceiver(webhookSecret, log);
  const historyToken = randomBytes(16).toString('hex');

  // The alert emails the postmaster through this very server, once it listens.
  let alertTransport: Transporter | undefined;
  const sendMail: SendMail = async ({ from, to, raw }) => {
    await alertTransport?.sendMail({ envelope: { from, to: [...to] }, raw });
  };

  const telemetry = createTelemetry({
    service: 'example-mx',
    // The catalogue keeps Stalwart's levels; these show sessions, failed logins and refusals at info.
    levels: { ...smtpServerLevels, ...nodemailerLevels },
    // One line per session milestone on stdout; the history, the streams and the webhook get everything.
    tracers: options.console === false ? [] : [{ type: 'console', stream: 'stdout', level: 'info', events: CONSOLE_EVENTS }],
    sendMail,
    live: { tokenKey: randomBytes(32).toString('base64'), batchWindow: 250 },
    history: {
      authorize: (req) => req.header('authorization') === `Bearer ${historyToken}`,
      series: { interval: options.seriesInterval ?? 5000, metrics: ['smtp.*', 'auth.*', 'queue.*', 'delivery.*', 'message.*'] },
    },
    webhooks: [
      {
        id: 'receiver',
        url: receiver.url,
        signatureKey: webhookSecret,
        signing: 'standard',
        events: ['smtp.*', 'auth.*', 'queue.*', 'delivery.*'],
      },
    ],
    alerts: {
      interval: options.alertInterval ?? '5s',
      rules: [
        {
          id: 'failed-logins',
          condition: `increase(metric('auth.failed'), '${options.alertWindow ?? '1m'}') > 0`,
          labels: { severity: 'warning' },
          annotations: { summary: '{{ value }} failed login(s) in the window' },
          email: {
            from: 'telemetry@example.org',
            to: ['postmaster@example.org'],
            subject: '[{{ labels.severity }}] {{ id }} {{ state }}',
            body: '{{ annotations.summary }}\nFailed logins since start: %{auth.failed}%',
          },
        },
      ],
    },
  });

  // Local delivery: a second listener writes the maildir; the queue reaches it over instrumented SMTP.
  const lda = new SMTPServer(deliveryOptions(maildir));
  lda.listen(0, '127.0.0.1');
  await once(lda.server, 'listening');
  const outbound = instrumentTransport(
    telemetry,
    nodemailer.createTransport({
      host: '127.0.0.1',
      port: (lda.server.address() as AddressInfo).port,
      pool: true,
      ignoreTLS: true,
    }),
  );
  const inFlight = new Set<Promise<unknown>>();
  const queue = ({ queueId, from, to, raw }: QueuedMessage): void => {
    const message = { envelope: { from, to: [...to] }, raw, queueId }; // the adapter reads `queueId`
    const delivery = outbound.sendMail(message).catch((error: unknown) => log(`delivery of ${queueId} failed: ${String(error)}`));
    inFlight.add(delivery);
    void delivery.finally(() => inFlight.delete(delivery));
  };

  const server = new SMTPServer({
    ...instrumentSmtpServer(telemetry, inboundOptions(maildir, maxSize, queue)),
    closeTimeout: 2000,
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const smtpPort = (server.server.address() as AddressInfo).port;
  alertTransport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, tls: { rejectUnauthorized: false } });
  const admin = await startAdmin(telemetry);

  const delivered = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  return {
    telemetry,
    smtpPort,
    adminUrl: admin.url,
    historyToken,
    maildir,
    receiver,
    delivered,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await delivered();
      outbound.close();
      alertTransport?.close();
      await new Promise<void>((resolve) => lda.close(() => resolve()));
      await telemetry.shutdown(); // flushes the webhook and the streams
      await Promise.all([receiver.close(), admin.close()]);
      await rm(maildir.root, { recursive: true, force: true });
    },
  };
}
