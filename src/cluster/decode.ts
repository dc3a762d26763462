/**
 * The primary's side of the wire format. A worker is untrusted input as far as crashes go: every
 * field of its answer is checked here, nothing in it can throw, and whatever passes renders as a
 * valid exposition. A bad description or a bad series costs its metric alone.
 */
import { EXPORT_NAME } from '../metrics/options.js';
import { field, type SettingsWire, TAG, VERSION } from './protocol.js';

/** A metric as the primary knows it from a worker's description. */
export interface MetricMeta {
  readonly name: string;
  readonly kind: 'counter' | 'gauge' | 'histogram';
  readonly unit: string;
  readonly help: string;
  readonly builtin: boolean;
  readonly prometheusName: string | undefined;
  /** The host's `exportName`, written as given. */
  readonly exportName?: string;
  readonly labelNames: readonly string[];
  /** A histogram's bucket upper bounds, without +Inf; empty for a counter or gauge. */
  readonly bounds: readonly number[];
}

/** One series of a counter or gauge. */
export interface ValueSample {
  readonly labels: readonly string[];
  readonly value: number;
}

/** One series of a histogram, with cumulative counts: `cumulative[i]` counts values <= `bounds[i]`, the last is `count`. */
export interface HistogramSample {
  readonly labels: readonly string[];
  readonly bounds: readonly number[];
  readonly cumulative: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** The series of one metric from one worker. */
export type MetricSamples =
  | { readonly meta: MetricMeta & { readonly kind: 'counter' | 'gauge' }; readonly samples: readonly ValueSample[] }
  | { readonly meta: MetricMeta & { readonly kind: 'histogram' }; readonly samples: readonly HistogramSample[] };

/** A worker's answer whose frame passed the checks; descriptions that did not are null. */
export interface DecodedAnswer {
  readonly id: string | null;
  readonly instance: string;
  readonly settings: SettingsWire;
  readonly from: number;
  readonly meta: readonly (MetricMeta | null)[];
  readonly values: readonly unknown[];
  /** The wire name of the last description sent, whether or not it passed: the worker checks it next time. */
  readonly lastName: string | null;
  /** True when a description was refused. */
  readonly flawed: boolean;
}

/** Most metrics in one answer; a real worker has a few hundred. */
export const MAX_METRICS = 50_000;
const MAX_LABELS = 64;
const MAX_BOUNDS = 1_000;
const MAX_NAME = 256;
const MAX_HELP = 10_000;
const MAX_ID = 256;

const METRIC_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const PROMETHEUS_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const PREFIX = /^(?:[a-zA-Z_][a-zA-Z0-9_]*)?$/;
const UNIT = /^[a-z]{0,64}$/;
const EXPORTED_METRIC = /^[a-z0-9][a-z0-9.-]*$/;
/** Most `exportNames` entries a worker may send. */
const MAX_EXPORT_NAMES = 10_000;
// HELP may hold a newline (escaped on output) but no other control character.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/;

/** The checked frame of a tagged message, or undefined when it is not a valid metrics answer. */
export function decodeAnswer(message: object): DecodedAnswer | undefined {
  if (field(message, TAG) !== VERSION || field(message, 'type') !== 'metrics') return undefined;
  const id = field(message, 'id');
  const instance = field(message, 'instance');
  const from = field(message, 'from');
  const meta = field(message, 'meta');
  const values = field(message, 'values');
  if (id !== null && !(typeof id === 'string' && id.length > 0 && id.length <= MAX_ID)) return undefined;
  if (typeof instance !== 'string' || instance.length === 0 || instance.length > MAX_ID) return undefined;
  if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0) return undefined;
  if (!Array.isArray(meta) || !Array.isArray(values)) return undefined;
  if (values.length > MAX_METRICS || values.length !== from + meta.length) return undefined;
  const settings = decodeSettings(field(message, 'settings'));
  if (settings === undefined) return undefined;
  let flawed = false;
  const metas = meta.map((m: unknown) => {
    const decoded = decodeMeta(m);
    if (decoded === null) flawed = true;
    return decoded;
  });
  const lastName = meta.length === 0 ? null : nameOf(meta[meta.length - 1]);
  return { id, instance, settings, from, meta: metas, values, lastName, flawed };
}

function nameOf(value: unknown): string | null {
  const name = isRecord(value) ? field(value, 'name') : undefined;
  return typeof name === 'string' && name.length <= MAX_NAME ? name : null;
}

function decodeSettings(value: unknown): SettingsWire | undefined {
  if (!isRecord(value)) return undefined;
  const naming = field(value, 'naming');
  const prefix = field(value, 'prefix');
  const labels = field(value, 'defaultLabels');
  if (naming !== 'prometheus' && naming !== 'stalwart') return undefined;
  if (typeof prefix !== 'string' || prefix.length > MAX_NAME || !PREFIX.test(prefix)) return undefined;
  if (!isRecord(labels)) return undefined;
  const keys = Object.keys(labels);
  if (keys.length > MAX_LABELS) return undefined;
  const defaultLabels: Record<string, string> = {};
  for (const key of keys) {
    const label = field(labels, key);
    if (!labelName(key) || typeof label !== 'string') return undefined;
    Object.defineProperty(defaultLabels, key, { value: label, enumerable: true, writable: false });
  }
  // A worker of an earlier release sends neither: no export names, the library's shapes.
  const names = field(value, 'exportNames') ?? {};
  const stalwart = field(value, 'stalwart') ?? null;
  if (stalwart !== null && stalwart !== '0.15' && stalwart !== '0.16') return undefined;
  if (!isRecord(names)) return undefined;
  const metrics = Object.keys(names);
  if (metrics.length > MAX_EXPORT_NAMES) return undefined;
  const exportNames: Record<string, string> = {};
  for (const metric of metrics) {
    const name = field(names, metric);
    if (metric.length > MAX_NAME || !EXPORTED_METRIC.test(metric) || !exportName(name)) return undefined;
    Object.defineProperty(exportNames, metric, { value: name, enumerable: true, writable: false });
  }
  return { naming, prefix, defaultLabels, exportNames, stalwart };
}

