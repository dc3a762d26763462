import { isLevel, LEVELS, type Level, severity } from '../base/levels.js';
import { matchPattern } from '../base/patterns.js';
import type { SpanId } from '../catalog/keys.js';
import { EventRecord, merge } from '../core/event.js';
import { readOwnKeys } from './own-keys.js';
import {
  encodeEventCursor,
  type KeyCondition,
  keySource,
  keyValue,
  matchesKey,
  matchesText,
  ownValue,
  type ResolvedEventQuery,
} from './query.js';
import type { HistoryEvent, Page } from './types.js';

type Data = Readonly<Record<string, unknown>>;
const EMPTY: Data = Object.freeze({});

/**
 * A fixed-capacity ring of events stored as columns: ids, times, levels, types and span ids in typed
 * arrays, the data object by reference, and each indexed key's value in a column of its own, so a key
 * query reads one dense array instead of a million differently shaped objects. Appending is O(1) and
 * allocates nothing (past the data the event already has).
 */
export class EventRing {
  readonly capacity: number;
  #head = 0;
  #size = 0;
  readonly #ids: Float64Array;
  readonly #times: Float64Array;
  readonly #types: Uint16Array;
  readonly #levels: Uint8Array;
  /** Numeric span ids; NaN for none or for a text id kept in `#spanText`. */
  readonly #spans: Float64Array;
  readonly #spanText = new Map<number, string>();
  /** Each event's own data (a plain event's whole data). */
  readonly #own: (Data | undefined)[];
  /**
   * A record's span keys (`EMPTY` when it has none); undefined for a plain event. The merged data
   * is built only when a query reads it, and no record is kept: what consumers cached on it goes
   * with it.
   */
  readonly #spanKeys: (Data | undefined)[];
  readonly #typeIndex = new Map<string, number>();
  readonly #typeNames: string[] = [];
  readonly #keys: readonly string[];
  readonly #keyIndex: Map<string, number>;
  readonly #columns: unknown[][];
  /** Indexed values of the event being appended, read before the ring changes. */
  readonly #scratch: unknown[];
  /** The span keys last read (null: none yet) and their indexed values: a span's events come in runs. */
  #span: Data | undefined | null = null;
  readonly #spanValues: unknown[];
  /** Where `spanId` is among the indexed keys, or -1. */
  readonly #spanIdKey: number;
  #sortedIds = true;
  #lastId = Number.NEGATIVE_INFINITY;

  /** The node name every event returned carries. */
  readonly #node: string | undefined;

  constructor(capacity: number, indexKeys: readonly string[], node?: string) {
    this.capacity = capacity;
    this.#node = node;
    this.#ids = new Float64Array(capacity);
    this.#times = new Float64Array(capacity);
    this.#types = new Uint16Array(capacity);
    this.#levels = new Uint8Array(capacity);
    this.#spans = new Float64Array(capacity).fill(Number.NaN);
    this.#own = new Array<Data | undefined>(capacity).fill(undefined);
    this.#spanKeys = new Array<Data | undefined>(capacity).fill(undefined);
    // A key named twice is one column: a record's keys are then walked into one place each.
    const keys = [...new Set(indexKeys)];
    this.#keys = keys;
    this.#keyIndex = new Map(keys.map((k, i) => [k, i]));
    this.#columns = keys.map(() => new Array<unknown>(capacity).fill(undefined));
    this.#scratch = keys.map(() => undefined);
    this.#spanValues = keys.map(() => undefined);
    this.#spanIdKey = keys.indexOf('spanId');
  }

