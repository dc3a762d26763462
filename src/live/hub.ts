import type { Level } from '../base/levels.js';
import type { TelemetryEvent } from '../catalog/types.js';
import type { EventRecord } from '../core/event.js';
import type { MechanismSubscription } from '../core/mechanism.js';
import type { MechanismContext } from '../metrics/api.js';
import { Probe } from './filter.js';
import type { EventStream } from './stream.js';

/** Events the shared queue of one level may hold between two deliveries (one event-loop turn). */
const SHARED_QUEUE = 65_536;
/** At most one `telemetry.events-dropped` report per stream per this many ms. */
const REPORT_EVERY = 1000;

/**
 * Fans events out to every live stream. Streams of one level share ONE core subscription whose
 * selection is the union of their event patterns, so an emit costs one queue push per level in
 * use, however many streams are open; filtering runs later, off the emitter's stack.
 */
export class Hub {
  readonly #context: MechanismContext;
  readonly #groups = new Map<Level, Group>();
  #closed = false;

  constructor(context: MechanismContext) {
    this.#context = context;
  }

  add(stream: EventStream): void {
    let group = this.#groups.get(stream.filter.level);
    if (group === undefined) {
      group = new Group(this.#context, stream.filter.level);
      this.#groups.set(stream.filter.level, group);
    }
    try {
      group.add(stream);
    } finally {
      if (group.size === 0) this.#groups.delete(stream.filter.level);
    }
  }

  remove(stream: EventStream): void {
    if (this.#closed) return;
    const group = this.#groups.get(stream.filter.level);
    if (group === undefined) return;
    group.remove(stream);
    if (group.size === 0) this.#groups.delete(stream.filter.level);
  }

  /** Drops every subscription at once; streams ended afterwards need no hand-over. */
  close(): void {
    this.#closed = true;
    for (const group of this.#groups.values()) group.close();
    this.#groups.clear();
  }

  /** Core subscriptions held now, retiring ones included. */
  get subscriptions(): number {
    let count = 0;
    for (const group of this.#groups.values()) count += group.subscriptions;
    return count;
  }
}

class Group {
  readonly #context: MechanismContext;
  readonly #level: Level;
  readonly #streams = new Set<EventStream>();
  #list: EventStream[] = [];
  #current: { readonly subscription: MechanismSubscription; readonly key: string } | undefined;
  /** Replaced subscriptions kept until they hand over what they queued, so no stream misses it. */
  readonly #retiring = new Set<MechanismSubscription>();
  readonly #droppedSeen = new Map<MechanismSubscription, number>();
  /** Events reach the group through two subscriptions during a hand-over: ids are increasing, so one compare skips repeats. */
  #lastId = -1;
  readonly #probe = new Probe();

  constructor(context: MechanismContext, level: Level) {
    this.#context = context;
    this.#level = level;
  }

  get size(): number {
    return this.#streams.size;
  }

  get subscriptions(): number {
    return (this.#current === undefined ? 0 : 1) + this.#retiring.size;
  }

  add(stream: EventStream): void {
    this.#streams.add(stream);
    this.#list = [...this.#streams];
    try {
      this.#resubscribe();
    } catch (error) {
      this.#streams.delete(stream);
      this.#list = [...this.#streams];
      throw error;
    }
  }

  remove(stream: EventStream): void {
    if (!this.#streams.delete(stream)) return;
    if (stream.unreported > 0) this.#reportDrops(stream);
    this.#list = [...this.#streams];
    try {
      this.#resubscribe();
    } catch {
      // The instance is shutting down: the wider subscription stays until the mechanism closes.
    }
  }

  close(): void {
    this.#streams.clear();
    this.#list = [];
    this.#resubscribe();
  }

  /** Subscribes to the union of the streams' patterns when it changed. */
  #resubscribe(): void {
    if (this.#streams.size === 0) {
      for (const subscription of this.#retiring) this.#drop(subscription);
      this.#retiring.clear();
      if (this.#current !== undefined) this.#drop(this.#current.subscription);
      this.#current = undefined;
      return;
    }
    const patterns = new Set<string>();
    for (const stream of this.#streams) for (const pattern of stream.filter.patterns) patterns.add(pattern);
    const events = patterns.has('*') ? ['*'] : [...patterns].sort();
    const key = events.join(',');
    if (this.#current?.key === key) return;
    let subscription: MechanismSubscription | undefined;
    subscription = this.#context.subscribe(
      {
        id: `live:${this.#level}`,
        path: 'live',
        events,
        level: this.#level,
        lossy: true,
        maxQueue: SHARED_QUEUE,
        maxBatch: SHARED_QUEUE,
        // Span ends reach every stream, so a sticky span is forgotten even when its end is not selected.
        spans: true,
      },
      (batch) => this.#deliver(batch, subscription as MechanismSubscription),
    );
    this.#droppedSeen.set(subscription, 0);
    const old = this.#current;
    this.#current = { subscription, key };
    if (old !== undefined) {
      const stats = old.subscription.stats();
      if (stats.queued === 0 && stats.inFlight === 0) this.#drop(old.subscription);
      else this.#retiring.add(old.subscription);
    }
  }

  #drop(subscription: MechanismSubscription): void {
    subscription.unsubscribe();
    this.#droppedSeen.delete(subscription);
  }

  #deliver(batch: readonly EventRecord[], subscription: MechanismSubscription): void {
    const streams = this.#list;
    // The core has redacted the sensitive keys already, so filters never match them either.
    const events: readonly TelemetryEvent[] = batch;
    const probe = this.#probe;
    for (const event of events) {
      if (event.id <= this.#lastId) continue;
      this.#lastId = event.id;
      probe.reset(event);
      for (const stream of streams) {
        try {
          stream.accept(event, probe);
        } catch {
          // A value whose getter or toString throws cannot match; the stream carries on.
        }
      }
    }
    const dropped = subscription.stats().dropped;
    const seen = this.#droppedSeen.get(subscription) ?? dropped;
    if (dropped > seen) {
      // The shared queue overflowed before filtering: any stream could have wanted those events.
      for (const stream of streams) stream.lost(dropped - seen);
    }
    this.#droppedSeen.set(subscription, dropped);
    const now = this.#context.now();
    for (const stream of streams) {
      if (stream.unreported > 0 && now - stream.lastReport >= REPORT_EVERY) this.#reportDrops(stream, now);
    }
    if (this.#retiring.delete(subscription)) this.#drop(subscription);
  }

  #reportDrops(stream: EventStream, now = this.#context.now()): void {
    const total = stream.unreported;
    stream.unreported = 0;
    stream.lastReport = now;
    const reporter = this.#current?.subscription;
    const reason = 'live stream buffer full: oldest events dropped';
    if (reporter !== undefined) reporter.report('telemetry.events-dropped', { id: `live:${this.#level}`, total, reason });
    else this.#context.report('telemetry.events-dropped', { id: `live:${this.#level}`, total, reason });
  }
}
