/**
 * The worker's side: answers the primary's scrape requests over the process's IPC channel with
 * its metrics, and pushes a last snapshot when its telemetry shuts down.
 */
import { randomUUID } from 'node:crypto';
import { describeError, TelemetryConfigError } from '../base/errors.js';
import type { CoreContext } from '../core/mechanism.js';
import { MECHANISM_CONTEXT } from '../core/symbols.js';
import { EXPOSITION_SETTINGS, type ExpositionSettings } from '../metrics/facade.js';
import type { Collected } from '../metrics/registry.js';
import { encode, firstUnknown } from './encode.js';
import { resolveShareOptions, type ShareMetricsOptions } from './options.js';
import { field, isTagged, type MetricsAnswer, type SettingsWire, TAG, VERSION } from './protocol.js';
import { DEFAULT_SETTINGS } from './render.js';

/** What {@link shareMetricsWithPrimary} reads of a telemetry instance: any `createTelemetry()` result. */
export interface ClusterWorkerTelemetry {
  readonly metrics: {
    /** Every active metric with its live series. */
    collect(): readonly Collected[];
  };
}

/** A worker's metrics shared with the primary. */
export interface MetricsShare {
  /** False when the process has no IPC channel (not a `cluster` worker): nothing is shared. */
  readonly shared: boolean;
  /**
   * Stops answering the primary, after pushing a last snapshot (unless `finalSnapshot: false`).
   * Calling it again does nothing.
   */
  close(): void;
}

const NOT_SHARED: MetricsShare = Object.freeze({ shared: false, close() {} });

/** The telemetry whose metrics this process shares: one at a time, or the primary would see two workers in one. */
let sharing: ClusterWorkerTelemetry | undefined;

/**
 * Answers the primary's scrape requests (from {@link createClusterMetrics}) with this worker's
 * metrics, over Node's IPC channel (`process.send`). Call it once per worker, after
 * `createTelemetry()`.
 *
 * - When the telemetry shuts down, or `close()` is called, the worker pushes its final snapshot,
 *   so that a graceful exit loses no increment. A worker that crashes or is killed loses the
 *   increments since the primary's last scrape.
 * - In a process without an IPC channel (`process.send` undefined: not forked by `cluster`), it
 *   does nothing and returns a share with `shared: false`, so that the same code runs unclustered.
 * - Messages that are not the primary's requests (the host's own cluster messages) are left alone.
 *
 * Sharing a second telemetry instance while one is shared throws: close the first share.
 */
export function shareMetricsWithPrimary(telemetry: ClusterWorkerTelemetry, options?: ShareMetricsOptions): MetricsShare {
  const { finalSnapshot } = resolveShareOptions(options);
  if (typeof telemetry?.metrics?.collect !== 'function') {
    throw new TelemetryConfigError('telemetry', telemetry, 'a telemetry instance from createTelemetry()');
  }
  if (typeof process.send !== 'function' || process.connected !== true) return NOT_SHARED;
  if (sharing !== undefined) {
    throw new TelemetryConfigError(
      'telemetry',
      sharing === telemetry ? 'the instance already shared' : 'a second instance',
      'one shared telemetry instance per process',
      'close() the other share first',
    );
  }
  sharing = telemetry;
  return new WorkerShare(telemetry, finalSnapshot);
}

class WorkerShare implements MetricsShare {
  readonly shared = true;
  readonly #telemetry: ClusterWorkerTelemetry;
  readonly #finalSnapshot: boolean;
  /** Tells the primary that a restarted telemetry's counters start again from zero. */
  readonly #instance = randomUUID();
  readonly #settings: SettingsWire;
  readonly #context: CoreContext | undefined;
  #closed = false;

  readonly #onMessage = (message: unknown): void => {
    if (this.#closed || !isTagged(message)) return;
    const request = readRequest(message);
    if (request === undefined) return;
    try {
      const collected = this.#telemetry.metrics.collect();
      const from = firstUnknown(collected, request.instance === this.#instance, request.known, request.last);
      void this.#send(request.id, collected, from);
    } catch (error) {
      this.#report(error);
    }
  };

  readonly #onDisconnect = (): void => {
    // The channel is gone: nothing can be sent any more.
    this.#stop();
  };

