import { describeError } from '../base/errors.js';
import type { SpanId } from '../catalog/keys.js';
import { EventRing } from './event-ring.js';
import { nodeOption } from './node.js';
import { encodeTraceCursor, type ResolvedEventQuery, type ResolvedTraceQuery, traceAfter } from './query.js';
import type { SeriesPoint, SeriesQuery } from './series.js';
import { hasQueueId, matchesTerms } from './traces.js';
import type { HistoryEvent, Page, Trace, TraceSummary } from './types.js';

/** A value or a promise of it: stores may be synchronous or not. */
export type MaybePromise<T> = T | Promise<T>;

/** New records for a store. */
export interface HistoryRecords {
  readonly events?: readonly HistoryEvent[];
  readonly traces?: readonly Trace[];
  readonly series?: readonly SeriesPoint[];
}

/**
 * What an append could not keep. A store keeps every record it can: an event it cannot read or
 * serialise costs that event alone, and is counted here rather than failing the batch.
 */
export interface AppendResult {
  /** Events refused. */
  readonly rejected: number;
  /** Why the first of them was refused. */
  readonly reason?: string;
}

/** How long, and how many, of each kind of record to keep. */
export interface RetentionPolicy {
  readonly events: { readonly maxAge: number; readonly capacity: number };
  readonly traces: { readonly maxAge: number; readonly capacity: number };
  readonly series: { readonly maxAge: number; readonly capacity: number };
}

/**
 * Where the history keeps its records: the in-memory {@link MemoryHistoryStore} by default, or
 * `SqliteHistoryStore` from `mail-telemetry/sqlite`. Queries arrive validated; results are newest first
 * (series: oldest first).
 */
export interface HistoryStore {
  /**
   * Adds records. Returns (or resolves to) an {@link AppendResult} when some events were refused;
   * a throw or rejection means the whole append failed.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: stores written before AppendResult return void
  append(records: HistoryRecords): MaybePromise<AppendResult | void>;
  events(query: ResolvedEventQuery): MaybePromise<Page<HistoryEvent>>;
  traces(query: ResolvedTraceQuery): MaybePromise<Page<TraceSummary>>;
  trace(id: SpanId): MaybePromise<Trace | undefined>;
  series(query: SeriesQuery): MaybePromise<readonly SeriesPoint[]>;
  /** Drops what is older than each kind's `maxAge` before `now`, and beyond each kind's `capacity`. */
  purge(retention: RetentionPolicy, now: number): MaybePromise<void>;
  close?(): MaybePromise<void>;
}

/** Capacities of a {@link MemoryHistoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most events kept; the oldest go first.
   * @default 10_000
   */
  readonly events?: number;
  /**
   * Most span traces kept; the oldest go first.
   * @default 1000
   */
  readonly traces?: number;
  /**
   * Most metric series points kept; the oldest go first.
   * @default 10_000
   */
  readonly series?: number;
  /** Keys the event ring indexes. @default the history's `indexKeys` */
  readonly indexKeys?: readonly string[];
  /**
   * The node name the store's records carry in query results, and that a query's `node` matches.
   * @default `${os.hostname()}:${process.pid}`
   */
  readonly node?: string;
}

interface StoredTrace {
  readonly trace: Trace;
  readonly seq: number;
  /** `String(trace.id)`, made once: an id of 16 digits costs more to write than the rest of an append. */
  readonly key: string;
}

/** A FIFO of at most `capacity` items that overwrites its oldest; its array grows to `capacity` as needed. */
class Fifo<T> {
  #items: (T | undefined)[];
  #head = 0;
  size = 0;

  constructor(readonly capacity: number) {
    this.#items = new Array<T | undefined>(Math.min(capacity, 1024));
  }

