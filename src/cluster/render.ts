/**
 * The primary's exposition: the merged metrics of the workers, named with the workers' own
 * settings, then the primary's own metrics about the scrape. Whatever the workers sent, no two
 * metrics share an exported name and no series repeats a label, so the text stays valid.
 */
import { type ExpositionCache, type ExpositionFormat, exportedNames, expose } from '../metrics/exposition.js';
import type { ResolvedMetricsOptions } from '../metrics/options.js';
import type { Collected } from '../metrics/registry.js';
import type { MetricSamples } from './decode.js';
import { toCollected } from './merge.js';
import type { SettingsWire } from './protocol.js';

/** The settings of a registry created with no options, used until a worker has answered. */
export const DEFAULT_SETTINGS: SettingsWire = {
  naming: 'prometheus',
  prefix: 'mail_',
  defaultLabels: {},
  exportNames: {},
  stalwart: null,
};

/** What the primary counts about its scrapes. */
export interface ScrapeCounts {
  /** Workers whose answer is in the last scrape. */
  readonly workers: number;
  /** Workers asked in the last scrape that did not answer in time. */
  readonly missing: number;
  /** Answers waited for in vain since the primary started. */
  readonly missed: number;
  /** Worker instances whose last snapshot joined the retained totals. */
  readonly retired: number;
  /** Tagged messages from workers refused in whole or in part. */
  readonly rejected: number;
}

/** The primary's own metrics, as the exposition walks them. */
function ownMetrics(counts: ScrapeCounts): Collected[] {
  const metric = (name: string, kind: 'counter' | 'gauge', help: string, value: number): Collected => ({
    name,
    kind,
    unit: '',
    help,
    labelNames: [],
    builtin: false,
    series: [{ labels: [], value }],
  });
  return [
    metric('telemetry.cluster-workers', 'gauge', 'Workers whose answer is in this scrape', counts.workers),
    metric(
      'telemetry.cluster-workers-missing',
      'gauge',
      'Workers that did not answer this scrape in time: their gauges are left out, their counters held at their last answer',
      counts.missing,
    ),
    metric('telemetry.cluster-missed-answers', 'counter', 'Worker answers the primary waited for in vain', counts.missed),
    metric(
      'telemetry.cluster-retired-workers',
      'counter',
      'Workers that exited or restarted, whose last counters and histograms are kept in the totals',
      counts.retired,
    ),
    metric('telemetry.cluster-rejected-messages', 'counter', 'Malformed messages from workers, refused', counts.rejected),
  ];
}

/** Renders the merged metrics and the primary's own in one exposition. */
export class ClusterExposition {
  readonly #cache: ExpositionCache = new Map();
  /** What each cached rendering was made from: a metric that changes shape is rendered afresh. */
  readonly #shapes = new Map<string, string>();
  #settingsKey = '';
  #options: ResolvedMetricsOptions | undefined;

  render(merged: readonly MetricSamples[], counts: ScrapeCounts, settings: SettingsWire, format: ExpositionFormat): string {
    const settingsKey = JSON.stringify(settings);
    if (settingsKey !== this.#settingsKey || this.#options === undefined) {
      this.#cache.clear();
      this.#shapes.clear();
      this.#settingsKey = settingsKey;
      // The workers' export names and Stalwart version: the merged scrape names and leaves out what theirs do.
      this.#options = {
        naming: settings.naming,
        prefix: settings.prefix,
        defaultLabels: settings.defaultLabels,
        include: ['*'],
        exclude: [],
        maxSeries: Number.MAX_SAFE_INTEGER,
        memoryInterval: 60_000,
        auth: undefined,
        exportNames: new Map(Object.entries(settings.exportNames)),
        stalwart: settings.stalwart ?? undefined,
      };
    }
    const options = this.#options;
    const taken = new Set<string>();
    const own = ownMetrics(counts);
    // The primary's own names are claimed first: a worker cannot shadow them. Their internal
    // names too, which key the exposition cache.
    const ownNames = new Set(own.map((metric) => metric.name));
    for (const metric of own) claim(metric, options, taken);
    const out: Collected[] = [];
    for (const m of merged) {
      if (ownNames.has(m.meta.name)) continue;
      const metric = toCollected(m);
      const labels = metric.labelNames;
      if (new Set(labels).size !== labels.length || labels.some((label) => Object.hasOwn(settings.defaultLabels, label)))
        continue;
      if (!claim(metric, options, taken)) continue;
      this.#fresh(metric);
      out.push(metric);
    }
    for (const metric of own) out.push(metric);
    // Names a worker no longer sends would stay cached for ever.
    if (this.#shapes.size > 2 * out.length + 64) {
      this.#cache.clear();
      this.#shapes.clear();
    }
    return expose(out, options, format, this.#cache);
  }

  /** Drops the cached rendering of a metric whose header or bucket lines would differ now. */
  #fresh(metric: Collected): void {
    const shape = JSON.stringify([
      metric.kind,
      metric.unit,
      metric.help,
      metric.builtin,
      metric.prometheusName ?? null,
      metric.exportName ?? null,
      metric.labelNames.length === 0,
      metric.bounds ?? null,
    ]);
    if (this.#shapes.get(metric.name) === shape) return;
    this.#shapes.set(metric.name, shape);
    this.#cache.delete(`text|${metric.name}`);
    this.#cache.delete(`openmetrics|${metric.name}`);
  }
}

/** Reserves every name `metric` writes (family and samples); false when one is taken already. */
function claim(metric: Collected, options: ResolvedMetricsOptions, taken: Set<string>): boolean {
  const family = exportedNames(metric, options)[0] as string;
  const names =
    metric.kind === 'counter'
      ? [family, `${family}_total`]
      : metric.kind === 'histogram'
        ? [family, `${family}_bucket`, `${family}_sum`, `${family}_count`]
        : [family];
  if (names.some((name) => taken.has(name))) return false;
  for (const name of names) taken.add(name);
  return true;
}
