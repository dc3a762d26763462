import { TelemetryConfigError } from '../base/errors.js';
import { duration, HIDDEN, integer, nonEmptyString, oneOf, record, secret, section } from '../base/validate.js';
import { overrideStalwart, type StalwartSetting, type StalwartVersion } from '../stalwart/version.js';

/** Options of the metrics registry and its Prometheus exposition. */
export interface MetricsOptions {
  /**
   * `prometheus`: `prefix`, `_total` on counters, base units (seconds, bytes) in names and values.
   * `stalwart`: the names and units of a Stalwart scrape (`smtp_connection_start`, ms), for
   * existing dashboards.
   * @default 'prometheus'
   */
  readonly naming?: 'prometheus' | 'stalwart';
  /**
   * Prefix of every exported name in `prometheus` naming.
   * @default 'mail_'
   */
  readonly prefix?: string;
  /**
   * Metric names or wildcards to keep: event counters by event name (`smtp.*`), gauges and
   * histograms by metric name (`*.request-time`).
   * @default ['*']
   */
  readonly include?: readonly string[];
  /**
   * Metric names or wildcards to leave out, applied after `include`.
   * @default []
   */
  readonly exclude?: readonly string[];
  /**
   * Labels added to every exported series, such as `{ node: 'mx1' }`.
   * @default {}
   */
  readonly defaultLabels?: Readonly<Record<string, string>>;
  /**
   * Default cap on the series of one host metric.
   * @default 2000
   */
  readonly maxSeries?: number;
  /**
   * Milliseconds between samples of `server.memory` (also sampled at each scrape), on an unref'd timer.
   * @default 60_000
   */
  readonly memoryInterval?: number;
  /**
   * Basic auth required by `handlers.prometheus`, compared in constant time.
   * @default undefined (no auth)
   */
  readonly auth?: { readonly username: string; readonly password: string };
  /**
   * The exported name of a metric, by its registry name: a built-in one
   * (`{ 'auth.failed': 'wildduck_auth_attempts_total' }`) or a host one (which may also set
   * `exportName` itself). The name is written as given, in either naming, so an existing
   * dashboard's queries keep working beside the library's other metrics. A counter's name is its
   * sample name in the text format (`_total` or not, as given); OpenMetrics, which requires `_total`
   * on counter samples, names the family without it and the sample with it.
   * @default {}
   */
  readonly exportNames?: Readonly<Record<string, string>>;
  /**
   * The Stalwart version whose scrape `handlers.prometheus` writes (`false`: the library's own),
   * overriding the top-level `stalwart`. Under a version: Stalwart's names (`naming: 'stalwart'`),
   * the plain text format whatever the scraper asks for, zero counters and empty histograms left
   * out, and under `'0.15'` 0.15's names of renamed events (`queue_queue_message`).
   * @default the top-level `stalwart`
   */
  readonly stalwart?: StalwartSetting;
}

/** Validated metrics options with defaults applied. */
export interface ResolvedMetricsOptions {
  readonly naming: 'prometheus' | 'stalwart';
  readonly prefix: string;
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly defaultLabels: Readonly<Record<string, string>>;
  readonly maxSeries: number;
  readonly memoryInterval: number;
  readonly auth: { readonly username: string; readonly password: string } | undefined;
  /** Registry name -> exported name. */
  readonly exportNames: ReadonlyMap<string, string>;
  /** The Stalwart version of the scrape, if any. */
  readonly stalwart: StalwartVersion | undefined;
}