  constructor(telemetry: ClusterWorkerTelemetry, finalSnapshot: boolean) {
    this.#telemetry = telemetry;
    this.#finalSnapshot = finalSnapshot;
    this.#settings = settingsOf(telemetry);
    this.#context = contextOf(telemetry);
    process.on('message', this.#onMessage);
    process.once('disconnect', this.#onDisconnect);
    // The shutdown of the telemetry pushes the final snapshot, and waits for it to leave.
    this.#context?.attach({ id: 'cluster', close: () => this.#close() });
  }

  close(): void {
    void this.#close();
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    const final = this.#finalSnapshot ? this.#pushFinal() : Promise.resolve();
    this.#stop();
    await final;
  }

  #stop(): void {
    if (this.#closed) return;
    this.#closed = true;
    process.off('message', this.#onMessage);
    process.off('disconnect', this.#onDisconnect);
    if (sharing === this.#telemetry) sharing = undefined;
  }

  #pushFinal(): Promise<void> {
    try {
      return this.#send(null, this.#telemetry.metrics.collect(), 0);
    } catch (error) {
      this.#report(error);
      return Promise.resolve();
    }
  }

  /** Sends an answer; resolves once it left (or could not), never rejects. */
  #send(id: string | null, collected: readonly Collected[], from: number): Promise<void> {
    const { meta, values } = encode(collected, from);
    const answer: MetricsAnswer = {
      [TAG]: VERSION,
      type: 'metrics',
      id,
      instance: this.#instance,
      settings: this.#settings,
      from,
      meta,
      values,
    };
    return new Promise((resolve) => {
      try {
        if (process.send === undefined || process.connected !== true) return resolve();
        // With a callback, a channel closed meanwhile is reported there, not as an unhandled 'error' event.
        process.send(answer, undefined, undefined, () => resolve());
      } catch {
        resolve();
      }
    });
  }

  #report(error: unknown): void {
    try {
      this.#context?.report('telemetry.prometheus-exporter-error', { id: 'cluster', reason: describeError(error) });
    } catch {
      // Reporting is best effort: the primary counts this worker as missing anyway.
    }
  }
}

/** A scrape request, or undefined for a message that is none. */
function readRequest(message: object): { id: string; instance: string | null; known: number; last: string | null } | undefined {
  if (field(message, TAG) !== VERSION || field(message, 'type') !== 'scrape') return undefined;
  const id = field(message, 'id');
  const instance = field(message, 'instance');
  const known = field(message, 'known');
  const last = field(message, 'last');
  if (typeof id !== 'string' || id.length === 0 || id.length > 256) return undefined;
  if (instance !== null && typeof instance !== 'string') return undefined;
  if (typeof known !== 'number' || !Number.isSafeInteger(known) || known < 0) return undefined;
  if (last !== null && typeof last !== 'string') return undefined;
  return { id, instance, known, last };
}

/** The worker's exposition settings, or the defaults for an object that does not carry them. */
function settingsOf(telemetry: ClusterWorkerTelemetry): SettingsWire {
  const settings = (telemetry.metrics as { readonly [EXPOSITION_SETTINGS]?: ExpositionSettings })[EXPOSITION_SETTINGS];
  if (settings === undefined) return DEFAULT_SETTINGS;
  return {
    naming: settings.naming,
    prefix: settings.prefix,
    defaultLabels: { ...settings.defaultLabels },
    exportNames: Object.fromEntries(settings.exportNames),
    stalwart: settings.stalwart ?? null,
  };
}

/** The core's context of a telemetry instance, to hook its shutdown; undefined for any other object. */
function contextOf(telemetry: ClusterWorkerTelemetry): CoreContext | undefined {
  try {
    const context = (telemetry as { readonly [MECHANISM_CONTEXT]?: () => CoreContext })[MECHANISM_CONTEXT];
    return typeof context === 'function' ? context.call(telemetry) : undefined;
  } catch {
    return undefined;
  }
}
