import { wireName } from '../stalwart/names.js';
import type { HistogramSeries, ValueSeries } from './instruments.js';
import type { ResolvedMetricsOptions } from './options.js';
import type { Collected } from './registry.js';

/** `text`: Prometheus text format 0.0.4; `openmetrics`: OpenMetrics 1.0. */
export type ExpositionFormat = 'text' | 'openmetrics';

/** The Content-Type of each format. */
export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** How one metric is named and scaled on export. */
interface Naming {
  /** The metric family name (OpenMetrics'; text 0.0.4's too, except for counters). */
  readonly family: string;
  /** A counter's sample name in text 0.0.4, which is also its family name there. */
  readonly counterSample: string;
  /** The OpenMetrics unit, when the name ends with it. */
  readonly unit: string;
  /** Multiplier from stored values to exported ones (ms -> s). */
  readonly scale: number;
}

/** What never changes about one metric's exposition: headers, names and, unlabelled, whole line prefixes. */
interface Rendered {
  readonly header: string;
  readonly name: string;
  readonly scale: number;
  /** For an unlabelled metric: `name{default labels} `, or per bucket `name_bucket{...,le="b"} `. */
  readonly prefixes?: readonly string[];
}

/** Per-registry cache of {@link Rendered}, by format and metric name. */
export type ExpositionCache = Map<string, Rendered>;