  /** Events held. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends one event, overwriting the oldest when full. Everything is read before anything is
   * written, so an event that throws when read (a getter, a proxy) leaves the ring as it was; the
   * throw reaches the caller, which counts that event alone. Indexed keys are read as own keys only.
   */
  append(event: HistoryEvent): void {
    const id = event.id;
    const timestamp = event.timestamp;
    const levelName = event.level;
    const type = event.type;
    const span = event.spanId;
    // A record is stored as it is, so storing it costs no merged copy of its span's keys.
    const source = keySource(event);
    if (typeof id !== 'number' || typeof timestamp !== 'number' || typeof type !== 'string' || !isLevel(levelName))
      throw new TypeError('expected an event with a numeric id and timestamp, a type and a level');
    if (span !== undefined && typeof span !== 'number' && typeof span !== 'string')
      throw new TypeError('expected a span id that is a number or a string');
    const keys = this.#keys;
    const scratch = this.#scratch;
    if (source instanceof EventRecord) this.#readRecord(source, scratch);
    else for (let k = 0; k < keys.length; k++) scratch[k] = keyValue(source, keys[k] as string);
    const slot = this.#head;
    if (this.#size === this.capacity) this.#evict(slot);
    else this.#size++;
    this.#head = slot + 1 === this.capacity ? 0 : slot + 1;
    if (id <= this.#lastId) this.#sortedIds = false;
    this.#lastId = id;
    this.#ids[slot] = id;
    this.#times[slot] = timestamp;
    this.#levels[slot] = severity(levelName);
    this.#types[slot] = this.#typeOf(type);
    if (typeof span === 'number') this.#spans[slot] = span;
    else if (span !== undefined) this.#spanText.set(slot, span);
    if (source instanceof EventRecord) {
      this.#own[slot] = source.own;
      this.#spanKeys[slot] = source.spanKeys ?? EMPTY;
    } else this.#own[slot] = typeof source === 'object' && source !== null ? (source as Data) : EMPTY;
    for (let k = 0; k < keys.length; k++) {
      (this.#columns[k] as unknown[])[slot] = scratch[k];
      scratch[k] = undefined;
    }
  }

  /**
   * A record's indexed values, as `value(key)` reads them (its own value, else its span id for
   * `spanId`, else its span's), with its span's read once per run of the span's events and only its
   * own keys walked.
   */
  #readRecord(record: EventRecord, scratch: unknown[]): void {
    const keys = this.#keys;
    const span = record.spanKeys;
    if (span !== this.#span) {
      this.#span = span;
      for (let k = 0; k < keys.length; k++)
        this.#spanValues[k] = span === undefined ? undefined : ownValue(span, keys[k] as string);
    }
    for (let k = 0; k < keys.length; k++) scratch[k] = this.#spanValues[k];
    if (this.#spanIdKey >= 0 && record.spanId !== undefined) scratch[this.#spanIdKey] = record.spanId;
    if (!readOwnKeys(record.own, this.#keyIndex, scratch))
      for (let k = 0; k < keys.length; k++) scratch[k] = record.value(keys[k] as string);
  }

  /** Drops events older than `time` from the old end. */
  dropOlderThan(time: number): number {
    let dropped = 0;
    while (this.#size > 0) {
      const oldest = this.#slot(this.#size - 1);
      if ((this.#times[oldest] as number) >= time) break;
      this.#evict(oldest);
      this.#size--;
      dropped++;
    }
    return dropped;
  }

  clear(): void {
    while (this.#size > 0) {
      this.#evict(this.#slot(this.#size - 1));
      this.#size--;
    }
  }

  /** The events matching `q`, newest first. */
  query(q: ResolvedEventQuery): Page<HistoryEvent> {
    const size = this.#size;
    const ids = this.#ids;
    const times = this.#times;
    const levels = this.#levels;
    const types = this.#types;
    const typeMask = this.#typeMask(q.types);
    if (typeMask === null) return { items: [] };
    const indexed: { column: unknown[]; condition: KeyCondition; number: number; lower: boolean }[] = [];
    const scanned: KeyCondition[] = [];
    for (const condition of q.keys) {
      const column = this.#keyIndex.get(condition.key);
      if (column === undefined) {
        scanned.push(condition);
        continue;
      }
      // Numbers are compared as numbers: queueId 7 matches "7" without a String() per slot.
      const number = condition.exact === undefined ? Number.NaN : Number(condition.exact);
      indexed.push({ column: this.#columns[column] as unknown[], condition, number, lower: condition.exact === undefined });
    }
    const spanNumber = q.spanId === undefined ? Number.NaN : Number(q.spanId);
    const spanIsNumber = q.spanId !== undefined && Number.isSafeInteger(spanNumber) && String(spanNumber) === q.spanId;
    const { from, to, minLevel, before, text, limit } = q;
    const items: HistoryEvent[] = [];
    let i = before === undefined ? 0 : this.#firstBelow(before);
    let last = Number.NaN;
    for (; i < size; i++) {
      const slot = this.#slot(i);
      const id = ids[slot] as number;
      if (before !== undefined && id >= before) continue;
      const time = times[slot] as number;
      if (time < from || time > to) continue;
      if ((levels[slot] as number) < minLevel) continue;
      if (typeMask !== undefined && typeMask[types[slot] as number] === 0) continue;
      let ok = true;
      for (let c = 0; c < indexed.length; c++) {
        const { column, condition, number, lower } = indexed[c] as (typeof indexed)[number];
        const value = column[slot];
        if (
          value === undefined ||
          !(lower ? matchesKey(value, condition) : value === condition.exact || matchesExact(value, condition, number))
        ) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (q.spanId !== undefined) {
        const s = this.#spans[slot] as number;
        if (spanIsNumber ? s !== spanNumber : this.#spanText.get(slot) !== q.spanId) continue;
      }
      const data = this.#dataAt(slot);
      if (scanned.length > 0 && !scanned.every((c) => matchesKey(ownValue(data, c.key), c))) continue;
      if (text !== undefined && !matchesText(data, text)) continue;
      if (items.length === limit) return { items, cursor: encodeEventCursor(last) };
      items.push(this.#event(slot, data));
      last = id;
    }
    return { items };
  }

  #event(slot: number, data: Data): HistoryEvent {
    const spanId = this.#spanIdAt(slot);
    const event = {
      id: this.#ids[slot] as number,
      type: this.#typeNames[this.#types[slot] as number] as string,
      level: LEVELS[this.#levels[slot] as number] as Level,
      timestamp: this.#times[slot] as number,
      data,
      node: this.#node,
    };
    return spanId === undefined ? event : { ...event, spanId };
  }

  #spanIdAt(slot: number): SpanId | undefined {
    const span = this.#spans[slot] as number;
    return Number.isNaN(span) ? this.#spanText.get(slot) : span;
  }

  /** A record's merged data, built now (the merge never throws), or a plain event's data. */
  #dataAt(slot: number): Data {
    const own = this.#own[slot];
    const span = this.#spanKeys[slot];
    return span === undefined ? (own ?? EMPTY) : merge(own, span, this.#spanIdAt(slot));
  }

  /** Slot of the `i`-th newest event. */
  #slot(i: number): number {
    const slot = this.#head - 1 - i;
    return slot < 0 ? slot + this.capacity : slot;
  }

  /** Index (newest = 0) of the first event whose id is below `id`. */
  #firstBelow(id: number): number {
    if (!this.#sortedIds) return 0;
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#ids[this.#slot(mid)] as number) < id) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  #evict(slot: number): void {
    for (const column of this.#columns) column[slot] = undefined;
    this.#own[slot] = undefined;
    this.#spanKeys[slot] = undefined;
    if (Number.isNaN(this.#spans[slot] as number)) this.#spanText.delete(slot);
    else this.#spans[slot] = Number.NaN;
  }

  #typeOf(type: string): number {
    let index = this.#typeIndex.get(type);
    if (index === undefined) {
      index = this.#typeNames.length;
      this.#typeNames.push(type);
      this.#typeIndex.set(type, index);
    }
    return index;
  }

  /** Per stored type, 1 when a pattern matches; `undefined` for no filter, `null` when nothing can match. */
  #typeMask(patterns: readonly string[] | undefined): Uint8Array | undefined | null {
    if (patterns === undefined) return undefined;
    const mask = new Uint8Array(this.#typeNames.length);
    let any = false;
    this.#typeNames.forEach((name, i) => {
      if (patterns.some((p) => matchPattern(p, name))) {
        mask[i] = 1;
        any = true;
      }
    });
    return any ? mask : null;
  }
}

/** The slow half of an exact match, once the string fast path failed. */
function matchesExact(value: unknown, condition: KeyCondition, number: number): boolean {
  if (typeof value === 'string') return false;
  if (typeof value === 'number') return value === number && String(value) === condition.exact;
  return matchesKey(value, condition);
}
