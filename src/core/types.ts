import type { Level } from '../base/levels.js';
import type { SubscriberStats } from './subscriber.js';

/** A subscription made with `subscribe`. */
export interface Subscription {
  readonly id: string;
  /** Stops delivery; queued events are discarded and counted as dropped. */
  unsubscribe(): void;
  stats(): SubscriberStats;
}

/** What `flush` and `shutdown` could not deliver. */
export interface FlushReport {
  /** True when every queued event reached its consumer within the timeout. */
  readonly complete: boolean;
  /** Events still queued or in flight when the call returned (discarded, for `shutdown`). */
  readonly pending: number;
  /** Subscribers that still had events, with how many. */
  readonly subscribers: readonly { readonly id: string; readonly pending: number }[];
}

/** Counters of the library's own work. */
export interface TelemetryStats {
  readonly openSpans: number;
  /** Open spans removed because they were too old or too many. */
  readonly sweptSpans: number;
  /** Events dropped by all subscribers together. */
  readonly droppedEvents: number;
  /** Emits of names the catalogue does not know (possible only from untyped code). */
  readonly unknownEvents: number;
  /** Emits whose data could not be read (a throwing data function, getter or key); those events were not delivered. */
  readonly failedPayloads: number;
  /** Calls of `on()` listeners that threw. */
  readonly listenerFailures: number;
  readonly subscribers: readonly SubscriberStats[];
}

/** A public view of a catalogue entry. */
export interface EventInfo {
  readonly name: string;
  readonly id: number;
  /** The level in effect, after overrides. */
  readonly level: Level | 'disable';
  readonly defaultLevel: Level;
  readonly counter: boolean;
  readonly description: string;
  /** Keys seen with the event; empty means any vocabulary key. */
  readonly keys: readonly string[];
  readonly spanEnd?: string;
  readonly origin: 'builtin' | 'library' | 'host';
}
