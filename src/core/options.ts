import {
  type AlertRuleOptions,
  type AlertsOptions,
  type ResolvedAlerts,
  resolveAlerts,
  type SendMail,
} from '../alerts/options.js';
import { TelemetryConfigError } from '../base/errors.js';
import { checkKeys, nonEmptyString, record } from '../base/validate.js';
import type { HostEvents } from '../catalog/define.js';
import { isLevel, isLevelSetting, type Level, type LevelSetting } from '../catalog/levels.js';
import type { CheckPattern } from '../catalog/types.js';
import { type DashboardOptions, type ResolvedDashboard, resolveDashboard } from '../dashboard/options.js';
import { type HistoryOptions, type ResolvedHistory, resolveHistory } from '../history/options.js';
import { type LiveOptions, type ResolvedLive, resolveLive } from '../live/options.js';
import { type MetricsOptions, type ResolvedMetricsOptions, resolveMetricsOptions } from '../metrics/options.js';
import { type ResolvedTracer, resolveTracers, type TracerOptionsFor } from '../tracing/tracers.js';
import { type ResolvedWebhook, resolveWebhooks, type WebhookOptions } from '../webhooks/options.js';

/** Bounds on spans that are opened and never ended. */
export interface SpanOptions {
  /**
   * Most spans kept open at once; beyond it the oldest are swept out.
   * @default 8000
   */
  readonly maxOpen?: number;
  /**
   * Milliseconds after which an open span is swept out.
   * @default 86_400_000 (24 h)
   */
  readonly maxAge?: number;
  /**
   * Milliseconds between age sweeps, on an unref'd timer.
   * @default 60_000
   */
  readonly sweepInterval?: number;
}

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
  /** Bounds on open spans. */
  readonly spans?: SpanOptions;
  /** The metrics registry and its Prometheus exposition. */
  readonly metrics?: MetricsOptions;
  /**
   * Tracers: console (text or JSON lines) and custom sinks, each with its level and event selection.
   * @default []
   */
  readonly tracers?: readonly TracerOptionsFor<CheckPattern<T, L>>[];
  /**
   * Keys every tracer writes as `[redacted]`, such as `['contents']`.
   * @default []
   */
  readonly sensitiveKeys?: readonly string[];
  /**
   * Webhook endpoints: batched, signed, retried deliveries.
   * @default []
   */
  readonly webhooks?: readonly WebhookOptions<L | `${string}*${string}`>[];
  /**
   * The in-memory history of events, span traces and metric series; off unless given.
   * @default undefined
   */
  readonly history?: HistoryOptions<L | `${string}*${string}`>;
  /** Live event and metric streams, and their access tokens. */
  readonly live?: LiveOptions;
  /** The live web page served by `handlers.dashboard`, which reads the live streams. */
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
   * The clock, in epoch milliseconds. Tests inject one.
   * @default Date.now
   */
  readonly now?: () => number;
}

/**
 * Options of `telemetry.subscribe`. `P` is the selectors taken, `X` every selector allowed: the event
 * names and wildcards. A literal selector in `events` must match at least one of those names.
 */
export interface SubscribeOptions<P extends string = string, X extends string = string> {
  /**
   * Names the subscriber in stats and in `telemetry.subscriber-error` events.
   * @default 'subscriber-<n>'
   */
  readonly id?: string;
  /**
   * Event names or wildcards (`*`, `smtp.*`, `*-error`) to take.
   * @default ['*']
   */
  readonly events?: readonly CheckPattern<P, X>[];
  /**
   * Event names or wildcards to leave out.
   * @default []
   */
  readonly exclude?: readonly X[];
  /**
   * The least severe level taken.
   * @default 'trace'
   */
  readonly level?: Level;
  /**
   * When the queue is full, a lossy subscriber drops its oldest event; a lossless one refuses the
   * newest. Both count every drop and report it as `telemetry.events-dropped`.
   * @default false
   */
  readonly lossy?: boolean;
  /**
   * Most events queued for the handler.
   * @default 10_240 when lossy, 100_000 otherwise
   */
  readonly maxQueue?: number;
  /**
   * Most events per handler call.
   * @default 1024
   */
  readonly maxBatch?: number;
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
  'now',
]);
const SPAN_KEYS = new Set(['maxOpen', 'maxAge', 'sweepInterval']);
const SUBSCRIBE_KEYS = new Set(['id', 'events', 'exclude', 'level', 'lossy', 'maxQueue', 'maxBatch']);

