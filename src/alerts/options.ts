import { TelemetryConfigError } from '../base/errors.js';
import { boolean, callback, checkKeys, HIDDEN, integer, MAX_TIMER, duration as ms, record } from '../base/validate.js';
import { AUTHORIZE_EXPECTED, type Authorize } from '../http/auth.js';
import { type Duration, parseDuration } from './duration.js';
import { ADDRESS } from './email.js';
import { ExpressionError } from './errors.js';
import { type Expr, parseExpression } from './parser.js';
import { parseTemplate, type Template } from './template.js';

export type { Duration } from './duration.js';

/** Emits `telemetry.alert-event` (level warn) on firing and on resolution. */
export interface AlertEventOptions {
  /**
   * The event's `details`: a template (`{{ value }}`, `{{ labels.name }}`, `%{queue.count}%`, ...).
   * @default the `summary` annotation, else "<id> is <state>: <condition> (value <value>)"
   */
  readonly message?: string;
}

/** Sends an auto-generated email through the host's `sendMail`, and emits `telemetry.alert-message`. */
export interface AlertEmailOptions {
  /** The sender address, such as `alerts@example.org`. */
  readonly from: string;
  /**
   * The sender's display name.
   * @default undefined
   */
  readonly fromName?: string;
  /** One recipient address or several. */
  readonly to: string | readonly string[];
  /** A template, such as `'{{ id }} is {{ state }}'`. */
  readonly subject: string;
  /** A template, such as `'Queue at %{queue.count}% messages'`. */
  readonly body: string;
  /**
   * Milliseconds `sendMail` may take before it counts as failed.
   * @default the alerts' `timeout` (10 s)
   */
  readonly timeout?: number;
}

/** POSTs the alert as JSON to a URL. */
export interface AlertWebhookOptions {
  /** An `http:` or `https:` URL. */
  readonly url: string;
  /**
   * Extra request headers, such as `authorization`; never shown in events or errors.
   * @default {}
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Milliseconds before the request is abandoned.
   * @default the alerts' `timeout` (10 s)
   */
  readonly timeout?: number;
}

/** Posts to a Prometheus Alertmanager's `POST /api/v2/alerts`, which dedupes and routes across nodes. */
export interface AlertmanagerOptions {
  /** The Alertmanager's base URL, such as `http://127.0.0.1:9093`. */
  readonly url: string;
  /**
   * The alert's `generatorURL`: where an operator sees the source of the alert.
   * @default undefined
   */
  readonly generatorURL?: string;
  /**
   * How often a firing alert is sent again, so the Alertmanager keeps it active (its `endsAt` is
   * four intervals ahead, as Prometheus does).
   * @default '1m'
   */
  readonly resendInterval?: Duration;
  /**
   * Milliseconds before the request is abandoned.
   * @default the alerts' `timeout` (10 s)
   */
  readonly timeout?: number;
}

/** One alert rule: a condition over metrics and what to do when it fires and resolves. */
export interface AlertRuleOptions {
  /** Names the rule: letters, digits, `_`, `.` and `-`. It is the Alertmanager's `alertname`. */
  readonly id: string;
  /**
   * An expression over metrics, such as `rate(smtp_connection_start, '5m') > 10` or
   * `p95(metric('delivery.total-time')) > 30_000 && queue_count > 500`.
   */
  readonly condition: string;
  /**
   * Whether the rule is evaluated.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * How long the condition must hold before the alert fires; until then it is pending.
   * @default 0
   */
  readonly for?: Duration;
  /**
   * How long a firing alert stays firing after its condition clears.
   * @default 0
   */
  readonly keepFiringFor?: Duration;
  /**
   * How often the actions run again while the alert stays firing; 0 notifies once per firing.
   * @default 0
   */
  readonly repeatInterval?: Duration;
  /**
   * Labels sent with the alert (to the Alertmanager, webhook and templates).
   * @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Annotations such as `summary` and `description`: templates filled in when the alert notifies.
   * @default {}
   */
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * The `telemetry.alert-event` action; `false` turns it off.
   * @default true
   */
  readonly event?: boolean | AlertEventOptions;
  /**
   * An email action (needs the `sendMail` option).
   * @default undefined
   */
  readonly email?: AlertEmailOptions;
  /**
   * A webhook action.
   * @default undefined
   */
  readonly webhook?: AlertWebhookOptions;
  /**
   * An Alertmanager action.
   * @default undefined
   */
  readonly alertmanager?: AlertmanagerOptions;
}