  /** Appends; returns the item pushed out, if any. */
  push(item: T): T | undefined {
    if (this.size === this.#items.length && this.size < this.capacity) this.#grow();
    const length = this.#items.length;
    if (this.size === this.capacity) {
      const out = this.#items[this.#head];
      this.#items[this.#head] = item;
      this.#head = (this.#head + 1) % length;
      return out;
    }
    this.#items[(this.#head + this.size) % length] = item;
    this.size++;
    return undefined;
  }

  /** The `i`-th oldest item. */
  at(i: number): T {
    return this.#items[(this.#head + i) % this.#items.length] as T;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.size--;
    return item;
  }

  #grow(): void {
    const next = new Array<T | undefined>(Math.min(this.capacity, this.#items.length * 2));
    for (let i = 0; i < this.size; i++) next[i] = this.at(i);
    this.#items = next;
    this.#head = 0;
  }
}

/** The default store: bounded rings in the process's memory. */
export class MemoryHistoryStore implements HistoryStore {
  /** The node name of every record this store holds. */
  readonly node: string;
  readonly #events: EventRing;
  readonly #traces: Fifo<StoredTrace>;
  readonly #byId = new Map<string, StoredTrace>();
  readonly #series: Fifo<SeriesPoint>;
  #seq = 0;
  #rejected = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.node = nodeOption(options.node, 'MemoryHistoryStore(options).node');
    this.#events = new EventRing(options.events ?? 10_000, options.indexKeys ?? [], this.node);
    this.#traces = new Fifo(options.traces ?? 1000);
    this.#series = new Fifo(options.series ?? 10_000);
  }

  /** Events refused since the store was created (unreadable: a throwing getter or proxy). */
  get rejected(): number {
    return this.#rejected;
  }

  append(records: HistoryRecords): AppendResult | undefined {
    let rejected = 0;
    let reason: string | undefined;
    if (records.events !== undefined) {
      for (const event of records.events) {
        try {
          this.#events.append(event);
        } catch (error) {
          rejected++;
          reason ??= describeError(error);
        }
      }
    }
    if (records.traces !== undefined) {
      for (const trace of records.traces) {
        const key = String(trace.id);
        const stored = { trace, seq: ++this.#seq, key };
        const old = this.#byId.get(key);
        this.#byId.set(key, stored);
        const out = this.#traces.push(stored);
        if (out !== undefined) this.#forget(out);
        if (old !== undefined) this.#forget(old);
      }
    }
    if (records.series !== undefined) for (const point of records.series) this.#series.push(point);
    if (rejected === 0) return undefined;
    this.#rejected += rejected;
    return { rejected, reason: reason as string };
  }

  events(query: ResolvedEventQuery): Page<HistoryEvent> {
    if (query.node !== undefined && query.node !== this.node) return { items: [] };
    return this.#events.query(query);
  }

  traces(q: ResolvedTraceQuery): Page<TraceSummary> {
    if (q.node !== undefined && q.node !== this.node) return { items: [], total: 0 };
    const found: StoredTrace[] = [];
    let total = 0;
    for (let i = 0; i < this.#traces.size; i++) {
      const stored = this.#traces.at(i);
      const t = stored.trace;
      if (this.#byId.get(stored.key) !== stored) continue;
      if (t.timestamp < q.from || t.timestamp > q.to) continue;
      if (q.type !== undefined && t.type !== q.type) continue;
      if (q.queueId !== undefined && !hasQueueId(t, q.queueId)) continue;
      if (!matchesTerms(t.keywords, q.terms)) continue;
      total++;
      if (q.after !== undefined && !traceAfter({ timestamp: t.timestamp, seq: stored.seq }, q.after)) continue;
      found.push(stored);
    }
    found.sort((a, b) => b.trace.timestamp - a.trace.timestamp || b.seq - a.seq);
    const page = found.slice(0, q.limit);
    const last = page.at(-1);
    const items = page.map((s) => ({ ...summary(s.trace), node: this.node }));
    return found.length > q.limit && last !== undefined
      ? { items, cursor: encodeTraceCursor({ timestamp: last.trace.timestamp, seq: last.seq }), total }
      : { items, total };
  }

  trace(id: SpanId): Trace | undefined {
    const trace = this.#byId.get(String(id))?.trace;
    return trace === undefined ? undefined : { ...trace, node: this.node };
  }

  series(query: SeriesQuery): readonly SeriesPoint[] {
    if (query.node !== undefined && query.node !== this.node) return [];
    const names = query.metrics === undefined ? undefined : new Set(query.metrics);
    const from = query.from ?? Number.NEGATIVE_INFINITY;
    const to = query.to ?? Number.POSITIVE_INFINITY;
    const out: SeriesPoint[] = [];
    for (let i = 0; i < this.#series.size; i++) {
      const p = this.#series.at(i);
      if (p.timestamp >= from && p.timestamp <= to && (names === undefined || names.has(p.metric)))
        out.push({ ...p, node: this.node });
    }
    return out;
  }

  purge(retention: RetentionPolicy, now: number): void {
    this.#events.dropOlderThan(now - retention.events.maxAge);
    const traceCut = now - retention.traces.maxAge;
    while (this.#traces.size > 0 && this.#traces.at(0).trace.timestamp < traceCut) {
      const out = this.#traces.shift() as StoredTrace;
      this.#forget(out);
    }
    // Traces are stored in end order: a long span that ended late may be older than newer ones before it.
    for (let i = 0; i < this.#traces.size; i++) {
      const stored = this.#traces.at(i);
      if (stored.trace.timestamp < traceCut) this.#forget(stored);
    }
    const seriesCut = now - retention.series.maxAge;
    while (this.#series.size > 0 && this.#series.at(0).timestamp < seriesCut) this.#series.shift();
  }

  close(): void {
    this.#events.clear();
    this.#byId.clear();
  }

  #forget(stored: StoredTrace): void {
    if (this.#byId.get(stored.key) === stored) this.#byId.delete(stored.key);
  }
}

/** A trace without its events and keyword text. */
export function summary(trace: Trace): TraceSummary {
  const { events: _events, keywords: _keywords, ...rest } = trace;
  return rest;
}
