import { TelemetryConfigError } from '../base/errors.js';
import { checkMetricPatterns, matchPattern } from '../base/patterns.js';
import type { Catalog } from '../catalog/catalog.js';
import { BUILTIN_METRICS, type MetricRow } from '../catalog/generated.js';
import { type ExpositionCache, type ExpositionFormat, exportedNames, expose } from './exposition.js';
import {
  type AnyInstrument,
  Counter,
  type CounterMetric,
  Gauge,
  type GaugeMetric,
  Histogram,
  type HistogramMetric,
  type HistogramSeries,
  type InstrumentHost,
  type ValueSeries,
} from './instruments.js';
import { EXPORT_NAME, type ResolvedMetricsOptions } from './options.js';

const METRIC_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** The labels of every unlabelled series in a snapshot: one frozen object, not one per series and snapshot. */
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
/** Default buckets for host histograms, in seconds (prom-client's). */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Options of a host-defined metric. */
export interface MetricOptions<L extends string = never> {
  /** One line in plain English, used in Prometheus HELP. */
  readonly help: string;
  /**
   * Label names. Label values are strings.
   * @default []
   */
  readonly labels?: readonly L[];
  /**
   * The unit, appended to the exported name in `prometheus` naming (`seconds`, `bytes`, ...).
   * @default ''
   */
  readonly unit?: string;
  /**
   * Most series; past it, updates go to one overflow series whose labels are all `__overflow__`.
   * @default the registry's `maxSeries` (2000)
   */
  readonly maxSeries?: number;
  /**
   * The exported name, written as given in either naming (no prefix, unit or `_total` added), so
   * an existing dashboard keeps its queries: `zonemta_delivery_status`, `wildduck_auth_attempts_total`.
   * @default derived from the name and the registry's naming
   */
  readonly exportName?: string;
}

/** Options of a host-defined histogram. */
export interface HistogramOptions<L extends string = never> extends MetricOptions<L> {
  /**
   * Bucket upper bounds, ascending; +Inf is added.
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
   */
  readonly buckets?: readonly number[];
}

/** A metric's series as plain data. Histogram `counts` are cumulative, the last one is +Inf. */
export type SeriesSnapshot =
  | { readonly labels: Readonly<Record<string, string>>; readonly value: number }
  | {
      readonly labels: Readonly<Record<string, string>>;
      readonly bounds: readonly number[];
      readonly counts: readonly number[];
      readonly sum: number;
      readonly count: number;
    };

/** One metric as plain data. */
export interface MetricSnapshot {
  readonly name: string;
  readonly kind: 'counter' | 'gauge' | 'histogram';
  /** The unit values are in: `milliseconds`, `bytes`, `events`, ... */
  readonly unit: string;
  readonly help: string;
  readonly series: readonly SeriesSnapshot[];
}

/** Every metric value at one instant. */
export interface MetricsSnapshot {
  readonly timestamp: number;
  readonly metrics: readonly MetricSnapshot[];
}

/** A metric as the exporters walk it: either an event counter or an instrument. */
export interface Collected {
  readonly name: string;
  readonly kind: 'counter' | 'gauge' | 'histogram';
  readonly unit: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly bounds?: readonly number[];
  /** True for the catalogue's metrics, whose units are converted in `prometheus` naming. */
  readonly builtin: boolean;
  /** The exported name in `prometheus` naming, after the prefix, where the catalogue sets one. */
  readonly prometheusName?: string;
  /** The exported name the host gave (`exportName`), written as is. */
  readonly exportName?: string;
  readonly series: readonly (ValueSeries | HistogramSeries)[];
}

/** Validated options of a host metric. */
interface CheckedOptions {
  readonly help: string;
  readonly labels: readonly string[];
  readonly unit: string;
  readonly maxSeries: number;
}

/** One metric an event feeds: a gauge step, or an observation of one of the event's keys. */
class Feed {
  constructor(
    readonly gauge: Gauge | undefined,
    readonly step: number,
    readonly histogram: Histogram | undefined,
    readonly key: string,
  ) {}
}