/** Alert rules with engine-wide settings (the `alerts` option also accepts the bare rule list). */
export interface AlertsOptions {
  /** The rules. */
  readonly rules: readonly AlertRuleOptions[];
  /**
   * Milliseconds between evaluations, on an unref'd timer.
   * @default 30_000
   */
  readonly interval?: Duration;
  /**
   * Milliseconds an email, webhook or Alertmanager action may take before it counts as failed.
   * @default 10_000
   */
  readonly timeout?: number;
  /**
   * Most state transitions kept for `transitions()`.
   * @default 1000
   */
  readonly maxTransitions?: number;
  /**
   * Most label-pattern work one evaluation of one rule may do, in work units: a test of a value of n
   * characters against a `=~` or `!~` pattern costs (n + 1) to the power of the pattern's repeating
   * quantifiers (at least 1), about the steps the backtracking engine takes; remembered verdicts cost
   * nothing. One million units take about a millisecond. Past it, that rule's evaluation is skipped
   * (its state is kept) and reported as `telemetry.alert-error`; the other rules still evaluate.
   * @default 50_000_000
   */
  readonly maxLabelWork?: number;
  /**
   * Who may read the rules' states over HTTP (`handlers.alerts`); with none, the history's
   * `authorize` decides, and with neither the handler answers 401.
   * @default options.history.authorize
   */
  readonly authorize?: Authorize;
}

/** Hands a built RFC 5322 message to the host's mail transport. */
export type SendMail = (message: {
  /** The envelope sender. */
  readonly from: string;
  /** The envelope recipients. */
  readonly to: readonly string[];
  /** The whole message: headers, a blank line and the body, with CRLF line ends. */
  readonly raw: string;
}) => Promise<void>;

/** A validated rule. */
export interface ResolvedRule {
  readonly id: string;
  readonly condition: string;
  readonly expr: Expr;
  /** The option path, for errors found when the rule is bound to the registry. */
  readonly path: string;
  readonly enabled: boolean;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  readonly repeatMs: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: ReadonlyMap<string, Template>;
  readonly event: { readonly message: Template | undefined } | undefined;
  readonly email:
    | {
        readonly from: string;
        readonly fromName: string | undefined;
        readonly to: readonly string[];
        readonly subject: Template;
        readonly body: Template;
        readonly timeout: number;
      }
    | undefined;
  readonly webhook:
    | { readonly url: string; readonly headers: Readonly<Record<string, string>>; readonly timeout: number }
    | undefined;
  readonly alertmanager:
    | { readonly url: string; readonly generatorURL: string | undefined; readonly resendMs: number; readonly timeout: number }
    | undefined;
}

/** Validated alert options. */
export interface ResolvedAlerts {
  readonly rules: readonly ResolvedRule[];
  readonly sendMail: SendMail | undefined;
  readonly intervalMs: number;
  readonly timeout: number;
  readonly maxTransitions: number;
  readonly maxLabelWork: number;
  readonly authorize: Authorize | undefined;
}

/** The default {@link AlertsOptions.maxLabelWork}: some 50 ms of pattern tests per rule at worst. */
export const DEFAULT_MAX_LABEL_WORK = 50_000_000;

const RULE_KEYS = [
  'id',
  'condition',
  'enabled',
  'for',
  'keepFiringFor',
  'repeatInterval',
  'labels',
  'annotations',
  'event',
  'email',
  'webhook',
  'alertmanager',
];
const ALERTS_KEYS = ['rules', 'interval', 'timeout', 'maxTransitions', 'maxLabelWork', 'authorize'];
const EVENT_KEYS = ['message'];
const EMAIL_KEYS = ['from', 'fromName', 'to', 'subject', 'body', 'timeout'];
const WEBHOOK_KEYS = ['url', 'headers', 'timeout'];
const ALERTMANAGER_KEYS = ['url', 'generatorURL', 'resendInterval', 'timeout'];
const RULE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Validates `options.alerts`; `sendMail` is the instance's `options.sendMail`, which email actions use.
 */
