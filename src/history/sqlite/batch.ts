import { describeError } from '../../base/errors.js';
import { integerText, JSON_LIMITS } from '../../base/json.js';
import { severity } from '../../base/levels.js';
import type { SpanId } from '../../catalog/keys.js';
import { EventRecord } from '../../core/event.js';
import { storableEvent } from '../json.js';
import { readOwnKeys } from '../own-keys.js';
import { keyValue, ownValue, valueText } from '../query.js';
import type { HistoryEvent } from '../types.js';
import { addEvent, type EventColumns, emptyColumns, keySeed, SPAN_KEY, valueHash } from './block.js';

/** Events refused by one append, and why the first was. */
export interface Refused {
  rejected: number;
  reason: string | undefined;
}

/** The index keys of a store: their names, newline-joined as blocks record them, and their hash seeds. */
export interface IndexKeys {
  readonly names: readonly string[];
  /** Each name's position. */
  readonly numbers: ReadonlyMap<string, number>;
  /** False when `spanId` is indexed, whose value a record reads from its span id, not its keys. */
  readonly fast: boolean;
  readonly keyset: string;
  readonly seeds: readonly number[];
}

export function indexKeys(names: Iterable<string>): IndexKeys {
  const unique = [...new Set(names)];
  return {
    names: unique,
    numbers: new Map(unique.map((name, k) => [name, k])),
    fast: !unique.includes('spanId'),
    keyset: unique.join('\n'),
    seeds: unique.map(keySeed),
  };
}

export const SPAN_SEED = keySeed(SPAN_KEY);

/** A batch read for storage: its columns, and the order to store them in (ids ascending, each id once). */
export interface ReadBatch {
  readonly columns: EventColumns;
  readonly order: readonly number[];
}

/**
 * Reads every event of a batch. One that cannot be read (a throwing getter, no safe-integer id, ...)
 * costs itself alone, counted in `refused`. Of events sharing an id, the last one read stands.
 */
export function readBatch(events: readonly HistoryEvent[], keys: IndexKeys, refused: Refused): ReadBatch {
  const columns = emptyColumns();
  let spanId: SpanId | undefined;
  let spanText: string | undefined;
  const spanHashes: SpanHashes = { keys: undefined, present: [], hashes: [], own: keys.names.map(() => undefined) };
  let spanHash = 0;
  let sorted = true;
  let lastId = Number.NEGATIVE_INFINITY;
  for (const event of events) {
    const hashCount = columns.hashes.length;
    try {
      const { id, timestamp, type, level, spanId: span } = event;
      const { source, json } = storableEvent(event);
      hashValues(source, keys, columns.hashes, spanHashes);
      // The events of one span come in runs: its text is made once per run.
      if (span !== spanId) {
        spanId = span;
        spanText =
          span === undefined
            ? undefined
            : typeof span === 'number' && Number.isSafeInteger(span)
              ? integerText(span)
              : String(span);
        spanHash = spanText === undefined ? 0 : valueHash(SPAN_SEED, spanText);
      }
      if (spanText !== undefined) columns.hashes.push(spanHash);
      if (id <= lastId) sorted = false;
      lastId = id;
      addEvent(columns, id, timestamp, severity(level), type, spanText, json);
    } catch (error) {
      columns.hashes.length = hashCount;
      refused.rejected++;
      refused.reason ??= describeError(error);
    }
  }
  const count = columns.ids.length;
  const order = new Array<number>(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return { columns, order: sorted ? order : lastOfEachId(columns.ids, order) };
}

/** `order` sorted by id, keeping the last of the events that share one. */
function lastOfEachId(ids: readonly number[], order: number[]): number[] {
  order.sort((a, b) => (ids[a] as number) - (ids[b] as number) || a - b);
  return order.filter((e, i) => i + 1 === order.length || ids[order[i + 1] as number] !== ids[e]);
}

/** Appends the hash of each indexed value of an event (each item of an array value) to `out`. */
export function hashValues(source: unknown, keys: IndexKeys, out: number[], spans?: SpanHashes): void {
  if (spans !== undefined && keys.fast && source instanceof EventRecord && source.spanKeys !== undefined) {
    const length = out.length;
    try {
      if (hashRecord(source.own, source.spanKeys, keys, out, spans)) return;
    } catch {
      spans.keys = undefined;
    }
    // A hostile object: the one-key-at-a-time reading below decides what can be read.
    out.length = length;
  }
  const { names, seeds } = keys;
  for (let k = 0; k < names.length; k++) hashValue(keyValue(source, names[k] as string), seeds[k] as number, out);
}

/**
 * The hashes of an event in a span: its own indexed keys', then its span's it does not set, the
 * span's made once per run of its events. The same values `keyValue` reads, key by key. False when
 * its own keys cannot be walked (`readOwnKeys`).
 */
function hashRecord(own: object, span: object, keys: IndexKeys, out: number[], spans: SpanHashes): boolean {
  if (spans.keys !== span) {
    spans.keys = span;
    const present: number[] = [];
    const hashes: number[][] = [];
    keys.names.forEach((name, k) => {
      const list: number[] = [];
      hashValue(ownValue(span, name), keys.seeds[k] as number, list);
      if (list.length === 0) return;
      present.push(k);
      hashes.push(list);
    });
    spans.present = present;
    spans.hashes = hashes;
  }
  const values = spans.own;
  try {
    if (!readOwnKeys(own, keys.numbers, values)) return false;
    for (let k = 0; k < values.length; k++) hashValue(values[k], keys.seeds[k] as number, out);
    const { present, hashes } = spans;
    for (let i = 0; i < present.length; i++) {
      if (values[present[i] as number] !== undefined) continue;
      const list = hashes[i] as number[];
      for (let h = 0; h < list.length; h++) out.push(list[h] as number);
    }
    return true;
  } finally {
    // A loop: `fill` on a short array costs more than the hashing.
    for (let k = 0; k < values.length; k++) values[k] = undefined;
  }
}

/** The span keys last hashed: which index keys they hold, and the hashes of each one's value. */
export interface SpanHashes {
  keys: object | undefined;
  present: readonly number[];
  hashes: readonly (readonly number[])[];
  /** The event's own indexed values, by key number, while it is read. */
  readonly own: unknown[];
}

function hashValue(value: unknown, seed: number, out: number[]): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    const text = valueText(value);
    if (text !== undefined) out.push(valueHash(seed, text));
    return;
  }
  const length = Math.min(value.length, JSON_LIMITS.maxMembers);
  for (let i = 0; i < length; i++) {
    const text = valueText(ownValue(value, String(i)));
    if (text !== undefined) out.push(valueHash(seed, text));
  }
}
