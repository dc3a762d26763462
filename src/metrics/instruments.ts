/** Label values of a series, by label name. */
export type Labels<L extends string> = { readonly [K in L]: string };

/** The arguments of a labelled or unlabelled update: labels first when the metric has any. */
export type UpdateArgs<L extends string> = [L] extends [never] ? [value?: number] : [labels: Labels<L>, value?: number];

/** The label value every label takes in the overflow series of a metric past its cardinality cap. */
export const OVERFLOW_VALUE = '__overflow__';

/** What an instrument reports to its registry. */
export interface InstrumentHost {
  rejected(metric: string, reason: string, value: unknown): void;
  /** Set while someone listens to histogram observations (an exporter such as the OTel bridge). */
  observed: ((histogram: Histogram, labels: readonly string[], value: number) => void) | undefined;
}

/** One labelled time series of a counter or gauge. */
export interface ValueSeries {
  readonly labels: readonly string[];
  value: number;
}

/** One labelled time series of a histogram; `counts` are per bucket (not cumulative), the last is +Inf. */
export interface HistogramSeries {
  readonly labels: readonly string[];
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

type Tree<S> = Map<string, S | Tree<S>>;

/**
 * Series storage shared by every kind: a map per label level (no key strings built per update),
 * a cap on the number of series, and an overflow series past the cap.
 */
abstract class Instrument<S extends { readonly labels: readonly string[] }> {
  /**
   * A counter's series for `inc()` with no labels: its one series, or for a labelled counter a
   * stand-in that refuses the update. Declared first and here, not in the subclass, where V8
   * keeps it in-object.
   */
  protected only: S | undefined = undefined;
  readonly name: string;
  readonly help: string;
  readonly unit: string;
  readonly labelNames: readonly string[];
  readonly maxSeries: number;
  /** Updates that went to the overflow series because the cap was reached. */
  overflowed = 0;
  /** Updates refused for bad values or labels. */
  rejected = 0;
  protected readonly host: InstrumentHost;
  #unlabelled: S | undefined;
  readonly #tree: Tree<S> = new Map();
  readonly #all: S[] = [];
  #overflow: S | undefined;

  constructor(name: string, help: string, unit: string, labelNames: readonly string[], maxSeries: number, host: InstrumentHost) {
    this.name = name;
    this.help = help;
    this.unit = unit;
    this.labelNames = labelNames;
    this.maxSeries = maxSeries;
    this.host = host;
  }

  protected abstract create(labels: readonly string[]): S;

  /** Every series, in creation order; an unlabelled metric always has its one series. */
  series(): readonly S[] {
    if (this.labelNames.length === 0) this.#unlabelled ??= this.#add([]);
    return this.#all;
  }

  /** The series for `labels`, created on first use; undefined (and counted) for bad labels. */
  protected resolve(labels: unknown): S | undefined {
    if (this.labelNames.length === 0) {
      this.#unlabelled ??= this.#add([]);
      return this.#unlabelled;
    }
    if (typeof labels !== 'object' || labels === null) return this.reject('labels must be an object', labels);
    const record = labels as Record<string, unknown>;
    const names = this.labelNames;
    const last = names.length - 1;
    let node: Tree<S> = this.#tree;
    for (let i = 0; i < last; i++) {
      const value = record[names[i] as string];
      const next = typeof value === 'string' ? (node.get(value) as Tree<S> | undefined) : undefined;
      if (next === undefined) return this.#miss(record);
      node = next;
    }
    const value = record[names[last] as string];
    const found = typeof value === 'string' ? (node.get(value) as S | undefined) : undefined;
    if (found === undefined) return this.#miss(record);
    // A hit still refuses a label the metric does not have.
    let keys = 0;
    for (const _ in record) keys++;
    return keys === names.length ? found : this.#unknownLabel(record);
  }

