import type { Level } from '../base/levels.js';
import type { SpanId } from '../catalog/keys.js';

/** An event as the history keeps it: the shape of `EventRecord.toJSON()`. */
export interface HistoryEvent {
  /** Unique, time-ordered event id. */
  readonly id: number;
  readonly type: string;
  readonly level: Level;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly spanId?: SpanId | undefined;
  /** The event's keys merged over its span's keys. */
  readonly data: Readonly<Record<string, unknown>>;
  /**
   * The node (process or machine) whose history holds the event, as stores give it back: the
   * store's `node` option. Absent on the events a store is given.
   */
  readonly node?: string | undefined;
}

/** How one key must match: a value for an exact match, or `{ contains }` for a case-insensitive substring. */
export type KeyMatch = string | number | boolean | { readonly contains: string };

/** Which events to read; every filter is ANDed. */
export interface EventQuery {
  /** Event names or wildcards such as `smtp.*`. */
  readonly types?: readonly string[];
  /** Inclusive lower bound on `timestamp`, epoch ms. */
  readonly from?: number;
  /** Inclusive upper bound on `timestamp`, epoch ms. */
  readonly to?: number;
  /** The least severe level returned. */
  readonly level?: Level;
  /**
   * Key matches, such as `{ remoteIp: '192.0.2.7', from: { contains: 'example.com' } }`. An array
   * value (like `to`) matches when one of its items does.
   */
  readonly keys?: Readonly<Record<string, KeyMatch>>;
  /** Case-insensitive text looked for in every value of the event. */
  readonly text?: string;
  /** Only the events of this span. */
  readonly spanId?: SpanId;
  /** Only the events of this node (a store's `node` option): one process of a fleet's shared history. */
  readonly node?: string;
  /**
   * Most events returned.
   * @default 100
   */
  readonly limit?: number;
  /** The `cursor` of the previous page, to read the next (older) page. */
  readonly cursor?: string;
}

/** A page of results, newest first. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Pass it back as `cursor` to read the next page; absent on the last page. */
  readonly cursor?: string;
  /**
   * How many items the query matches over all its pages, the cursor aside (Stalwart's `total`).
   * Trace lists give it; event pages do not.
   */
  readonly total?: number;
}

/** One message of a span: what the events carrying its queue id say about it. */
export interface TraceMessage {
  readonly queueId: string;
  /** The first `messageId` seen with this queue id. */
  readonly messageId?: string | undefined;
  /** The first sender (`from`) seen with this queue id. */
  readonly from?: string | undefined;
  /** Every recipient (`to`) seen with this queue id, in order, without repeats. */
  readonly to: readonly string[];
  /** The first `size` seen with this queue id, in bytes. */
  readonly size?: number | undefined;
}

/** A stored span: every event from its start event to its end event. */
export interface Trace {
  /** The span id. */
  readonly id: SpanId;
  /** The span's start event type, such as `smtp.connection-start`. */
  readonly type: string;
  /** The span start time, epoch ms. */
  readonly timestamp: number;
  /** The first `queueId` carried by an event of the span. */
  readonly queueId?: string | undefined;
  /** The first sender (`from`) seen in the span. */
  readonly from?: string | undefined;
  /** Every recipient (`to`) seen in the span, in order, without repeats. */
  readonly to: readonly string[];
  /** The first message `size` seen in the span, in bytes. */
  readonly size?: number | undefined;
  /**
   * Each message of the span, in the order their queue ids first appear: a session that queued
   * three messages lists three, each with its own sender, recipients and size.
   */
  readonly messages: readonly TraceMessage[];
  /** Events dropped past the per-span limit (a `telemetry.events-dropped` marker shows where). */
  readonly truncated: number;
  /** The node (process or machine) whose history holds the trace, as stores give it back. */
  readonly node?: string | undefined;
  /** Lower-case values of `from`, `to`, `domain`, `hostname`, `remoteIp` and `messageId`, one per line, for keyword search. */
  readonly keywords: string;
  readonly events: readonly HistoryEvent[];
}

/** A trace without its events, as listed by `traces(query)`. */
export type TraceSummary = Omit<Trace, 'events' | 'keywords'>;

/** Which traces to list; every filter is ANDed. */
export interface TraceQuery {
  /** The span's start event type, such as `delivery.attempt-start`. */
  readonly type?: string;
  /** An exact queue id. */
  readonly queueId?: string | number;
  /**
   * Keywords over from, to, domain, hostname, remoteIp and messageId: whitespace-separated terms, each a
   * case-insensitive substring, `"quoted phrases"` kept whole; all must match.
   */
  readonly keywords?: string;
  /** Inclusive lower bound on the span start, epoch ms. */
  readonly from?: number;
  /** Inclusive upper bound on the span start, epoch ms. */
  readonly to?: number;
  /** Only the traces of this node (a store's `node` option). */
  readonly node?: string;
  /**
   * Most traces returned.
   * @default 100
   */
  readonly limit?: number;
  /** The `cursor` of the previous page. */
  readonly cursor?: string;
}
