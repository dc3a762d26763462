import { TelemetryConfigError } from '../base/errors.js';
import type { Level } from '../base/levels.js';
import { checkMetricPatterns } from '../base/patterns.js';
import { boolean, integer, level, section } from '../base/validate.js';

/** Options of `telemetry.handlers.dashboard`: the live web page an operator opens. */
export interface DashboardOptions {
  /**
   * Serves the page. `false` makes the handler answer 404, for hosts that mount every handler.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * The page title and heading (plain text; it is escaped).
   * @default 'mail-telemetry'
   */
  readonly title?: string;
  /**
   * Where the host mounted `handlers.liveMetrics`: an absolute path (`/api/live/metrics`) or one
   * relative to the page (`live/metrics`). Same origin only: the page's CSP allows no other.
   * Unset, the page looks beside itself: `live/metrics` relative to its own URL (so a page at
   * `/telemetry/dashboard` reads `/telemetry/live/metrics`; at `/telemetry/dashboard/`, also
   * `/telemetry/live/metrics`), and after a 404 at Stalwart v0.16's `/api/live/metrics`.
   * @default undefined (beside the page, then '/api/live/metrics')
   */
  readonly liveMetricsPath?: string;
  /**
   * Where the host mounted `handlers.liveTracing`, as `liveMetricsPath` (`live/tracing` beside the
   * page, then `/api/live/tracing`).
   * @default undefined (beside the page, then '/api/live/tracing')
   */
  readonly liveTracingPath?: string;
  /**
   * A same-origin path the page GETs a fresh live token from before each connection, with
   * `{scope}` standing for `tracing` or `metrics` (Stalwart v0.16: `/api/token/{scope}`). The host
   * serves it behind its own login (the page sends cookies) and answers with
   * `telemetry.live.issueToken({ scope })` as plain text (or Stalwart v0.15's `{"data": token}`).
   * Without it the page uses tokens from its URL fragment (`#token=...`), which stop opening streams
   * once they expire: a filter change or reconnect after that shows "unauthorized".
   * @default undefined (tokens from the URL fragment, or the live `authorize` callback)
   */
  readonly tokenPath?: string;
  /**
   * Where the host mounted `handlers.history`, as the prefix of its routes: the message search reads
   * `{historyPath}/telemetry/traces` and `.../telemetry/events`. Same origin only. Unset, the page
   * looks at `history/` beside itself (a page at `/telemetry/dashboard` reads
   * `/telemetry/history/telemetry/traces`), and after a 404 at Stalwart's `/api/`. The page sends
   * its cookies, and the bearer token its URL fragment gives (`#history=...`), to the history's `authorize`.
   * @default undefined (beside the page, then '/api/')
   */
  readonly historyPath?: string;
  /**
   * Where the host mounted `handlers.alerts`, which the Alerts view reads. Same origin only.
   * Unset, the page reads `alerts` beside itself (a page at `/telemetry/dashboard` reads
   * `/telemetry/alerts`), with the same cookies and bearer token as the history.
   * @default undefined (beside the page)
   */
  readonly alertsPath?: string;
  /**
   * Most rows the event table keeps; past it the oldest are dropped.
   * @default 500
   */
  readonly maxRows?: number;
  /**
   * Metric names or wildcards shown as tiles, in this order: event counters by event name,
   * gauges and histograms by metric name.
   * @default ['smtp.connection-start', 'queue.message-queued', 'delivery.completed', 'delivery.dsn-perm-fail', 'auth.failed', 'queue.count', '*.active-connections']
   */
  readonly metrics?: readonly string[];
  /**
   * Milliseconds between metric frames the page asks for; at least the `live.minMetricsInterval` option.
   * @default 1000
   */
  readonly metricsInterval?: number;
  /**
   * The level the event table's selector starts at.
   * @default 'info'
   */
  readonly level?: Level;
}