  /** No series yet for these labels: check them all, then create one (or overflow past the cap). */
  #miss(record: Record<string, unknown>): S | undefined {
    const names = this.labelNames;
    if (names.some((name) => typeof record[name] !== 'string')) return this.#badLabels(record);
    if (Object.keys(record).length !== names.length) return this.#unknownLabel(record);
    if (this.#all.length >= this.maxSeries) return this.#overflowSeries();
    let node: Tree<S> = this.#tree;
    for (let i = 0; i < names.length - 1; i++) {
      const value = record[names[i] as string] as string;
      let next = node.get(value) as Tree<S> | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(value, next);
      }
      node = next;
    }
    const series = this.#add(names.map((name) => record[name] as string));
    node.set(record[names[names.length - 1] as string] as string, series);
    return series;
  }

  protected reject(reason: string, value: unknown): undefined {
    this.rejected++;
    this.host.rejected(this.name, reason, value);
    return undefined;
  }

  #unknownLabel(record: Record<string, unknown>): undefined {
    const unknown = Object.keys(record).find((key) => !this.labelNames.includes(key));
    return this.reject(`unknown label "${unknown}"`, record);
  }

  #badLabels(record: Record<string, unknown>): undefined {
    const missing = this.labelNames.find((name) => typeof record[name] !== 'string');
    return this.reject(`label "${missing}" must be a string`, record);
  }

  #overflowSeries(): S {
    this.overflowed++;
    this.#overflow ??= this.#add(
      this.labelNames.map(() => OVERFLOW_VALUE),
      true,
    );
    return this.#overflow;
  }

  #add(labels: readonly string[], overflow = false): S {
    const series = this.create(labels);
    if (!overflow) this.#all.push(series);
    return series;
  }

  /** Every series including the overflow one, for export. */
  exportSeries(): readonly S[] {
    const all = this.series();
    return this.#overflow === undefined ? all : [...all, this.#overflow];
  }
}

/** A monotonic counter. */
export class Counter extends Instrument<ValueSeries> {
  constructor(name: string, help: string, unit: string, labelNames: readonly string[], maxSeries: number, host: InstrumentHost) {
    super(name, help, unit, labelNames, maxSeries, host);
    // A labelled counter gets a stand-in that refuses the update, so inc() needs no branch.
    this.only = labelNames.length === 0 ? this.resolve(undefined) : this.#missingLabels();
  }

  #missingLabels(): ValueSeries {
    const refuse = () => this.reject(`labels are required: ${this.labelNames.join(', ')}`, undefined);
    return {
      labels: [],
      get value() {
        return 0;
      },
      set value(_: number) {
        refuse();
      },
    };
  }

  // A getter, not a field: fields added by a subclass slow down access to the base's fields.
  get kind(): 'counter' {
    return 'counter';
  }

  protected create(labels: readonly string[]): ValueSeries {
    // `value` first: a shape of its own, apart from gauges' `{ labels, value }` that hold doubles,
    // so an increment stays a small-integer add. (A class here measured slower than a literal.)
    return { value: 0, labels };
  }

  /** Adds `value` (default 1); a negative or non-finite value is refused and counted. */
  inc(first?: unknown, second?: unknown): void {
    // Kept tiny and branch-free for inc(): V8 inlines it into one add (or the stand-in's refusal).
    if (first === undefined) (this.only as ValueSeries).value++;
    else this.#add(first, second);
  }

  #add(first: unknown, second: unknown): void {
    const labelled = this.labelNames.length > 0;
    const given = labelled ? second : first;
    const value = given === undefined ? 1 : given;
    if (typeof value !== 'number' || !(value >= 0) || value === Number.POSITIVE_INFINITY) {
      this.reject('counter increments must be finite and non-negative', value);
      return;
    }
    const series = this.resolve(labelled ? first : undefined);
    if (series !== undefined) series.value += value;
  }

  /** A child bound to one label set, for hot paths. */
  labels(labels?: unknown): { inc(value?: number): void } {
    const series = this.resolve(labels);
    return {
      inc: (value: unknown = 1) => {
        if (typeof value !== 'number' || !(value >= 0) || value === Number.POSITIVE_INFINITY) {
          this.reject('counter increments must be finite and non-negative', value);
        } else if (series !== undefined) series.value += value;
      },
    };
  }
}

/** A value that goes up and down. */
export class Gauge extends Instrument<ValueSeries> {
  get kind(): 'gauge' {
    return 'gauge';
  }

