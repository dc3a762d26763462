import { describeError } from '../base/errors.js';
import { loadedKy, loadKy } from '../base/ky.js';
import type { MechanismContext } from '../metrics/api.js';
import { buildMessage } from './email.js';
import type { ResolvedRule, SendMail } from './options.js';
import { formatNumber } from './template.js';

/** What one notification says; actions turn it into an event, an email, a POST. */
export interface AlertNotification {
  /** The rule id. */
  readonly id: string;
  readonly state: 'firing' | 'resolved';
  /** Why it is sent: the alert fired, is still firing after `repeatInterval`, or resolved. */
  readonly reason: 'firing' | 'repeat' | 'resolved';
  /** The left side of the condition's first comparison, else the condition's value. */
  readonly value: number;
  readonly condition: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** The event `details` and the webhook `message`. */
  readonly message: string;
  /** When it started firing, epoch ms. */
  readonly startsAt: number;
  /** When it resolved, epoch ms. */
  readonly endsAt?: number;
}

/** A rendered email, ready to build. */
export interface RenderedMail {
  readonly subject: string;
  readonly body: string;
}

/** Everything an action run needs from the engine. */
export interface ActionHost {
  readonly context: MechanismContext;
  readonly sendMail: SendMail | undefined;
  /** The library event that action failures are reported as. */
  readonly errorEvent: string;
  /** The Alertmanager `endsAt` of a firing alert: this many ms ahead. */
  readonly validFor: (rule: ResolvedRule) => number;
}

/** Emits `telemetry.alert-event`; it cannot fail, so it runs inline. */
export function emitEvent(host: ActionHost, n: AlertNotification): void {
  const data: Record<string, unknown> = { id: n.id, details: n.message, reason: n.reason };
  if (Number.isFinite(n.value)) data.total = n.value;
  host.context.report('telemetry.alert-event', data);
}

/** Builds the message, hands it to `sendMail` and emits `telemetry.alert-message`. */
export async function sendEmail(host: ActionHost, rule: ResolvedRule, n: AlertNotification, mail: RenderedMail): Promise<void> {
  const email = rule.email;
  const send = host.sendMail;
  if (email === undefined || send === undefined) return;
  const raw = buildMessage({
    from: email.from,
    fromName: email.fromName,
    to: email.to,
    subject: mail.subject,
    body: mail.body,
    date: host.context.now(),
  });
  await withTimeout(send({ from: email.from, to: email.to, raw }), email.timeout);
  host.context.report('telemetry.alert-message', { id: n.id, to: email.to, details: mail.subject, reason: n.reason });
}

/** The JSON body of an alert webhook POST. */
export interface AlertWebhookBody {
  /** The telemetry instance's service name. */
  readonly service: string;
  /** The rule id. */
  readonly id: string;
  readonly state: 'firing' | 'resolved';
  readonly reason: 'firing' | 'repeat' | 'resolved';
  /** The value, or `"NaN"` / `"Infinity"` where JSON has no number for it. */
  readonly value: number | string;
  readonly condition: string;
  readonly message: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** ISO 8601. */
  readonly startsAt: string;
  /** ISO 8601, once resolved. */
  readonly endsAt?: string;
}

/** POSTs the notification as JSON. */
export async function postWebhook(host: ActionHost, rule: ResolvedRule, n: AlertNotification): Promise<void> {
  const webhook = rule.webhook;
  if (webhook === undefined) return;
  const body: AlertWebhookBody = {
    service: host.context.service,
    id: n.id,
    state: n.state,
    reason: n.reason,
    value: Number.isFinite(n.value) ? n.value : formatNumber(n.value),
    condition: n.condition,
    message: n.message,
    labels: n.labels,
    annotations: n.annotations,
    startsAt: new Date(n.startsAt).toISOString(),
    ...(n.endsAt === undefined ? {} : { endsAt: new Date(n.endsAt).toISOString() }),
  };
  const { default: ky } = await loadKy();
  await ky.post(webhook.url, { json: body, headers: webhook.headers, timeout: webhook.timeout, retry: 0 });
}

/**
 * POSTs to `/api/v2/alerts`. A firing alert's `endsAt` lies ahead so the Alertmanager resolves it by
 * itself if this process dies; a resolved one carries its real `endsAt`.
 */
export async function postAlertmanager(host: ActionHost, rule: ResolvedRule, n: AlertNotification): Promise<void> {
  const am = rule.alertmanager;
  if (am === undefined) return;
  const endsAt = n.endsAt ?? host.context.now() + host.validFor(rule);
  const alert = {
    labels: { alertname: n.id, ...n.labels },
    annotations: n.annotations,
    startsAt: new Date(n.startsAt).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
    ...(am.generatorURL === undefined ? {} : { generatorURL: am.generatorURL }),
  };
  const { default: ky } = await loadKy();
  await ky.post(`${am.url}/api/v2/alerts`, { json: [alert], timeout: am.timeout, retry: 0 });
}

/** Races `promise` against a timer, so a hanging host transport cannot hold an alert forever. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ActionTimeout(ms)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

class ActionTimeout extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

/**
 * A failure as text that never carries a URL (it may hold a token) or a header: HTTP errors give
 * their status, timeouts their limit, other errors their message.
 */
export function failureReason(error: unknown, timeout: number): string {
  const ky = loadedKy();
  if (ky !== undefined && error instanceof ky.HTTPError) return `HTTP ${error.response.status}`;
  if (ky !== undefined && error instanceof ky.TimeoutError) return `timed out after ${timeout} ms`;
  return describeError(error).replace(/https?:\/\/\S+/g, '<url>');
}