export function resolveAlerts(value: unknown, path: string, sendMail: unknown): ResolvedAlerts {
  const mail = callback<SendMail>(sendMail, 'options.sendMail', 'a function (message) => Promise<void>');
  let list: unknown = value ?? [];
  let rulesPath = path;
  let intervalMs = 30_000;
  let timeout = 10_000;
  let maxTransitions = 1000;
  let maxLabelWork = DEFAULT_MAX_LABEL_WORK;
  let authorize: Authorize | undefined;
  if (!Array.isArray(list)) {
    const o = record(
      list,
      path,
      'a list of alert rules, or { rules, interval, timeout, maxTransitions, maxLabelWork, authorize }',
    );
    checkKeys(o, ALERTS_KEYS, path);
    intervalMs = duration(o.interval, `${path}.interval`, intervalMs, 1);
    timeout = milliseconds(o.timeout, `${path}.timeout`, timeout);
    maxTransitions = integer(o.maxTransitions, `${path}.maxTransitions`, maxTransitions, 1);
    maxLabelWork = integer(o.maxLabelWork, `${path}.maxLabelWork`, maxLabelWork, 1);
    authorize = callback<Authorize>(o.authorize, `${path}.authorize`, AUTHORIZE_EXPECTED);
    rulesPath = `${path}.rules`;
    list = o.rules;
    if (!Array.isArray(list)) throw new TelemetryConfigError(rulesPath, list, 'a list of alert rules');
  }
  const seen = new Set<string>();
  const rules = (list as unknown[]).map((rule, i) => {
    const resolved = resolveRule(rule, `${rulesPath}[${i}]`, mail, timeout);
    if (seen.has(resolved.id)) throw new TelemetryConfigError(`${rulesPath}[${i}].id`, resolved.id, 'an id no other rule has');
    seen.add(resolved.id);
    return resolved;
  });
  return { rules, sendMail: mail, intervalMs, timeout, maxTransitions, maxLabelWork, authorize };
}

/** Validates one rule: also used by `telemetry.alerts.add`. */
export function resolveRule(value: unknown, path: string, sendMail: SendMail | undefined, timeout: number): ResolvedRule {
  const o = record(value, path, 'an alert rule { id, condition, … }');
  checkKeys(o, RULE_KEYS, path);
  if (typeof o.id !== 'string' || !RULE_ID.test(o.id))
    throw new TelemetryConfigError(`${path}.id`, o.id, 'letters, digits, "_", "." and "-" (at most 128)');
  if (typeof o.condition !== 'string') throw new TelemetryConfigError(`${path}.condition`, o.condition, 'an expression');
  let expr: Expr;
  try {
    expr = parseExpression(o.condition);
  } catch (error) {
    throw conditionError(`${path}.condition`, o.condition, error);
  }
  const enabled = boolean(o.enabled, `${path}.enabled`, true);
  const labels = stringMap(o.labels, `${path}.labels`, LABEL_NAME, 'label names');
  const annotations = new Map<string, Template>();
  for (const [key, text] of Object.entries(stringMap(o.annotations, `${path}.annotations`, LABEL_NAME, 'annotation names')))
    annotations.set(key, template(text, `${path}.annotations.${key}`, false));
  const event = resolveEvent(o.event, `${path}.event`);
  const email = o.email === undefined ? undefined : resolveEmail(o.email, `${path}.email`, sendMail, timeout);
  const webhook = o.webhook === undefined ? undefined : resolveWebhook(o.webhook, `${path}.webhook`, timeout);
  const alertmanager =
    o.alertmanager === undefined ? undefined : resolveAlertmanager(o.alertmanager, `${path}.alertmanager`, timeout);
  return {
    id: o.id,
    condition: o.condition,
    expr,
    path,
    enabled,
    forMs: duration(o.for, `${path}.for`, 0, 0),
    keepFiringForMs: duration(o.keepFiringFor, `${path}.keepFiringFor`, 0, 0),
    repeatMs: duration(o.repeatInterval, `${path}.repeatInterval`, 0, 0),
    labels,
    annotations,
    event,
    email,
    webhook,
    alertmanager,
  };
}

/** A condition's parse or binding error as a configuration error, caret excerpt included. */
export function conditionError(path: string, condition: unknown, error: unknown): unknown {
  if (!(error instanceof ExpressionError)) return error;
  const wrapped = new TelemetryConfigError(path, condition, 'a valid alert expression');
  // The caret excerpt needs lines of its own, after the one-line summary.
  wrapped.message = `${path}: expected a valid alert expression: ${error.message}`;
  return wrapped;
}

function resolveEvent(value: unknown, path: string): ResolvedRule['event'] {
  if (value === undefined || value === true) return { message: undefined };
  if (value === false) return undefined;
  const o = record(value, path, 'true, false or { message }');
  checkKeys(o, EVENT_KEYS, path);
  if (o.message === undefined) return { message: undefined };
  if (typeof o.message !== 'string') throw new TelemetryConfigError(`${path}.message`, o.message, 'a template string');
  return { message: template(o.message, `${path}.message`, true) };
}