  protected create(labels: readonly string[]): ValueSeries {
    return { labels, value: 0 };
  }

  /** Sets the value; a non-finite value is refused and counted. */
  set(first?: unknown, second?: unknown): void {
    this.#update(first, second, false, 1);
  }

  /** Adds `value` (default 1). */
  inc(first?: unknown, second?: unknown): void {
    this.#update(first, second, true, 1);
  }

  /** Subtracts `value` (default 1). */
  dec(first?: unknown, second?: unknown): void {
    this.#update(first, second, true, -1);
  }

  /** Adds a finite `delta` to the unlabelled series: the path of the catalogue's event-fed gauges. */
  step(delta: number): void {
    const series = this.resolve(undefined);
    if (series !== undefined) series.value += delta;
  }

  #update(first: unknown, second: unknown, relative: boolean, sign: number): void {
    const labelled = this.labelNames.length > 0;
    const raw = labelled ? second : first;
    const value = raw === undefined && relative ? 1 : raw;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.reject('gauge values must be finite numbers', value);
      return;
    }
    const series = this.resolve(labelled ? first : undefined);
    if (series === undefined) return;
    series.value = relative ? series.value + sign * value : value;
  }
}

/** A histogram over fixed upper bounds (`le`, inclusive); the last bucket is +Inf. */
export class Histogram extends Instrument<HistogramSeries> {
  get kind(): 'histogram' {
    return 'histogram';
  }

  readonly bounds: readonly number[];
  /** Values <= 0 are skipped rather than refused (for lookups that report 0 when cached). */
  readonly positiveOnly: boolean;

  constructor(
    name: string,
    help: string,
    unit: string,
    labelNames: readonly string[],
    maxSeries: number,
    host: InstrumentHost,
    bounds: readonly number[],
    positiveOnly = false,
  ) {
    super(name, help, unit, labelNames, maxSeries, host);
    this.bounds = bounds;
    this.positiveOnly = positiveOnly;
  }

  protected create(labels: readonly string[]): HistogramSeries {
    return { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  /** Records one value; NaN, infinite and negative values are refused and counted. */
  observe(first?: unknown, second?: unknown): void {
    const labelled = this.labelNames.length > 0;
    const value = labelled ? second : first;
    if (typeof value !== 'number' || !(value >= 0) || value === Number.POSITIVE_INFINITY) {
      this.reject('observations must be finite and non-negative numbers', value);
      return;
    }
    if (this.positiveOnly && value === 0) return;
    const series = this.resolve(labelled ? first : undefined);
    if (series === undefined) return;
    record(series, this.bounds, value);
    if (this.host.observed !== undefined) this.host.observed(this, series.labels, value);
  }
}

function record(series: HistogramSeries, bounds: readonly number[], value: number): void {
  let i = 0;
  const n = bounds.length;
  while (i < n && value > (bounds[i] as number)) i++;
  series.counts[i] = (series.counts[i] as number) + 1;
  series.sum += value;
  series.count++;
}

/** Any instrument. */
export type AnyInstrument = Counter | Gauge | Histogram;

/** A counter as the typed API shows it. */
export interface CounterMetric<L extends string = never> {
  readonly name: string;
  /** Adds `value` (default 1). Labels come first when the counter has any. */
  inc(...args: UpdateArgs<L>): void;
  /** A child bound to one label set: no lookup per update. */
  labels(...labels: [L] extends [never] ? [] : [Labels<L>]): { inc(value?: number): void };
}

/** A gauge as the typed API shows it. */
export interface GaugeMetric<L extends string = never> {
  readonly name: string;
  set(...args: [L] extends [never] ? [value: number] : [labels: Labels<L>, value: number]): void;
  inc(...args: UpdateArgs<L>): void;
  dec(...args: UpdateArgs<L>): void;
}

/** A histogram as the typed API shows it. */
export interface HistogramMetric<L extends string = never> {
  readonly name: string;
  readonly bounds: readonly number[];
  observe(...args: [L] extends [never] ? [value: number] : [labels: Labels<L>, value: number]): void;
}