/** A Prometheus metric name a host may export a metric under. */
function exportName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_NAME && EXPORT_NAME.test(name);
}

/** A checked description, or null. */
export function decodeMeta(value: unknown): MetricMeta | null {
  if (!isRecord(value)) return null;
  const name = field(value, 'name');
  const kind = field(value, 'kind');
  const unit = field(value, 'unit');
  const help = field(value, 'help');
  const builtin = field(value, 'builtin');
  const prometheusName = field(value, 'prometheusName');
  const exported = field(value, 'exportName') ?? null;
  const labels = field(value, 'labels');
  const bounds = field(value, 'bounds');
  if (typeof name !== 'string' || name.length > MAX_NAME || !METRIC_NAME.test(name)) return null;
  if (kind !== 'counter' && kind !== 'gauge' && kind !== 'histogram') return null;
  if (typeof unit !== 'string' || !UNIT.test(unit)) return null;
  if (typeof help !== 'string' || help.length > MAX_HELP || CONTROL.test(help)) return null;
  if (typeof builtin !== 'boolean') return null;
  if (
    prometheusName !== null &&
    !(typeof prometheusName === 'string' && prometheusName.length <= MAX_NAME && PROMETHEUS_NAME.test(prometheusName))
  )
    return null;
  if (exported !== null && !exportName(exported)) return null;
  const labelNames = decodeLabelNames(labels);
  if (labelNames === undefined) return null;
  let checkedBounds: readonly number[] = [];
  if (kind === 'histogram') {
    const decoded = decodeBounds(bounds);
    if (decoded === undefined) return null;
    checkedBounds = decoded;
  }
  return {
    name,
    kind,
    unit,
    help,
    builtin,
    prometheusName: prometheusName === null ? undefined : prometheusName,
    ...(exported === null ? {} : { exportName: exported }),
    labelNames,
    bounds: checkedBounds,
  };
}

function decodeLabelNames(value: unknown): readonly string[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_LABELS) return undefined;
  const names: string[] = [];
  for (const name of value as unknown[]) {
    if (typeof name !== 'string' || !labelName(name) || names.includes(name)) return undefined;
    names.push(name);
  }
  return names;
}

function decodeBounds(value: unknown): readonly number[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_BOUNDS) return undefined;
  const bounds: number[] = [];
  let previous = Number.NEGATIVE_INFINITY;
  for (const bound of value as unknown[]) {
    if (typeof bound !== 'number' || !Number.isFinite(bound)) return undefined;
    // Two bounds that print alike (`le` keeps 15 digits, after ms -> s) would make one series twice.
    const printed = Number(bound.toPrecision(12));
    if (!(printed > previous)) return undefined;
    previous = printed;
    bounds.push(bound);
  }
  return bounds;
}

/** A label name the exposition takes: not `le`, not reserved (`__`). */
export function labelName(name: string): boolean {
  return name.length <= MAX_NAME && LABEL_NAME.test(name) && name !== 'le' && !name.startsWith('__');
}

/** The series of metric `meta` from its flat values, or undefined when any is malformed. */
export function decodeSeries(meta: MetricMeta, values: unknown): MetricSamples | undefined {
  if (!Array.isArray(values)) return undefined;
  const flat = values as readonly unknown[];
  const width = meta.labelNames.length;
  if (meta.kind !== 'histogram') {
    const stride = width + 1;
    if (flat.length % stride !== 0) return undefined;
    const samples: ValueSample[] = [];
    for (let at = 0; at < flat.length; at += stride) {
      const labels = readLabels(flat, at, width);
      const value = flat[at + width];
      if (labels === undefined || typeof value !== 'number' || !Number.isFinite(value)) return undefined;
      if (meta.kind === 'counter' && value < 0) return undefined;
      samples.push({ labels, value });
    }
    return { meta: meta as MetricMeta & { kind: 'counter' | 'gauge' }, samples };
  }
  const buckets = meta.bounds.length + 1;
  const stride = width + 2 + buckets;
  if (flat.length % stride !== 0) return undefined;
  const samples: HistogramSample[] = [];
  for (let at = 0; at < flat.length; at += stride) {
    const labels = readLabels(flat, at, width);
    const sum = flat[at + width];
    const count = flat[at + width + 1];
    if (labels === undefined || typeof sum !== 'number' || !Number.isFinite(sum) || sum < 0) return undefined;
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) return undefined;
    const cumulative: number[] = new Array(buckets);
    let running = 0;
    for (let b = 0; b < buckets; b++) {
      const n = flat[at + width + 2 + b];
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return undefined;
      running += n;
      cumulative[b] = running;
    }
    if (running !== count) return undefined;
    samples.push({ labels, bounds: meta.bounds, cumulative, sum, count });
  }
  return { meta: meta as MetricMeta & { kind: 'histogram' }, samples };
}

function readLabels(flat: readonly unknown[], at: number, width: number): string[] | undefined {
  const labels: string[] = new Array(width);
  for (let i = 0; i < width; i++) {
    const label = flat[at + i];
    if (typeof label !== 'string') return undefined;
    labels[i] = label;
  }
  return labels;
}

function isRecord(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
