/**
 * The IPC messages between the primary and its workers. Every message carries the key
 * {@link TAG} with the protocol {@link VERSION}, so that the host's own cluster messages (Haraka
 * sends its own) pass by untouched, and a worker of another release is told apart.
 *
 * A scrape is one request per worker and one answer. The answer is compact: a metric's
 * description (`meta`) goes to the primary once per worker instance, and every later answer
 * carries only the values, in the order `telemetry.metrics.collect()` walks the metrics, which
 * only ever grows at its end (a host defines a metric, none is removed).
 */
import type { Collected } from '../metrics/registry.js';
import type { StalwartVersion } from '../stalwart/version.js';

/** The key that marks a message as this library's. */
export const TAG = 'mail-telemetry';
/** The protocol version, the value of {@link TAG}. */
export const VERSION = 1;

/** The primary asks a worker for its metrics. */
export interface ScrapeRequest {
  readonly [TAG]: typeof VERSION;
  readonly type: 'scrape';
  /** Unique among the requests of every aggregator of the primary. */
  readonly id: string;
  /** The worker instance whose descriptions the primary holds, if any. */
  readonly instance: string | null;
  /** How many metric descriptions the primary holds for that instance. */
  readonly known: number;
  /** The name of the last description it holds, so the worker can tell that they agree. */
  readonly last: string | null;
}

/** A metric's description, sent once per worker instance. */
export interface MetaWire {
  readonly name: string;
  readonly kind: Collected['kind'];
  readonly unit: string;
  readonly help: string;
  readonly builtin: boolean;
  readonly prometheusName: string | null;
  /** The host's `exportName` of the metric; absent from a worker of an earlier release. */
  readonly exportName?: string | null;
  readonly labels: readonly string[];
  /** A histogram's bucket upper bounds, without +Inf. */
  readonly bounds: readonly number[] | null;
}

/**
 * The settings that name the exposition: the worker's `metrics` options, so that the primary's
 * merged scrape writes what each worker's own `handlers.prometheus` would. `exportNames` and
 * `stalwart` are absent from a worker of an earlier release: none, and the library's shapes.
 */
export interface SettingsWire {
  readonly naming: 'prometheus' | 'stalwart';
  readonly prefix: string;
  readonly defaultLabels: Readonly<Record<string, string>>;
  /** `metrics.exportNames`: a metric's name, then the name it is exported under. */
  readonly exportNames: Readonly<Record<string, string>>;
  /** The worker's Stalwart version for metrics (`metrics.stalwart` or the top-level one), or null. */
  readonly stalwart: StalwartVersion | null;
}

/**
 * A worker's metrics. `values[i]` holds the series of metric `i`, flat: for a counter or gauge
 * each series is its label values then its value; for a histogram its label values, then `sum`,
 * `count` and one count per bucket (not cumulative, +Inf last).
 */
export interface MetricsAnswer {
  readonly [TAG]: typeof VERSION;
  readonly type: 'metrics';
  /** The request answered, or null for the snapshot a worker pushes when it closes. */
  readonly id: string | null;
  /** This telemetry instance of the worker: a new one after a restart. */
  readonly instance: string;
  readonly settings: SettingsWire;
  /** The index of the first description in `meta`: the ones before it are those the primary holds. */
  readonly from: number;
  readonly meta: readonly MetaWire[];
  readonly values: readonly (readonly (string | number)[])[];
}

/** The value of an own key of a message, or undefined; never runs a getter of a prototype. */
export function field(message: object, key: string): unknown {
  return Object.hasOwn(message, key) ? (message as Record<string, unknown>)[key] : undefined;
}

/** True when `message` is an object that carries this library's tag, whatever its version. */
export function isTagged(message: unknown): message is object {
  return typeof message === 'object' && message !== null && !Array.isArray(message) && Object.hasOwn(message, TAG);
}