/** Counters, gauges and histograms: the catalogue's, fed by events, and the host's own. */
export class MetricsRegistry {
  readonly options: ResolvedMetricsOptions;
  readonly #catalog: Catalog;
  readonly #eventCounts: Float64Array;
  readonly #builtin = new Map<string, Gauge | Histogram>();
  readonly #host = new Map<string, AnyInstrument>();
  /** Host metrics' own exported names. */
  readonly #hostExportNames = new Map<string, string>();
  readonly #feeds: (Feed[] | undefined)[];
  readonly #instrumentHost: InstrumentHost;
  readonly #now: () => number;
  readonly #active = new Map<string, boolean>();
  #usedNames: Set<string> | undefined;
  #memorySampledAt = Number.NEGATIVE_INFINITY;
  /** Rendered headers and line prefixes, reused across scrapes. */
  readonly expositionCache: ExpositionCache = new Map();
  readonly #observers = new Set<(metric: string, labels: Readonly<Record<string, string>>, value: number) => void>();
  /** Updates refused for bad values or labels, across all metrics. */
  rejected = 0;

  constructor(
    catalog: Catalog,
    options: ResolvedMetricsOptions,
    eventCounts: Float64Array,
    now: () => number,
    onReject: (metric: string, reason: string, value: unknown) => void,
  ) {
    this.options = options;
    this.#catalog = catalog;
    this.#eventCounts = eventCounts;
    this.#now = now;
    checkMetricPatterns(options.include, 'options.metrics.include');
    checkMetricPatterns(options.exclude, 'options.metrics.exclude');
    this.#instrumentHost = {
      rejected: (metric, reason, value) => {
        this.rejected++;
        onReject(metric, reason, value);
      },
      observed: undefined,
    };
    for (const row of BUILTIN_METRICS as readonly MetricRow[]) {
      const instrument =
        row.kind === 'gauge'
          ? new Gauge(row.name, row.description, row.unit, [], 1, this.#instrumentHost)
          : new Histogram(
              row.name,
              row.description,
              row.unit,
              [],
              1,
              this.#instrumentHost,
              row.buckets ?? [],
              row.observe?.positive,
            );
      this.#builtin.set(row.name, instrument);
    }
    this.#feeds = this.#compileFeeds();
  }

  /** True when `name` (an event counter or a metric) passes the include and exclude lists. */
  active(name: string): boolean {
    let active = this.#active.get(name);
    if (active === undefined) {
      const { include, exclude } = this.options;
      active = include.some((p) => matchPattern(p, name)) && !exclude.some((p) => matchPattern(p, name));
      this.#active.set(name, active);
    }
    return active;
  }

  /** True when event `id` feeds an active gauge or histogram. */
  feeds(id: number): boolean {
    return this.#feeds[id] !== undefined;
  }

  /** Applies event `id`'s data to the metrics it feeds. */
  feed(id: number, data: unknown): void {
    const feeds = this.#feeds[id];
    if (feeds === undefined) return;
    const record = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : undefined;
    // One shape for every feed keeps these loads monomorphic on the emit path.
    for (let i = 0; i < feeds.length; i++) {
      const feed = feeds[i] as Feed;
      if (feed.histogram === undefined) feed.gauge?.step(feed.step);
      else {
        const value = record?.[feed.key];
        if (value !== undefined) feed.histogram.observe(value);
      }
    }
  }

