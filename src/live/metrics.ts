import { TelemetryConfigError } from '../base/errors.js';
import { checkMetricPatterns } from '../base/patterns.js';
import type { MetricsApi } from '../metrics/api.js';
import type { MetricsSnapshot } from '../metrics/registry.js';
import { selectMetrics } from './frames.js';

/** Options of `telemetry.live.metrics`. */
export interface LiveMetricsOptions {
  /**
   * Metric names or wildcards: event counters by event name (`smtp.*`), gauges and histograms by
   * metric name (`queue.count`, `*.request-time`).
   * @default ['*']
   */
  readonly metrics?: readonly string[];
  /**
   * Milliseconds between frames; the first frame comes at once.
   * @default the `live.metricsInterval` option (30_000)
   */
  readonly interval?: number;
  /**
   * Ends the stream when aborted.
   * @default undefined (the stream ends when the caller stops iterating)
   */
  readonly signal?: AbortSignal;
}

/** A stream of metric frames read from the registry: `for await (const frame of stream)`. */
export interface LiveMetricsStream extends AsyncIterableIterator<MetricsSnapshot> {
  readonly closed: boolean;
  /** Ends the stream. */
  close(): void;
  next(): Promise<IteratorResult<MetricsSnapshot, undefined>>;
  return(): Promise<IteratorResult<MetricsSnapshot, undefined>>;
}

/** Validated metric stream options. */
export interface MetricsPlan {
  readonly patterns: readonly string[];
  readonly interval: number;
}

const OPTION_KEYS = new Set(['metrics', 'interval', 'signal']);

export function planMetrics(options: unknown, fallback: number, minimum: number, path: string): MetricsPlan {
  const o = options === undefined ? {} : options;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new TelemetryConfigError(path, o, 'an object');
  const m = o as Record<string, unknown>;
  for (const key of Object.keys(m)) {
    if (!OPTION_KEYS.has(key))
      throw new TelemetryConfigError(`${path}.${key}`, key, `one of the known options: ${[...OPTION_KEYS].join(', ')}`);
  }
  const patterns = m.metrics === undefined ? [] : m.metrics;
  checkMetricPatterns(patterns, `${path}.metrics`);
  const interval = m.interval === undefined ? fallback : m.interval;
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < minimum || interval > 86_400_000)
    throw new TelemetryConfigError(
      `${path}.interval`,
      interval,
      `milliseconds from ${minimum} (live.minMetricsInterval) to 86400000`,
    );
  if (m.signal !== undefined && !(m.signal instanceof AbortSignal))
    throw new TelemetryConfigError(`${path}.signal`, m.signal, 'an AbortSignal');
  return { patterns: [...patterns], interval };
}

const DONE: IteratorResult<never, undefined> = Object.freeze({ done: true, value: undefined });

/** Reads a fresh snapshot when each frame is due: a slow reader skips frames, nothing piles up. */
export class MetricsStream implements LiveMetricsStream {
  readonly #metrics: MetricsApi;
  readonly #plan: MetricsPlan;
  readonly #onClose: (stream: MetricsStream) => void;
  #due = 0;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #signal: AbortSignal | undefined;
  readonly #abort = () => this.close();

  constructor(metrics: MetricsApi, plan: MetricsPlan, signal: AbortSignal | undefined, onClose: (stream: MetricsStream) => void) {
    this.#metrics = metrics;
    this.#plan = plan;
    this.#onClose = onClose;
    this.#due = performance.now();
    if (signal !== undefined) {
      this.#signal = signal;
      signal.addEventListener('abort', this.#abort, { once: true });
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  get interval(): number {
    return this.#plan.interval;
  }

  /** Milliseconds until the next frame is due (0 when due). */
  untilDue(): number {
    return Math.max(0, this.#due - performance.now());
  }

  /** The frame due now; the next one is due an interval later. */
  read(): MetricsSnapshot {
    this.#due = Math.max(this.#due + this.#plan.interval, performance.now());
    return selectMetrics(this.#metrics.snapshot(), this.#plan.patterns);
  }

  /** Resolves after `ms`, or at once when the stream closes. */
  sleep(ms: number): Promise<void> {
    if (this.#closed || ms <= 0) return Promise.resolve();
    this.#release();
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(() => this.#release(), ms);
      this.#timer.unref();
    });
  }

  #release(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async next(): Promise<IteratorResult<MetricsSnapshot, undefined>> {
    while (!this.#closed) {
      const wait = this.untilDue();
      if (wait === 0) return { done: false, value: this.read() };
      await this.sleep(wait);
    }
    return DONE;
  }

  async return(): Promise<IteratorResult<MetricsSnapshot, undefined>> {
    this.close();
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#signal?.removeEventListener('abort', this.#abort);
    this.#signal = undefined;
    this.#release();
    this.#onClose(this);
  }
}
