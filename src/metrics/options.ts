import { TelemetryConfigError } from '../base/errors.js';

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

export function resolveMetricsOptions(value: unknown): ResolvedMetricsOptions {
  const path = 'options.metrics';
  const o = value === undefined ? {} : value;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new TelemetryConfigError(path, o, 'an object');
  const m = o as Record<string, unknown>;
  for (const key of Object.keys(m)) {
    if (!KEYS.has(key))
      throw new TelemetryConfigError(`${path}.${key}`, key, `one of the known options: ${[...KEYS].join(', ')}`);
  }
  const naming = m.naming === undefined ? 'prometheus' : m.naming;
  if (naming !== 'prometheus' && naming !== 'stalwart')
    throw new TelemetryConfigError(`${path}.naming`, naming, '"prometheus" or "stalwart"');
  const prefix = m.prefix === undefined ? 'mail_' : m.prefix;
  if (typeof prefix !== 'string' || !/^(?:[a-zA-Z_][a-zA-Z0-9_]*)?$/.test(prefix)) {
    throw new TelemetryConfigError(`${path}.prefix`, prefix, 'letters, digits and _, not starting with a digit');
  }
  const defaultLabels = m.defaultLabels === undefined ? {} : m.defaultLabels;
  if (typeof defaultLabels !== 'object' || defaultLabels === null || Array.isArray(defaultLabels)) {
    throw new TelemetryConfigError(`${path}.defaultLabels`, defaultLabels, 'an object of label name to string value');
  }
  for (const [name, label] of Object.entries(defaultLabels)) {
    if (!LABEL.test(name) || name.startsWith('__') || name === 'le') {
      throw new TelemetryConfigError(`${path}.defaultLabels`, name, 'label names of letters, digits and _ (not le or __*)');
    }
    if (typeof label !== 'string') throw new TelemetryConfigError(`${path}.defaultLabels.${name}`, label, 'a string');
  }
  const maxSeries = m.maxSeries === undefined ? 2000 : m.maxSeries;
  if (typeof maxSeries !== 'number' || !Number.isSafeInteger(maxSeries) || maxSeries < 1) {
    throw new TelemetryConfigError(`${path}.maxSeries`, maxSeries, 'a positive integer');
  }
  const memoryInterval = m.memoryInterval === undefined ? 60_000 : m.memoryInterval;
  if (typeof memoryInterval !== 'number' || !Number.isFinite(memoryInterval) || memoryInterval <= 0) {
    throw new TelemetryConfigError(`${path}.memoryInterval`, memoryInterval, 'a positive number of milliseconds');
  }
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

function resolveAuth(auth: unknown, path: string): ResolvedMetricsOptions['auth'] {
  if (auth === undefined) return undefined;
  // Hidden: a string here is likely "user:password".
  if (typeof auth !== 'object' || auth === null)
    throw new TelemetryConfigError(path, '[hidden]', 'an object { username, password }');
  const { username, password, ...rest } = auth as Record<string, unknown>;
  if (Object.keys(rest).length > 0)
    throw new TelemetryConfigError(`${path}.${Object.keys(rest)[0]}`, '[hidden]', 'only username and password');
  if (typeof username !== 'string' || username === '' || username.includes(':')) {
    throw new TelemetryConfigError(`${path}.username`, username, 'a non-empty string without ":"');
  }
  // The password is never echoed back, not even in an error.
  if (typeof password !== 'string' || password === '')
    throw new TelemetryConfigError(`${path}.password`, '[hidden]', 'a non-empty string');
  return { username, password };
}
