import { EventEmitter } from 'eventemitter3';
import { TelemetryConfigError } from '../base/errors.js';
import type { Catalog } from '../catalog/catalog.js';
import type { TelemetryEvent } from '../catalog/types.js';
import type { Dispatcher } from './dispatch.js';
import type { EventRecord } from './event.js';
import { checkPatterns, compileSelection, hasBit } from './selection.js';
import { Subscriber } from './subscriber.js';

type Listener = (event: EventRecord) => void;

/** A host's listener: it sees the public shape of an event. */
export type HostListener = (event: TelemetryEvent) => void;

/** What the listeners need from the runtime. */
export interface ListenerHost {
  readonly catalog: Catalog;
  /** Per-event level severities, in effect after overrides. */
  readonly levels: Uint8Array;
  readonly dispatcher: Dispatcher;
  /** Recomputes the routes after the listeners' interest changed. */
  rebuild(): void;
  /** Reports a listener's failure on behalf of `origin`, which never receives the report. */
  failed(id: string, error: unknown, origin: object): void;
}

/**
 * `on()` listeners. One internal subscriber feeds them all, so listeners share one queue and one bit
 * test, and eventemitter3 fans each event out by name.
 */
export class Listeners {
  /** Calls of listeners that threw. */
  failures = 0;
  readonly #host: ListenerHost;
  readonly #emitter = new EventEmitter<Record<string, [EventRecord]>>();
  readonly #listeners = new Map<Listener, { bits: Uint32Array; names: string[] }>();
  #subscriber: Subscriber | undefined;

  constructor(host: ListenerHost) {
    this.#host = host;
  }

  on(pattern: string, listener: HostListener): () => void {
    if (typeof listener !== 'function') throw new TelemetryConfigError('on(listener)', listener, 'a function');
    const { catalog, levels } = this.#host;
    checkPatterns(catalog, [pattern], 'on(pattern)');
    const bits = compileSelection(catalog, levels, { events: [pattern] }, 'on(pattern)');
    const names = catalog.events.filter((e) => hasBit(bits, e.id)).map((e) => e.name);
    const wrapped: Listener = (event) => {
      if (event.origin === wrapped) return;
      try {
        listener(event);
      } catch (error) {
        this.failures++;
        // A failure on one of the library's own reports is counted, not reported: no ping-pong.
        if (event.origin === undefined) this.#host.failed(`on(${JSON.stringify(pattern)})`, error, wrapped);
      }
    };
    for (const name of names) this.#emitter.on(name, wrapped);
    this.#listeners.set(wrapped, { bits, names });
    this.#sync();
    return () => {
      const entry = this.#listeners.get(wrapped);
      if (entry === undefined) return;
      for (const name of entry.names) this.#emitter.off(name, wrapped);
      this.#listeners.delete(wrapped);
      this.#sync();
    };
  }

  /** Removes every listener (at shutdown). */
  clear(): void {
    this.#emitter.removeAllListeners();
    this.#listeners.clear();
  }

  #sync(): void {
    const { catalog, dispatcher } = this.#host;
    const union = new Uint32Array((catalog.idSpace + 31) >>> 5);
    for (const { bits } of this.#listeners.values())
      for (let i = 0; i < union.length; i++) union[i] = (union[i] ?? 0) | (bits[i] ?? 0);
    if (this.#subscriber === undefined) {
      this.#subscriber = new Subscriber(
        'listeners',
        { lossy: false, maxQueue: 100_000, maxBatch: 1024, bits: union },
        (batch) => {
          for (const event of batch) this.#emitter.emit(event.type, event);
        },
        dispatcher,
      );
      dispatcher.subscribers.add(this.#subscriber);
    }
    this.#subscriber.bits = union;
    this.#host.rebuild();
  }
}
