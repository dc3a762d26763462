import {
  type AlertRuleOptions,
  type AlertsOptions,
  type ResolvedAlerts,
  resolveAlerts,
  type SendMail,
} from './alerts/options.js';
import type { TelemetryConfigError } from './base/errors.js';
import type { LevelSetting } from './base/levels.js';
import { checkKeys, record } from './base/validate.js';
import type { HostEvents } from './catalog/define.js';
import type { CheckPattern } from './catalog/types.js';
import { type ResolvedCore, resolveCore, type SpanOptions } from './core/options.js';
import { type DashboardOptions, type ResolvedDashboard, resolveDashboard } from './dashboard/options.js';
import { type HistoryOptions, type ResolvedHistory, resolveHistory } from './history/options.js';
import { type LiveOptions, type ResolvedLive, resolveLive } from './live/options.js';
import { type MetricsOptions, type ResolvedMetricsOptions, resolveMetricsOptions } from './metrics/options.js';
import type { Stalwart015Alias } from './stalwart/names.js';
import { overrideStalwart, resolveStalwart, type StalwartSetting, type StalwartVersion } from './stalwart/version.js';
import { resolveTracers, type TracerOptionsFor } from './tracing/tracers.js';
import { type ResolvedWebhook, resolveWebhooks, type WebhookOptions } from './webhooks/options.js';

/**
 * Options of `createTelemetry`. Every option is validated; a bad one throws a {@link TelemetryConfigError}.
 * `L` is the event names; `T` the tracers' selectors, checked against them when inferred as literals.
 */
export interface TelemetryOptions<E extends HostEvents = HostEvents, L extends string = string, T extends string = string> {
  /**
   * The service name, such as the mail server's host name or product.
   * @default 'mail-server'
   */
  readonly service?: string;
  /**
   * The host's own events, from `defineEvents`.
   * @default undefined
   */
  readonly events?: E;
  /**
   * Per-event level overrides; `disable` removes an event everywhere, counters included.
   * @default {}
   */
  readonly levels?: { readonly [N in L]?: LevelSetting };
  /**
   * Bounds on open spans.
   * @default {} (each bound at its default)
   */
  readonly spans?: SpanOptions;
  /**
   * The metrics registry and its Prometheus exposition.
   * @default {} (each option at its default)
   */
  readonly metrics?: MetricsOptions;
  /**
   * Tracers: console (text or JSON lines) and custom sinks, each with its level and event selection.
   * @default []
   */
  readonly tracers?: readonly TracerOptionsFor<CheckPattern<T, L | Stalwart015Alias>>[];
  /**
   * Keys every tracer writes as `[redacted]`, such as `['contents']`.
   * @default []
   */
  readonly sensitiveKeys?: readonly string[];
  /**
   * Webhook endpoints: batched, signed, retried deliveries.
   * @default []
   */
  readonly webhooks?: readonly WebhookOptions<L | Stalwart015Alias | `${string}*${string}`>[];
  /**
   * The history of events, span traces and metric series, or `false` for none. On by default, in
   * memory and bounded (10,000 events, 1,000 traces, 10,000 series points: about 6 MiB once full);
   * it wants info-level events and above, and span starts and ends. Its `stalwart` overrides the
   * top-level one for the history handler's bodies.
   * @default {} (each option at its default)
   */
  readonly history?:
    | (HistoryOptions<L | Stalwart015Alias | `${string}*${string}`> & {
        /**
         * The Stalwart version whose bodies the history handler answers in (`false`: the library's own).
         * @default the top-level `stalwart`
         */
        readonly stalwart?: StalwartSetting;
      })
    | false;
  /**
   * Live event and metric streams, and their access tokens.
   * @default {} (each option at its default)
   */
  readonly live?: LiveOptions;
  /**
   * The live web page served by `handlers.dashboard`, which reads the live streams.
   * @default {} (each option at its default)
   */
  readonly dashboard?: DashboardOptions;
  /**
   * Alert rules over metrics and their history: a list of rules, or
   * `{ rules, interval, timeout, maxTransitions }`.
   * @default []
   */
  readonly alerts?: readonly AlertRuleOptions[] | AlertsOptions;
  /**
   * The host's mail transport, used by alert email actions.
   * @default undefined
   */
  readonly sendMail?: SendMail;
  /**
   * Makes every wire format exactly that Stalwart version's, so a Stalwart operator's webhook
   * receivers, Grafana dashboards and web admin keep working: webhook values (RFC 3339 times,
   * nested errors as events) and, under `'0.15'`, 0.15's names of renamed events; live trace and
   * metric items; the token handler's answer; the history handler's bodies and `/api/logs`; the
   * Prometheus scrape (Stalwart names, plain text, zero counters left out). Decided here, at
   * configuration time. `metrics`, `live`, `history` and each webhook may override it with their
   * own `stalwart` (a version, or `false` for the library's own shapes). See
   * docs/stalwart-compatibility.md.
   * @default undefined (the library's own, richer shapes)
   */
  readonly stalwart?: StalwartVersion;
  /**
   * The clock, in epoch milliseconds. Tests inject one.
   * @default Date.now
   */
  readonly now?: () => number;
}

const TELEMETRY_KEYS = new Set([
  'service',
  'events',
  'levels',
  'spans',
  'metrics',
  'tracers',
  'sensitiveKeys',
  'webhooks',
  'history',
  'live',
  'dashboard',
  'alerts',
  'sendMail',
  'stalwart',
  'now',
]);

/** Every option validated, with defaults applied: the core's, and each mechanism's. */
export interface ResolvedOptions {
  readonly core: ResolvedCore;
  readonly metrics: ResolvedMetricsOptions;
  readonly webhooks: readonly ResolvedWebhook[];
  readonly history: ResolvedHistory | undefined;
  readonly live: ResolvedLive;
  readonly dashboard: ResolvedDashboard;
  readonly alerts: ResolvedAlerts;
  /** The Stalwart version of the history handler's bodies, if any. */
  readonly historyStalwart: StalwartVersion | undefined;
}

/** Validates the options of `createTelemetry`; a bad one throws a {@link TelemetryConfigError}. */
export function resolveOptions(options: unknown): ResolvedOptions {
  const path = 'options';
  const o = record(options === undefined ? {} : options, path);
  checkKeys(o, TELEMETRY_KEYS, path);
  const stalwart = resolveStalwart(o.stalwart, `${path}.stalwart`);
  const core = resolveCore(o, path, resolveTracers(o.tracers, `${path}.tracers`, o.sensitiveKeys));
  const live = resolveLive(o.live, `${path}.live`, o.sensitiveKeys, stalwart);
  // The history section's `stalwart` shapes its handler only: it is taken off before the rest is read.
  let history = o.history;
  let historyStalwart = stalwart;
  if (typeof history === 'object' && history !== null && !Array.isArray(history) && 'stalwart' in history) {
    const { stalwart: own, ...rest } = history as Record<string, unknown>;
    historyStalwart = overrideStalwart(own, `${path}.history.stalwart`, stalwart);
    history = rest;
  }
  return {
    core,
    metrics: resolveMetricsOptions(o.metrics, `${path}.metrics`, stalwart),
    webhooks: resolveWebhooks(o.webhooks, `${path}.webhooks`, stalwart),
    history: resolveHistory(history, `${path}.history`),
    historyStalwart,
    live,
    // The page's metrics interval must be one the streams accept.
    dashboard: resolveDashboard(o.dashboard, `${path}.dashboard`, live.minMetricsInterval),
    alerts: resolveAlerts(o.alerts, `${path}.alerts`, o.sendMail),
  };
}