/** Validated telemetry options with defaults applied. */
export interface ResolvedOptions {
  readonly service: string;
  readonly events: HostEvents | undefined;
  readonly levels: Readonly<Record<string, LevelSetting>>;
  readonly maxOpenSpans: number;
  readonly maxSpanAge: number;
  readonly sweepInterval: number;
  readonly metrics: ResolvedMetricsOptions;
  readonly tracers: readonly ResolvedTracer[];
  /** `options.sensitiveKeys`: redacted in the output of every tracer and mechanism. */
  readonly sensitiveKeys: ReadonlySet<string>;
  readonly webhooks: readonly ResolvedWebhook[];
  readonly history: ResolvedHistory | undefined;
  readonly live: ResolvedLive;
  readonly dashboard: ResolvedDashboard;
  readonly alerts: ResolvedAlerts;
  readonly now: () => number;
}

export function resolveOptions(options: unknown): ResolvedOptions {
  const path = 'options';
  const o = record(options === undefined ? {} : options, path);
  checkKeys(o, TELEMETRY_KEYS, path);
  const spans = record(o.spans === undefined ? {} : o.spans, `${path}.spans`);
  checkKeys(spans, SPAN_KEYS, `${path}.spans`);
  const levels = record(o.levels === undefined ? {} : o.levels, `${path}.levels`);
  for (const [name, level] of Object.entries(levels)) {
    if (!isLevelSetting(level)) {
      throw new TelemetryConfigError(
        `${path}.levels[${JSON.stringify(name)}]`,
        level,
        'trace, debug, info, warn, error or disable',
      );
    }
  }
  if (o.now !== undefined && typeof o.now !== 'function')
    throw new TelemetryConfigError(`${path}.now`, o.now, 'a function returning epoch milliseconds');
  const live = resolveLive(o.live, `${path}.live`, o.sensitiveKeys);
  return {
    service: nonEmptyString(o.service === undefined ? 'mail-server' : o.service, `${path}.service`),
    events: o.events === undefined ? undefined : (o.events as HostEvents),
    levels: levels as Record<string, LevelSetting>,
    maxOpenSpans: positiveInteger(spans.maxOpen === undefined ? 8000 : spans.maxOpen, `${path}.spans.maxOpen`),
    maxSpanAge: positiveNumber(spans.maxAge === undefined ? 86_400_000 : spans.maxAge, `${path}.spans.maxAge`),
    metrics: resolveMetricsOptions(o.metrics),
    tracers: resolveTracers(o.tracers, o.sensitiveKeys),
    sensitiveKeys: live.redact,
    sweepInterval: positiveNumber(
      spans.sweepInterval === undefined ? 60_000 : spans.sweepInterval,
      `${path}.spans.sweepInterval`,
    ),
    webhooks: resolveWebhooks(o.webhooks, `${path}.webhooks`),
    history: resolveHistory(o.history, `${path}.history`),
    live,
    // The page's metrics interval must be one the streams accept.
    dashboard: resolveDashboard(o.dashboard, `${path}.dashboard`, live.minMetricsInterval),
    alerts: resolveAlerts(o.alerts, o.sendMail, `${path}.alerts`),
    now: (o.now as (() => number) | undefined) ?? Date.now,
  };
}

/** Validated subscribe options with defaults applied (patterns are checked against the catalogue later). */
export interface ResolvedSubscribe {
  readonly id: string | undefined;
  readonly events: readonly string[] | undefined;
  readonly exclude: readonly string[] | undefined;
  readonly level: Level;
  readonly lossy: boolean;
  readonly maxQueue: number;
  readonly maxBatch: number;
}

export function resolveSubscribe(options: unknown, path: string): ResolvedSubscribe {
  const o = record(options === undefined ? {} : options, path);
  checkKeys(o, SUBSCRIBE_KEYS, path);
  if (o.level !== undefined && !isLevel(o.level))
    throw new TelemetryConfigError(`${path}.level`, o.level, 'trace, debug, info, warn or error');
  if (o.lossy !== undefined && typeof o.lossy !== 'boolean')
    throw new TelemetryConfigError(`${path}.lossy`, o.lossy, 'a boolean');
  const lossy = o.lossy === true;
  return {
    id: o.id === undefined ? undefined : nonEmptyString(o.id, `${path}.id`),
    events: o.events as readonly string[] | undefined,
    exclude: o.exclude as readonly string[] | undefined,
    level: o.level === undefined ? 'trace' : (o.level as Level),
    lossy,
    maxQueue: positiveInteger(o.maxQueue === undefined ? (lossy ? 10_240 : 100_000) : o.maxQueue, `${path}.maxQueue`, true),
    maxBatch: positiveInteger(o.maxBatch === undefined ? 1024 : o.maxBatch, `${path}.maxBatch`),
  };
}

function positiveInteger(value: unknown, path: string, allowInfinity = false): number {
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TelemetryConfigError(path, value, allowInfinity ? 'a positive integer or Infinity' : 'a positive integer');
  }
  return value;
}

function positiveNumber(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new TelemetryConfigError(path, value, 'a positive finite number');
  return value;
}