/** Renders metrics in the Prometheus text format or OpenMetrics. Histogram buckets are cumulative. */
export function expose(
  metrics: readonly Collected[],
  options: ResolvedMetricsOptions,
  format: ExpositionFormat,
  cache: ExpositionCache = new Map(),
): string {
  const base = Object.entries(options.defaultLabels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  // Stalwart leaves out counters that are zero and histograms without samples (collect_counters).
  const omitZero = options.stalwart !== undefined;
  let out = '';
  for (const metric of metrics) {
    if (omitZero && empty(metric)) continue;
    const key = `${format}|${metric.name}`;
    let rendered = cache.get(key);
    if (rendered === undefined) {
      rendered = render(metric, options, format, base);
      cache.set(key, rendered);
    }
    out += rendered.header;
    const prefixes = rendered.prefixes;
    if (prefixes !== undefined && metric.labelNames.length === 0) {
      const series = metric.series[0];
      if (series === undefined) continue;
      if (metric.kind !== 'histogram') {
        out += `${prefixes[0]}${number((series as ValueSeries).value * rendered.scale)}\n`;
        continue;
      }
      const h = series as HistogramSeries;
      let cumulative = 0;
      for (let i = 0; i < h.counts.length; i++) {
        cumulative += h.counts[i] as number;
        out += `${prefixes[i]}${cumulative}\n`;
      }
      out += `${prefixes[h.counts.length]}${number(h.sum * rendered.scale)}\n${prefixes[h.counts.length + 1]}${h.count}\n`;
      continue;
    }
    for (const series of metric.series) {
      if (omitZero && emptySeries(metric.kind, series)) continue;
      const labels = base.concat(metric.labelNames.map((label, i) => `${label}="${escapeLabel(series.labels[i] ?? '')}"`));
      if (metric.kind === 'histogram')
        out += histogramLines(rendered.name, labels, series as HistogramSeries, metric.bounds ?? [], rendered.scale);
      else out += `${rendered.name}${braces(labels)} ${number((series as ValueSeries).value * rendered.scale)}\n`;
    }
  }
  return format === 'openmetrics' ? `${out}# EOF\n` : out;
}

function render(metric: Collected, options: ResolvedMetricsOptions, format: ExpositionFormat, base: readonly string[]): Rendered {
  const naming = nameOf(metric, options);
  const counter = metric.kind === 'counter';
  // Prometheus text names a counter family with its _total; OpenMetrics names it without.
  const sample = counter ? naming.counterSample : naming.family;
  const family = format === 'openmetrics' ? naming.family : sample;
  let header = `# HELP ${family} ${escapeHelp(metric.help, format)}\n# TYPE ${family} ${metric.kind}\n`;
  if (format === 'openmetrics' && naming.unit !== '') header += `# UNIT ${family} ${naming.unit}\n`;
  const name = format === 'openmetrics' && counter ? `${naming.family}_total` : sample;
  if (metric.labelNames.length > 0) return { header, name, scale: naming.scale };
  if (metric.kind !== 'histogram') return { header, name, scale: naming.scale, prefixes: [`${name}${braces(base)} `] };
  const bounds = metric.bounds ?? [];
  const prefixes = bounds.map((b) => `${name}_bucket${braces(base.concat(`le="${number(b * naming.scale)}"`))} `);
  prefixes.push(
    `${name}_bucket${braces(base.concat('le="+Inf"'))} `,
    `${name}_sum${braces(base)} `,
    `${name}_count${braces(base)} `,
  );
  return { header, name, scale: naming.scale, prefixes };
}

function histogramLines(
  name: string,
  labels: string[],
  series: HistogramSeries,
  bounds: readonly number[],
  scale: number,
): string {
  let out = '';
  let cumulative = 0;
  for (let i = 0; i < bounds.length; i++) {
    cumulative += series.counts[i] ?? 0;
    out += `${name}_bucket${braces(labels.concat(`le="${number((bounds[i] as number) * scale)}"`))} ${cumulative}\n`;
  }
  cumulative += series.counts[bounds.length] ?? 0;
  out += `${name}_bucket${braces(labels.concat('le="+Inf"'))} ${cumulative}\n`;
  out += `${name}_sum${braces(labels)} ${number(series.sum * scale)}\n`;
  out += `${name}_count${braces(labels)} ${series.count}\n`;
  return out;
}

/** True when a metric has nothing but zeros: a counter at 0, a histogram without samples. */
function empty(metric: Collected): boolean {
  if (metric.kind === 'gauge') return false;
  for (const series of metric.series) if (!emptySeries(metric.kind, series)) return false;
  return true;
}

function emptySeries(kind: Collected['kind'], series: ValueSeries | HistogramSeries): boolean {
  if (kind === 'counter') return (series as ValueSeries).value === 0;
  return kind === 'histogram' && (series as HistogramSeries).count === 0;
}

function nameOf(
  metric: Pick<Collected, 'name' | 'unit' | 'builtin' | 'prometheusName' | 'exportName'>,
  options: ResolvedMetricsOptions,
): Naming {
  const given = options.exportNames.get(metric.name) ?? metric.exportName;
  const naming = namingOf(metric, options);
  if (given === undefined) return naming;
  // The host's own name, as given: a dashboard's queries name it exactly.
  const family = given.replace(/_total$/, '');
  const unit = naming.unit !== '' && family.endsWith(`_${naming.unit}`) ? naming.unit : '';
  return { family, counterSample: given, unit, scale: naming.scale };
}

function namingOf(
  metric: Pick<Collected, 'name' | 'unit' | 'builtin' | 'prometheusName'>,
  options: ResolvedMetricsOptions,
): Naming {
  // Under Stalwart 0.15, a renamed event's counter keeps its 0.15 name (queue_queue_message).
  const name = options.stalwart === '0.15' && metric.builtin ? wireName(metric.name, '0.15') : metric.name;
  const base = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (options.naming === 'stalwart') return { family: base, counterSample: base, unit: '', scale: 1 };
  let unit = metric.unit;
  let scale = 1;
  if (metric.builtin) {
    if (unit === 'milliseconds') {
      unit = 'seconds';
      scale = 0.001;
    } else if (unit !== 'bytes') {
      unit = '';
    }
  }
  const prefixed = `${options.prefix}${metric.prometheusName ?? base}`;
  const family = unit === '' || prefixed.endsWith(`_${unit}`) ? prefixed : `${prefixed}_${unit}`;
  return { family, counterSample: `${family}_total`, unit, scale };
}

function braces(labels: readonly string[]): string {
  return labels.length === 0 ? '' : `{${labels.join(',')}}`;
}

function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  // Scaling ms to s leaves float noise (0.1 * 3 = 0.30000000000000004): 15 significant digits suffice.
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(15)));
}

function escapeHelp(text: string, format: ExpositionFormat): string {
  const escaped = text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  // OpenMetrics HELP is an escaped string, where a double quote is escaped too; text 0.0.4 keeps it.
  return format === 'openmetrics' ? escaped.replace(/"/g, '\\"') : escaped;
}

/** The names a metric takes in the exposition: its family and its sample name. */
export function exportedNames(
  metric: Pick<Collected, 'name' | 'kind' | 'unit' | 'builtin' | 'prometheusName' | 'exportName'>,
  options: ResolvedMetricsOptions,
): string[] {
  const { family, counterSample } = nameOf(metric as Collected, options);
  return metric.kind === 'counter' ? [...new Set([family, `${family}_total`, counterSample])] : [family];
}

function escapeLabel(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