  #compileFeeds(): (Feed[] | undefined)[] {
    const feeds = new Array<Feed[] | undefined>(this.#catalog.idSpace).fill(undefined);
    // One feed per event a row's patterns match; an exact name is looked up, not matched against
    // every event (27 rows over some 350 events, for every instance).
    const add = (patterns: readonly string[] | undefined, make: () => Feed) => {
      if (patterns === undefined) return;
      const matched = new Set<number>();
      for (const pattern of patterns) {
        if (!pattern.includes('*')) {
          const event = this.#catalog.get(pattern);
          if (event !== undefined) matched.add(event.id);
          continue;
        }
        for (const event of this.#catalog.events) if (matchPattern(pattern, event.name)) matched.add(event.id);
      }
      for (const id of matched) {
        feeds[id] ??= [];
        feeds[id]?.push(make());
      }
    };
    for (const row of BUILTIN_METRICS as readonly MetricRow[]) {
      if (!this.active(row.name)) continue;
      const instrument = this.#builtin.get(row.name);
      if (instrument instanceof Gauge) {
        add(row.inc, () => new Feed(instrument, 1, undefined, ''));
        add(row.dec, () => new Feed(instrument, -1, undefined, ''));
      } else if (instrument instanceof Histogram && row.observe !== undefined) {
        const key = row.observe.key;
        add(row.observe.events, () => new Feed(undefined, 0, instrument, key));
      }
    }
    return feeds;
  }

  /**
   * Calls `listener` with every histogram observation from now on, for exporters that forward
   * them (the OpenTelemetry bridge). Returns the function that stops it.
   */
  onObserve(listener: (metric: string, labels: Readonly<Record<string, string>>, value: number) => void): () => void {
    this.#observers.add(listener);
    this.#instrumentHost.observed = (histogram, labels, value) => {
      if (!this.active(histogram.name)) return;
      const record = Object.fromEntries(histogram.labelNames.map((name, i) => [name, labels[i] as string]));
      for (const observer of this.#observers) observer(histogram.name, record, value);
    };
    return () => {
      this.#observers.delete(listener);
      if (this.#observers.size === 0) this.#instrumentHost.observed = undefined;
    };
  }

  /** Samples `server.memory` (resident set size). */
  sampleMemory(): void {
    (this.#builtin.get('server.memory') as Gauge).set(process.memoryUsage.rss());
    this.#memorySampledAt = this.#now();
  }

  /** A counter: the host's own, created on first call with these options. */
  counter<const L extends string = never>(name: string, options: MetricOptions<L>): CounterMetric<L> {
    return this.#define(
      name,
      'counter',
      options,
      (o) => new Counter(name, o.help, o.unit, o.labels, o.maxSeries, this.#instrumentHost),
    ) as CounterMetric<L>;
  }

  /** A gauge: a built-in one by name (such as `user.count`), or the host's own. */
  gauge<const L extends string = never>(name: string, options?: MetricOptions<L>): GaugeMetric<L> {
    const builtin = options === undefined ? this.#builtinOf(name, 'gauge') : undefined;
    if (builtin !== undefined) return builtin as unknown as GaugeMetric<L>;
    return this.#define(
      name,
      'gauge',
      options,
      (o) => new Gauge(name, o.help, o.unit, o.labels, o.maxSeries, this.#instrumentHost),
    ) as GaugeMetric<L>;
  }

  /** A histogram: a built-in one by name (such as `smtp.request-time`), or the host's own. */
  histogram<const L extends string = never>(name: string, options?: HistogramOptions<L>): HistogramMetric<L> {
    const builtin = options === undefined ? this.#builtinOf(name, 'histogram') : undefined;
    if (builtin !== undefined) return builtin as unknown as HistogramMetric<L>;
    return this.#define(name, 'histogram', options, (o) => {
      const path = `metrics.histogram(${JSON.stringify(name)}).buckets`;
      const buckets = options?.buckets ?? DEFAULT_BUCKETS;
      if (
        !Array.isArray(buckets) ||
        buckets.length === 0 ||
        buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= (buckets[i - 1] as number)))
      ) {
        throw new TelemetryConfigError(path, buckets, 'a non-empty ascending array of finite numbers');
      }
      return new Histogram(name, o.help, o.unit, o.labels, o.maxSeries, this.#instrumentHost, [...buckets]);
    }) as HistogramMetric<L>;
  }

