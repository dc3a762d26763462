import { TelemetryConfigError } from '../base/errors.js';
import { duration, HIDDEN, integer, nonEmptyString, oneOf, record, secret, section } from '../base/validate.js';

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
}

const KEYS = new Set(['naming', 'prefix', 'include', 'exclude', 'defaultLabels', 'maxSeries', 'memoryInterval', 'auth']);
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Validates `options.metrics`; nothing is shared from the composition root. */
export function resolveMetricsOptions(value: unknown, path = 'options.metrics'): ResolvedMetricsOptions {
  const m = section(value, path, KEYS);
  const naming = oneOf(m.naming, `${path}.naming`, 'prometheus', ['prometheus', 'stalwart']);
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
  };
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
