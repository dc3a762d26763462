/**
 * Metrics cost against prom-client 15, side by side in one process: counter increments (unlabelled
 * and labelled), a histogram observation, a scrape of the catalogue's metrics and a scrape of
 * 10,000 labelled series (with the event-loop delay it causes).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as prom from 'prom-client';
import {
  BUILTIN_EVENTS,
  BUILTIN_METRICS as CATALOGUE_METRICS,
  createTelemetry,
  DEFAULT_BUCKETS,
  type MetricRow,
} from '../dist/index.js';
import type { Comparison } from './harness.js';
import { sleep } from './stats.js';

const BUILTIN_METRICS = CATALOGUE_METRICS as readonly MetricRow[];

/** A telemetry whose scrape and snapshot hold only the bench's own metrics, so checking a count is cheap. */
const benchOnly = () => createTelemetry({ metrics: { include: ['bench.*'], maxSeries: 20_000 } });

function check(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`${what}: got ${actual}, expected ${expected}`);
}

/** The value of the only series of `name` whose labels match `labels`, from our snapshot. */
function ourValue(
  telemetry: ReturnType<typeof createTelemetry<Record<never, never>>>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const metric = telemetry.metrics.snapshot().metrics.find((m) => m.name === name);
  const series = metric?.series.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (series === undefined) return 0; // not created yet
  return 'value' in series ? series.value : series.count;
}

async function promValue(metric: prom.Metric, labels: Record<string, string> = {}): Promise<number> {
  const data = await metric.get();
  const values = data.values.filter(
    (v) =>
      !('metricName' in v && typeof v.metricName === 'string' && v.metricName.endsWith('_bucket')) &&
      Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  );
  // A histogram lists _sum then _count after its buckets; a counter has one value per series.
  return (values.at(-1)?.value ?? 0) as number;
}

// One loop function per side, so each call site sees one class and neither runs inside an async
// function (which compiles loops differently).
function ourIncLoop(counter: { inc(): void }, n: number): void {
  for (let i = 0; i < n; i++) counter.inc();
}

function peerIncLoop(counter: { inc(): void }, n: number): void {
  for (let i = 0; i < n; i++) counter.inc();
}

function peerLabelledLoop(peer: prom.Counter, n: number, mask: number): void {
  for (let i = 0; i < n; i++) peer.inc(COMBOS[i & mask] as { method: string; result: string });
}

function peerObserveLoop(peer: prom.Histogram, n: number): void {
  for (let i = 0; i < n; i++) peer.observe(OBSERVATIONS[i & 1023] as number);
}

export function counterInc(): Comparison {
  const ours = benchOnly();
  const counter = ours.metrics.counter('bench.requests', { help: 'Requests' });
  const registry = new prom.Registry();
  const peer = new prom.Counter({ name: 'bench_requests_total', help: 'Requests', registers: [registry] });
  return {
    title: 'unlabelled counter inc',
    iterations: 60_000_000,
    target: 1,
    ours: {
      name: 'counter.inc()',
      run: (n) => {
        const before = ourValue(ours, 'bench.requests');
        ourIncLoop(counter, n);
        check('ours', ourValue(ours, 'bench.requests') - before, n);
      },
    },
    peer: {
      name: 'prom-client Counter.inc()',
      run: async (n) => {
        const before = await promValue(peer);
        peerIncLoop(peer, n);
        check('prom-client', (await promValue(peer)) - before, n);
      },
    },
  };
}

const METHODS = ['smtp', 'imap', 'pop3', 'http'];
const RESULTS = ['ok', 'failed'];
const COMBOS = METHODS.flatMap((method) => RESULTS.map((result) => ({ method, result })));

export function labelledCounterInc(): Comparison {
  const ours = benchOnly();
  const counter = ours.metrics.counter('bench.requests', { help: 'Requests', labels: ['method', 'result'] });
  const registry = new prom.Registry();
  const peer = new prom.Counter({
    name: 'bench_requests_total',
    help: 'Requests',
    labelNames: ['method', 'result'],
    registers: [registry],
  });
  const mask = COMBOS.length - 1; // 8 combinations
  const first = COMBOS[0] as { method: string; result: string };
  return {
    title: 'counter inc, 2 labels (8 combinations)',
    iterations: 3_000_000,
    target: 5,
    ours: {
      name: 'counter.inc({ method, result })',
      run: (n) => {
        const before = ourValue(ours, 'bench.requests', first);
        for (let i = 0; i < n; i++) counter.inc(COMBOS[i & mask] as { method: string; result: string });
        check('ours', ourValue(ours, 'bench.requests', first) - before, Math.ceil(n / COMBOS.length));
      },
    },
    peer: {
      name: 'prom-client inc({ method, result })',
      run: async (n) => {
        const before = await promValue(peer, first);
        peerLabelledLoop(peer, n, mask);
        check('prom-client', (await promValue(peer, first)) - before, Math.ceil(n / COMBOS.length));
      },
    },
  };
}