  /** The catalogue's gauge or histogram `name`, if it is one; asking for the wrong kind throws. */
  #builtinOf(name: string, kind: 'gauge' | 'histogram'): Gauge | Histogram | undefined {
    const builtin = this.#builtin.get(name);
    if (builtin !== undefined && builtin.kind !== kind) {
      throw new TelemetryConfigError(`metrics.${kind}(${JSON.stringify(name)})`, name, `the name of a ${kind}`);
    }
    return builtin;
  }

  #define(
    name: string,
    kind: AnyInstrument['kind'],
    options: MetricOptions<string> | undefined,
    make: (checked: CheckedOptions) => AnyInstrument,
  ): AnyInstrument {
    const path = `metrics.${kind}(${JSON.stringify(name)})`;
    const existing = this.#host.get(name);
    if (existing !== undefined) {
      if (existing.kind !== kind) throw new TelemetryConfigError(path, name, `a name not already used by a ${existing.kind}`);
      return existing;
    }
    if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
      throw new TelemetryConfigError(path, name, 'a metric name of the form category.kebab-name');
    }
    if (this.#builtin.has(name) || this.#catalog.get(name)?.counter === true) {
      throw new TelemetryConfigError(path, name, 'a name that is not a built-in metric or event counter');
    }
    if (typeof options !== 'object' || options === null) {
      throw new TelemetryConfigError(`${path}.options`, options, 'options with at least `help`');
    }
    const instrument = make(this.#checkOptions(name, options));
    const exportName = options.exportName;
    if (exportName !== undefined && (typeof exportName !== 'string' || !EXPORT_NAME.test(exportName)))
      throw new TelemetryConfigError(
        `metrics(${JSON.stringify(name)}).exportName`,
        exportName,
        'a Prometheus metric name: letters, digits, _ and :, not starting with a digit',
      );
    const exported = exportedNames(
      { name, kind, unit: instrument.unit, builtin: false, ...(exportName === undefined ? {} : { exportName }) },
      this.options,
    );
    const used = this.#exportedNamesInUse();
    const clash = exported.find((n) => used.has(n));
    if (clash !== undefined)
      throw new TelemetryConfigError(path, name, `a name whose exported name ${clash} is not already taken`);
    for (const n of exported) used.add(n);
    this.#host.set(name, instrument);
    if (exportName !== undefined) this.#hostExportNames.set(name, exportName);
    return instrument;
  }

  #exportedNamesInUse(): Set<string> {
    if (this.#usedNames !== undefined) return this.#usedNames;
    const used = new Set<string>();
    for (const event of this.#catalog.events) {
      if (event.counter)
        for (const n of exportedNames({ name: event.name, kind: 'counter', unit: 'events', builtin: true }, this.options))
          used.add(n);
    }
    for (const row of BUILTIN_METRICS as readonly MetricRow[]) {
      const metric = {
        name: row.name,
        kind: row.kind,
        unit: row.unit,
        builtin: true,
        ...(row.prometheusName ? { prometheusName: row.prometheusName } : {}),
      };
      for (const n of exportedNames(metric, this.options)) used.add(n);
    }
    this.#usedNames = used;
    return used;
  }

  #checkOptions(name: string, options: MetricOptions<string>): CheckedOptions {
    const path = `metrics(${JSON.stringify(name)})`;
    const o = options;
    if (typeof o.help !== 'string' || o.help.trim() === '' || /[\r\n]/.test(o.help)) {
      throw new TelemetryConfigError(`${path}.help`, o.help, 'a non-empty one-line string');
    }
    const labels = o.labels === undefined ? [] : o.labels;
    if (
      !Array.isArray(labels) ||
      labels.some((l) => typeof l !== 'string' || !LABEL_NAME.test(l) || l.startsWith('__') || l === 'le')
    ) {
      throw new TelemetryConfigError(`${path}.labels`, labels, 'an array of label names (letters, digits, _; not le or __*)');
    }
    if (new Set(labels).size !== labels.length || labels.some((l) => Object.hasOwn(this.options.defaultLabels, l))) {
      throw new TelemetryConfigError(`${path}.labels`, labels, 'distinct label names not used by defaultLabels');
    }
    const unit = o.unit === undefined ? '' : o.unit;
    if (typeof unit !== 'string' || !/^[a-z]*$/.test(unit))
      throw new TelemetryConfigError(`${path}.unit`, unit, 'lowercase letters, such as seconds or bytes');
    const maxSeries = o.maxSeries === undefined ? this.options.maxSeries : o.maxSeries;
    if (!Number.isSafeInteger(maxSeries) || maxSeries < 1)
      throw new TelemetryConfigError(`${path}.maxSeries`, maxSeries, 'a positive integer');
    return { help: o.help, labels: labels as readonly string[], unit, maxSeries };
  }

  /**
   * Walks every active metric: event counters, the catalogue's gauges and histograms, then the host's.
   * With `only`, just the metrics it names, so a reader of a few metrics does not copy all of them.
   */
  collect(only?: ReadonlySet<string>): Collected[] {
    const out: Collected[] = [];
    for (const event of this.#catalog.events) {
      if (!event.counter || (only !== undefined && !only.has(event.name)) || !this.active(event.name)) continue;
      out.push({
        name: event.name,
        kind: 'counter',
        unit: 'events',
        help: event.description,
        labelNames: [],
        builtin: true,
        series: [{ labels: [], value: this.#eventCounts[event.id] ?? 0 }],
      });
    }
    // Fresh for each scrape, but at most once a second: reading it costs a syscall.
    const memory = only === undefined || only.has('server.memory');
    if (memory && this.active('server.memory') && this.#now() - this.#memorySampledAt >= 1000) this.sampleMemory();
    for (const row of BUILTIN_METRICS as readonly MetricRow[]) {
      if ((only !== undefined && !only.has(row.name)) || !this.active(row.name)) continue;
      const instrument = this.#builtin.get(row.name) as Gauge | Histogram;
      const described = describe(instrument, true);
      out.push(row.prometheusName === undefined ? described : { ...described, prometheusName: row.prometheusName });
    }
    for (const instrument of this.#host.values()) {
      if ((only !== undefined && !only.has(instrument.name)) || !this.active(instrument.name)) continue;
      const exportName = this.#hostExportNames.get(instrument.name);
      const described = describe(instrument, false);
      out.push(exportName === undefined ? described : { ...described, exportName });
    }
    return out;
  }

  /** The Prometheus exposition of every metric, as text 0.0.4 or OpenMetrics. */
  prometheus(format: ExpositionFormat = 'text'): string {
    return expose(this.collect(), this.options, format, this.expositionCache);
  }

  /** Every value as plain data, or the values of the metrics `only` names; histogram counts are cumulative. */
  snapshot(only?: ReadonlySet<string>): MetricsSnapshot {
    const metrics = this.collect(only).map(
      (m): MetricSnapshot => ({
        name: m.name,
        kind: m.kind,
        unit: m.unit,
        help: m.help,
        series: m.series.map((s) => {
          const labels =
            m.labelNames.length === 0
              ? NO_LABELS
              : Object.fromEntries(m.labelNames.map((name, i) => [name, s.labels[i] as string]));
          if (!('counts' in s)) return { labels, value: s.value };
          let running = 0;
          const counts = Array.from(s.counts, (c) => (running += c));
          return { labels, bounds: m.bounds ?? [], counts, sum: s.sum, count: s.count };
        }),
      }),
    );
    return { timestamp: this.#now(), metrics };
  }

  /** Stats of the host's metrics: series, overflowed and rejected updates. */
  stats(): { readonly rejected: number; readonly overflowed: number } {
    let overflowed = 0;
    for (const instrument of this.#host.values()) overflowed += instrument.overflowed;
    return { rejected: this.rejected, overflowed };
  }
}

function describe(instrument: AnyInstrument, builtin: boolean): Collected {
  return {
    name: instrument.name,
    kind: instrument.kind,
    unit: instrument.unit,
    help: instrument.help,
    labelNames: instrument.labelNames,
    builtin,
    series: instrument.exportSeries(),
    ...(instrument instanceof Histogram ? { bounds: instrument.bounds } : {}),
  };
}