/** Validated dashboard options with defaults applied. */
export interface ResolvedDashboard {
  readonly enabled: boolean;
  readonly title: string;
  /** Unset: the page finds the stream beside itself. */
  readonly liveMetricsPath: string | undefined;
  readonly liveTracingPath: string | undefined;
  readonly tokenPath: string | undefined;
  readonly historyPath: string | undefined;
  readonly alertsPath: string | undefined;
  readonly maxRows: number;
  readonly metrics: readonly string[];
  readonly metricsInterval: number;
  readonly level: Level;
}

/** The headline tiles: traffic in, queue, delivery outcomes, auth failures and open connections. */
export const DEFAULT_DASHBOARD_METRICS: readonly string[] = [
  'smtp.connection-start',
  'queue.message-queued',
  'delivery.completed',
  'delivery.dsn-perm-fail',
  'auth.failed',
  'queue.count',
  '*.active-connections',
];

const KEYS = new Set([
  'enabled',
  'title',
  'liveMetricsPath',
  'liveTracingPath',
  'tokenPath',
  'historyPath',
  'alertsPath',
  'maxRows',
  'metrics',
  'metricsInterval',
  'level',
]);
const MAX_TITLE = 200;
const MAX_PATH = 2048;

/**
 * Validates `options.dashboard`. `minMetricsInterval` is the resolved `live.minMetricsInterval`:
 * a page asking for faster frames would only ever be refused with 400.
 */
export function resolveDashboard(value: unknown, path: string, minMetricsInterval = 1000): ResolvedDashboard {
  const o = section(value, path, KEYS);
  const enabled = boolean(o.enabled, `${path}.enabled`, true);
  const minimum = level(o.level, `${path}.level`, 'info');
  const metrics = o.metrics === undefined ? DEFAULT_DASHBOARD_METRICS : o.metrics;
  checkMetricPatterns(metrics, `${path}.metrics`);
  if (metrics.length === 0) throw new TelemetryConfigError(`${path}.metrics`, metrics, 'at least one metric name or wildcard');
  return {
    enabled,
    title: title(o.title, `${path}.title`),
    liveMetricsPath: optionalPath(o.liveMetricsPath, `${path}.liveMetricsPath`),
    liveTracingPath: optionalPath(o.liveTracingPath, `${path}.liveTracingPath`),
    tokenPath: tokenPath(o.tokenPath, `${path}.tokenPath`),
    historyPath: optionalPath(o.historyPath, `${path}.historyPath`),
    alertsPath: optionalPath(o.alertsPath, `${path}.alertsPath`),
    maxRows: integer(o.maxRows, `${path}.maxRows`, 500, 1, 100_000),
    metrics: [...metrics],
    metricsInterval: integer(
      o.metricsInterval,
      `${path}.metricsInterval`,
      Math.max(1000, minMetricsInterval),
      minMetricsInterval,
      86_400_000,
    ),
    level: minimum,
  };
}

function title(value: unknown, path: string): string {
  if (value === undefined) return 'mail-telemetry';
  // Control characters have no business in a title, and a newline would break the page's layout.
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_TITLE || /\p{Cc}/u.test(value))
    throw new TelemetryConfigError(path, value, `a non-empty string of at most ${MAX_TITLE} characters, no control characters`);
  return value;
}

/**
 * A same-origin path: no scheme, no `//host`, no query or fragment (the page adds its own query),
 * no backslash (browsers read it as `/`), no whitespace.
 */
function streamPath(value: unknown, path: string): string {
  if (
    typeof value !== 'string' ||
    value === '' ||
    value.length > MAX_PATH ||
    value.startsWith('//') ||
    /^[A-Za-z][A-Za-z0-9+.-]*:/.test(value) ||
    /[?#\\\s\p{Cc}]/u.test(value)
  )
    throw new TelemetryConfigError(
      path,
      value,
      'a same-origin path such as "/api/live/metrics", without scheme, host, query or fragment',
    );
  return value;
}

function optionalPath(value: unknown, path: string): string | undefined {
  return value === undefined ? undefined : streamPath(value, path);
}

function tokenPath(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  const checked = streamPath(value, path);
  if (!checked.includes('{scope}'))
    throw new TelemetryConfigError(path, value, 'a same-origin path with {scope}, such as "/api/token/{scope}"');
  return checked;
}