/** Values spread over every bucket of DEFAULT_BUCKETS (seconds), +Inf included. */
const OBSERVATIONS = Array.from({ length: 1024 }, (_, i) => ((i * 7919) % 1024) / 80);

export function histogramObserve(): Comparison {
  const ours = benchOnly();
  const histogram = ours.metrics.histogram('bench.latency', { help: 'Latency', unit: 'seconds', buckets: DEFAULT_BUCKETS });
  const registry = new prom.Registry();
  const peer = new prom.Histogram({
    name: 'bench_latency_seconds',
    help: 'Latency',
    buckets: [...DEFAULT_BUCKETS],
    registers: [registry],
  });
  return {
    title: 'histogram observe, 11 buckets',
    iterations: 4_000_000,
    target: 3,
    ours: {
      name: 'histogram.observe(v)',
      run: (n) => {
        const before = ourValue(ours, 'bench.latency');
        for (let i = 0; i < n; i++) histogram.observe(OBSERVATIONS[i & 1023] as number);
        check('ours', ourValue(ours, 'bench.latency') - before, n);
      },
    },
    peer: {
      name: 'prom-client Histogram.observe(v)',
      run: async (n) => {
        const before = await promValue(peer);
        peerObserveLoop(peer, n);
        check('prom-client', (await promValue(peer)) - before, n);
      },
    },
  };
}

const sanitize = (name: string) => `mail_${name.replace(/[^a-zA-Z0-9_]/g, '_')}`;

/** Some counter events and one event per histogram, as a running server would have emitted. */
function emitSome(emit: (name: string, data: Record<string, unknown>) => void): void {
  const counters = BUILTIN_EVENTS.filter((e) => e.counter);
  for (let i = 0; i < counters.length; i += 4) emit((counters[i] as { name: string }).name, {});
  for (const row of BUILTIN_METRICS) {
    if (row.observe === undefined) continue;
    for (const value of [3, 40, 700]) emit(row.observe.events[0] as string, { [row.observe.key]: value });
  }
}

export function catalogueScrape(): Comparison {
  // The registry alone: no default history taking the events too.
  const ours = createTelemetry({ history: false });
  emitSome((name, data) => (ours.emit as (n: string, d: unknown) => void)(name, data));
  const registry = new prom.Registry();
  const counters = new Map<string, prom.Counter>();
  for (const event of BUILTIN_EVENTS) {
    if (!event.counter) continue;
    counters.set(
      event.name,
      new prom.Counter({ name: `${sanitize(event.name)}_total`, help: event.description, registers: [registry] }),
    );
  }
  const histograms = new Map<string, { histogram: prom.Histogram; scale: number }>();
  for (const row of BUILTIN_METRICS) {
    const ms = row.unit === 'milliseconds';
    const unit = ms ? '_seconds' : row.unit === 'bytes' ? '_bytes' : '';
    const name = `${sanitize(row.name)}${unit}`;
    if (row.kind === 'gauge') {
      new prom.Gauge({ name, help: row.description, registers: [registry] }).set(
        row.source === 'memory' ? process.memoryUsage.rss() : 0,
      );
    } else {
      const scale = ms ? 0.001 : 1;
      const buckets = (row.buckets ?? []).map((b) => b * scale);
      histograms.set(row.name, {
        histogram: new prom.Histogram({ name, help: row.description, buckets, registers: [registry] }),
        scale,
      });
    }
  }
  // The same updates as ours: event counters, and observations of the histograms' events.
  const observedBy = new Map<string, { histogram: prom.Histogram; scale: number; key: string }>();
  for (const row of BUILTIN_METRICS) {
    const h = histograms.get(row.name);
    if (row.observe !== undefined && h !== undefined)
      observedBy.set(row.observe.events[0] as string, { ...h, key: row.observe.key });
  }
  emitSome((name, data) => {
    counters.get(name)?.inc();
    const o = observedBy.get(name);
    if (o !== undefined && data[o.key] !== undefined) o.histogram.observe((data[o.key] as number) * o.scale);
  });
  let oursLength = 0;
  let peerLength = 0;
  return {
    title: `full catalogue scrape (${counters.size} counters, ${BUILTIN_METRICS.length} gauges/histograms)`,
    iterations: 500,
    target: 3,
    ours: {
      name: 'telemetry.metrics.prometheus()',
      run: (n) => {
        let bytes = 0;
        for (let i = 0; i < n; i++) bytes += ours.metrics.prometheus().length;
        if (bytes < n * 50_000) throw new Error(`ours: scrape too short (${bytes / n} chars)`);
        oursLength = bytes / n;
      },
    },
    peer: {
      name: 'prom-client await registry.metrics()',
      run: async (n) => {
        let bytes = 0;
        for (let i = 0; i < n; i++) bytes += (await registry.metrics()).length;
        if (bytes < n * 50_000) throw new Error(`prom-client: scrape too short (${bytes / n} chars)`);
        peerLength = bytes / n;
      },
    },
    note: () =>
      `full catalogue scrape: ours ${Math.round(oursLength / 1024)} KiB, prom-client ${Math.round(peerLength / 1024)} KiB per scrape`,
  };
}