function resolveEmail(value: unknown, path: string, sendMail: SendMail | undefined, timeout: number): ResolvedRule['email'] {
  const o = record(value, path, 'an email action { from, to, subject, body }');
  checkKeys(o, EMAIL_KEYS, path);
  if (sendMail === undefined)
    throw new TelemetryConfigError(
      path,
      value,
      'an email action only with the sendMail option',
      'pass sendMail to createTelemetry',
    );
  address(o.from, `${path}.from`);
  if (o.fromName !== undefined && (typeof o.fromName !== 'string' || /[\r\n]/.test(o.fromName)))
    throw new TelemetryConfigError(`${path}.fromName`, o.fromName, 'a one-line string');
  const to = typeof o.to === 'string' ? [o.to] : o.to;
  if (!Array.isArray(to) || to.length === 0)
    throw new TelemetryConfigError(`${path}.to`, o.to, 'an address or a non-empty list of addresses');
  to.forEach((a, i) => {
    address(a, `${path}.to[${i}]`);
  });
  for (const key of ['subject', 'body'] as const)
    if (typeof o[key] !== 'string' || o[key].trim() === '')
      throw new TelemetryConfigError(`${path}.${key}`, o[key], 'a non-empty template string');
  return {
    from: o.from as string,
    fromName: o.fromName as string | undefined,
    to: [...(to as string[])],
    subject: template(o.subject as string, `${path}.subject`, true),
    body: template(o.body as string, `${path}.body`, true),
    timeout: milliseconds(o.timeout, `${path}.timeout`, timeout),
  };
}

function resolveWebhook(value: unknown, path: string, timeout: number): ResolvedRule['webhook'] {
  const o = record(value, path, 'a webhook action { url }');
  checkKeys(o, WEBHOOK_KEYS, path);
  const headers: Record<string, string> = {};
  if (o.headers !== undefined) {
    const h = record(o.headers, `${path}.headers`, 'an object of header names to strings');
    for (const [name, text] of Object.entries(h)) {
      if (!HEADER_NAME.test(name)) throw new TelemetryConfigError(`${path}.headers`, name, 'valid header names');
      // The value may be a secret: it is never quoted back.
      if (typeof text !== 'string' || /[\r\n\0]/.test(text))
        throw new TelemetryConfigError(`${path}.headers.${name}`, HIDDEN, 'a one-line string');
      headers[name] = text;
    }
  }
  return {
    url: httpUrl(o.url, `${path}.url`),
    headers,
    timeout: milliseconds(o.timeout, `${path}.timeout`, timeout),
  };
}

function resolveAlertmanager(value: unknown, path: string, timeout: number): ResolvedRule['alertmanager'] {
  const o = record(value, path, 'an Alertmanager action { url }');
  checkKeys(o, ALERTMANAGER_KEYS, path);
  return {
    url: httpUrl(o.url, `${path}.url`).replace(/\/+$/, ''),
    generatorURL: o.generatorURL === undefined ? undefined : httpUrl(o.generatorURL, `${path}.generatorURL`),
    resendMs: duration(o.resendInterval, `${path}.resendInterval`, 60_000, 1),
    timeout: milliseconds(o.timeout, `${path}.timeout`, timeout),
  };
}

function template(text: string, path: string, allowAnnotations: boolean): Template {
  const parsed = parseTemplate(text, allowAnnotations);
  if (typeof parsed === 'string') throw new TelemetryConfigError(path, text, 'a template with known placeholders', parsed);
  return parsed;
}

function stringMap(value: unknown, path: string, names: RegExp, what: string): Record<string, string> {
  if (value === undefined) return {};
  const o = record(value, path, 'an object of strings');
  for (const [key, text] of Object.entries(o)) {
    if (!names.test(key)) throw new TelemetryConfigError(path, key, `${what} made of letters, digits and "_"`);
    if (typeof text !== 'string') throw new TelemetryConfigError(`${path}.${key}`, text, 'a string');
  }
  return { ...(o as Record<string, string>) };
}

/** A duration option: milliseconds, or a string such as `'5m'`, up to the longest timer. */
function duration(value: unknown, path: string, fallback: number, min: number): number {
  return ms(value, path, fallback, min, MAX_TIMER, parseDuration);
}

/** A timeout: milliseconds only. */
function milliseconds(value: unknown, path: string, fallback: number): number {
  return ms(value, path, fallback, 1);
}

function address(value: unknown, path: string): void {
  if (typeof value !== 'string' || !ADDRESS.test(value))
    throw new TelemetryConfigError(path, value, 'a bare email address such as alerts@example.org');
}

function httpUrl(value: unknown, path: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new TelemetryConfigError(path, typeof value === 'string' ? '[url]' : value, 'an http: or https: URL');
  return url.href;
}