const KEYS = new Set([
  'naming',
  'prefix',
  'include',
  'exclude',
  'defaultLabels',
  'maxSeries',
  'memoryInterval',
  'auth',
  'exportNames',
  'stalwart',
]);
/** A Prometheus metric name. */
export const EXPORT_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Validates `options.metrics`; nothing is shared from the composition root. */
export function resolveMetricsOptions(
  value: unknown,
  path = 'options.metrics',
  inherited?: StalwartVersion,
): ResolvedMetricsOptions {
  const m = section(value, path, KEYS);
  const stalwart = overrideStalwart(m.stalwart, `${path}.stalwart`, inherited);
  const naming = oneOf(m.naming, `${path}.naming`, stalwart === undefined ? 'prometheus' : 'stalwart', [
    'prometheus',
    'stalwart',
  ]);
  if (stalwart !== undefined && naming !== 'stalwart')
    throw new TelemetryConfigError(
      `${path}.naming`,
      naming,
      `"stalwart" under stalwart: "${stalwart}"`,
      'a Stalwart scrape has Stalwart names; set metrics.stalwart: false for Prometheus naming',
    );
  const prefix = m.prefix === undefined ? 'mail_' : m.prefix;
  if (typeof prefix !== 'string' || !/^(?:[a-zA-Z_][a-zA-Z0-9_]*)?$/.test(prefix)) {
    throw new TelemetryConfigError(`${path}.prefix`, prefix, 'letters, digits and _, not starting with a digit');
  }
  const defaultLabels = record(
    m.defaultLabels === undefined ? {} : m.defaultLabels,
    `${path}.defaultLabels`,
    'an object of label name to string value',
  );
  for (const [name, label] of Object.entries(defaultLabels)) {
    if (!LABEL.test(name) || name.startsWith('__') || name === 'le') {
      throw new TelemetryConfigError(`${path}.defaultLabels`, name, 'label names of letters, digits and _ (not le or __*)');
    }
    if (typeof label !== 'string') throw new TelemetryConfigError(`${path}.defaultLabels.${name}`, label, 'a string');
  }
  const maxSeries = integer(m.maxSeries, `${path}.maxSeries`, 2000, 1);
  // The interval drives a timer, which takes no longer delay.
  const memoryInterval = duration(m.memoryInterval, `${path}.memoryInterval`, 60_000, 1);
  return {
    naming,
    prefix,
    include: m.include === undefined ? ['*'] : (m.include as readonly string[]),
    exclude: m.exclude === undefined ? [] : (m.exclude as readonly string[]),
    defaultLabels: defaultLabels as Record<string, string>,
    maxSeries,
    memoryInterval,
    auth: resolveAuth(m.auth, `${path}.auth`),
    exportNames: resolveExportNames(m.exportNames, `${path}.exportNames`),
    stalwart,
  };
}

function resolveExportNames(value: unknown, path: string): ReadonlyMap<string, string> {
  const o = record(value === undefined ? {} : value, path, 'an object of metric name to exported name');
  const out = new Map<string, string>();
  const taken = new Map<string, string>();
  for (const [metric, name] of Object.entries(o)) {
    const at = `${path}[${JSON.stringify(metric)}]`;
    if (!/^[a-z0-9][a-z0-9.-]*$/.test(metric))
      throw new TelemetryConfigError(at, metric, 'a metric or event name such as "auth.failed"');
    if (typeof name !== 'string' || !EXPORT_NAME.test(name))
      throw new TelemetryConfigError(at, name, 'a Prometheus metric name: letters, digits, _ and :, not starting with a digit');
    const family = name.replace(/_total$/, '');
    const clash = taken.get(family);
    if (clash !== undefined) throw new TelemetryConfigError(at, name, `a name not already given to ${JSON.stringify(clash)}`);
    taken.set(family, metric);
    out.set(metric, name);
  }
  return out;
}

const AUTH_KEYS = new Set(['username', 'password']);

function resolveAuth(auth: unknown, path: string): ResolvedMetricsOptions['auth'] {
  if (auth === undefined) return undefined;
  // Hidden: a string here is likely "user:password".
  if (typeof auth !== 'object' || auth === null || Array.isArray(auth))
    throw new TelemetryConfigError(path, HIDDEN, 'an object { username, password }');
  const o = auth as Record<string, unknown>;
  const extra = Object.keys(o).find((key) => !AUTH_KEYS.has(key));
  // An unknown key is named, its value never shown: it may be the password under another name.
  if (extra !== undefined) throw new TelemetryConfigError(`${path}.${extra}`, HIDDEN, 'only username and password');
  const username = nonEmptyString(o.username, `${path}.username`);
  if (username.includes(':')) throw new TelemetryConfigError(`${path}.username`, username, 'a user name without ":"');
  return { username, password: secret(o.password, `${path}.password`) };
}