const SERIES = 10_000;

/**
 * How long one scrape holds the event loop: the lateness of a setImmediate scheduled just before
 * it (median and max of 21 scrapes), and the max of a monitorEventLoopDelay histogram (1 ms resolution).
 */
async function loopDelay(scrape: () => unknown): Promise<string> {
  const samples: number[] = [];
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  for (let i = 0; i < 21; i++) {
    const start = process.hrtime.bigint();
    const fired = new Promise<number>((resolve) => setImmediate(() => resolve(Number(process.hrtime.bigint() - start) / 1e6)));
    await scrape();
    samples.push(await fired);
    await sleep(5);
  }
  histogram.disable();
  samples.sort((a, b) => a - b);
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return `${ms(samples[samples.length >> 1] as number)} (max ${ms(samples.at(-1) as number)}; loop-delay histogram max ${ms(histogram.max / 1e6)})`;
}

export function labelledScrape(): Comparison {
  const ours = benchOnly();
  const counter = ours.metrics.counter('bench.domain-hits', {
    help: 'Hits per domain',
    labels: ['domain'],
    maxSeries: SERIES * 2,
  });
  const registry = new prom.Registry();
  const peer = new prom.Counter({
    name: 'mail_bench_domain_hits_total',
    help: 'Hits per domain',
    labelNames: ['domain'],
    registers: [registry],
  });
  for (let i = 0; i < SERIES; i++) {
    const domain = `d${i}.example.org`;
    counter.inc({ domain }, (i % 7) + 1);
    peer.inc({ domain }, (i % 7) + 1);
  }
  const oursScrape = () => ours.metrics.prometheus();
  const peerScrape = () => registry.metrics();
  return {
    title: `scrape of ${SERIES.toLocaleString('en')} labelled series`,
    iterations: 24,
    target: 3,
    ours: {
      name: 'telemetry.metrics.prometheus()',
      run: (n) => {
        let bytes = 0;
        for (let i = 0; i < n; i++) bytes += oursScrape().length;
        if (bytes < n * SERIES * 40) throw new Error(`ours: scrape too short (${bytes / n} chars)`);
      },
    },
    peer: {
      name: 'prom-client await registry.metrics()',
      run: async (n) => {
        let bytes = 0;
        for (let i = 0; i < n; i++) bytes += (await peerScrape()).length;
        if (bytes < n * SERIES * 40) throw new Error(`prom-client: scrape too short (${bytes / n} chars)`);
      },
    },
    note: async () => {
      const o = await loopDelay(oursScrape);
      const p = await loopDelay(peerScrape);
      return `event-loop delay per scrape of ${SERIES.toLocaleString('en')} series (setImmediate lateness, median of 21): ours ${o}, prom-client ${p}`;
    },
  };
}

/** The comparisons this file adds to `npm run bench`, by the name that runs one alone. */
export const comparisons: Record<string, () => Comparison> = {
  'metrics-counter': counterInc,
  'metrics-labelled-counter': labelledCounterInc,
  'metrics-histogram': histogramObserve,
  'metrics-scrape-catalogue': catalogueScrape,
  'metrics-scrape-10k-series': labelledScrape,
};
