import { dataJson, eventId, JSON_LIMITS, plainJson } from '../base/json.js';
import type { Level } from '../base/levels.js';
import type { SpanId } from '../catalog/keys.js';
import type { TelemetryEvent, TelemetryEventJSON } from '../catalog/types.js';

type Data = Readonly<Record<string, unknown>>;
const EMPTY: Data = Object.freeze({});

/**
 * One emitted event, shared by reference with every consumer. The merged `data` view is built
 * on first read, so consumers that never look at the keys never pay for the merge.
 */
export class EventRecord implements TelemetryEvent {
  readonly id: number;
  readonly type: string;
  readonly typeId: number;
  readonly level: Level;
  readonly timestamp: number;
  readonly spanId: SpanId | undefined;
  readonly #origin: object | undefined;
  /** The event's own keys. */
  readonly #own: Data | undefined;
  /** The merged view, once read. */
  #data: Data | undefined;
  /** The merged view as JSON, once written: every writer of the same record shares it. */
  #json: string | undefined;
  /** The id as every wire writes it, once written. */
  #idJson: string | undefined;
  /** The span's keys. */
  readonly #span: Data | undefined;
  /** Where the span's JSON is kept for all its events, when the core made the record. */
  readonly #slot: SpanJsonSlot | undefined;
  /** The copy a store keeps (see `stored`), once made. */
  #stored: EventRecord | undefined;

  constructor(
    id: number,
    type: string,
    typeId: number,
    level: Level,
    timestamp: number,
    spanId: SpanId | undefined,
    own: Data | undefined,
    span: Data | undefined,
    origin: object | undefined,
    slot?: SpanJsonSlot,
  ) {
    this.id = id;
    this.type = type;
    this.typeId = typeId;
    this.level = level;
    this.timestamp = timestamp;
    this.spanId = spanId;
    this.#origin = origin;
    this.#own = own;
    this.#data = undefined;
    this.#json = undefined;
    this.#idJson = undefined;
    this.#span = span;
    this.#slot = slot;
    this.#stored = undefined;
  }

  /**
   * The record to keep for long, as the history does: the same event over the same own and span
   * keys, without what consumers cached on this one (its JSON, its merged view) or its origin, which
   * would otherwise live as long as the store keeps it. Made once: a second call returns the same
   * copy.
   */
  stored(): EventRecord {
    if (this.#stored === undefined) {
      const copy = new EventRecord(
        this.id,
        this.type,
        this.typeId,
        this.level,
        this.timestamp,
        this.spanId,
        this.#own,
        this.#span,
        undefined,
      );
      copy.#stored = copy;
      this.#stored = copy;
    }
    return this.#stored;
  }

  /** For the library's own reports: the consumer whose failure it reports, which never receives it. */
  get origin(): object | undefined {
    return this.#origin;
  }

  get data(): Data {
    this.#data ??= merge(this.#own, this.#span, this.spanId);
    return this.#data;
  }

  /**
   * The merged data as JSON (`dataJson`), written once per record and shared by the JSON tracers,
   * the webhook bodies and the live frames that receive it.
   */
  get dataJson(): string {
    if (this.#json === undefined) {
      let composed: string | undefined;
      try {
        composed = composedJson(this.#own, this.#span, this.spanId, this.#slot);
      } catch {
        composed = undefined; // a hostile object: the merge below reads it with care
      }
      this.#json = composed ?? dataJson(this.data);
    }
    return this.#json;
  }

  /** The id as a JSON token (`eventId`), written once and shared by the webhook and live writers. */
  get idJson(): string {
    this.#idJson ??= eventId(this.id);
    return this.#idJson;
  }

  /**
   * One key of the merged data, read without building the merged object: the event's own value,
   * else its span id for `spanId`, else the span's. A key whose getter throws reads as absent, as
   * the merge leaves it out.
   */
  value(key: string): unknown {
    const own = this.#own;
    if (own !== undefined && Object.hasOwn(own, key)) {
      try {
        const value = own[key];
        if (value !== undefined) return value;
      } catch {
        // Left out, as in the merge: the span's value (if any) shows instead.
      }
    }
    if (key === 'spanId' && this.spanId !== undefined) return this.spanId;
    const span = this.#span;
    if (span === undefined || !Object.hasOwn(span, key)) return undefined;
    try {
      return span[key];
    } catch {
      return undefined;
    }
  }

  /** The keys given at emit, without the span's: for sinks that record the span's keys once. */
  get own(): Data {
    return this.#own ?? EMPTY;
  }

  /** The keys of the event's span (its start event's), if it is in one. */
  get spanKeys(): Data | undefined {
    return this.#span;
  }

  toJSON(): TelemetryEventJSON {
    const json = { id: this.id, type: this.type, level: this.level, timestamp: this.timestamp, data: this.data };
    return this.spanId === undefined ? json : { ...json, spanId: this.spanId };
  }
}

/**
 * An event's merged data, as `EventRecord.data` reads it: its own keys first, then its span id and
 * the span's keys it lacks; undefined values are left out. Never throws (a key whose getter throws
 * is left out). Own keys only: a `__proto__` key stays a plain key and never becomes the copy's
 * prototype.
 */
export function merge(own: Data | undefined, span: Data | undefined, spanId: SpanId | undefined): Data {
  if (span === undefined && spanId === undefined) return own ?? EMPTY;
  const out: Record<string, unknown> = {};
  if (own !== undefined) copyOwn(out, own);
  if (spanId !== undefined && !Object.hasOwn(out, 'spanId')) out.spanId = spanId;
  if (span !== undefined) copyOwn(out, span);
  // Not frozen: freezing costs more than the merge on hot paths; the types make it read-only.
  return out;
}

/** Copies the keys of `from` that `to` lacks; a key whose getter throws is left out. */
function copyOwn(to: Record<string, unknown>, from: Data): void {
  let keys: string[];
  try {
    keys = Object.keys(from);
  } catch {
    return;
  }
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (Object.hasOwn(to, key)) continue;
    let value: unknown;
    try {
      value = from[key];
    } catch {
      continue;
    }
    if (value === undefined) continue;
    if (key === '__proto__') Object.defineProperty(to, key, { value, enumerable: true, writable: true, configurable: true });
    else to[key] = value;
  }
}

/** The own keys of `data` that can be read, copied; a key whose getter throws is left out. */
export function readableKeys(data: Data | undefined): Data {
  const copy: Record<string, unknown> = {};
  let keys: string[] = [];
  try {
    keys = Object.keys(data ?? {});
  } catch {
    return copy;
  }
  for (const key of keys) {
    try {
      Object.defineProperty(copy, key, { value: (data as Data)[key], enumerable: true, writable: true, configurable: true });
    } catch {
      // left out
    }
  }
  return copy;
}

/** An event's data as JSON: the record's shared copy, or written now for an event made elsewhere. */
export function eventDataJson(event: TelemetryEvent): string {
  return event instanceof EventRecord ? event.dataJson : dataJson(event.data);
}

/** A span's keys as JSON: the whole fragment (no braces) and its `"key":value` pieces, in order. */
export interface SpanJson {
  readonly text: string;
  /** How many of the span's keys have a value: an event that sets them all takes nothing from the span. */
  readonly defined: number;
  keys: readonly string[] | undefined;
  pieces: readonly string[] | undefined;
}

/**
 * Where a span keeps its keys' JSON (the core's span state): unset until an event of the span is
 * first written; null when the keys are not plain, so its events merge.
 */
export interface SpanJsonSlot {
  json: SpanJson | null | undefined;
}

/** The same, for records made without a slot (redacted copies, events made elsewhere). */
const spanJson = new WeakMap<Data, SpanJson | null>();

/**
 * The merged data's JSON made from the event's own keys and its span's cached JSON, without
 * building the merged object, when the result is exactly what `dataJson(merged)` writes: no key is
 * an array index (which JSON orders first) and every value is plain. Span keys the event sets
 * itself are left out of the span's part, as the merge leaves them out. Otherwise undefined, and
 * the caller merges.
 */
function composedJson(
  own: Data | undefined,
  span: Data | undefined,
  spanId: SpanId | undefined,
  slot: SpanJsonSlot | undefined,
): string | undefined {
  if (span === undefined) return spanId === undefined ? dataJson(own ?? EMPTY) : undefined;
  if (typeof spanId !== 'number' || !Number.isSafeInteger(spanId)) return undefined;
  // A slot costs a field read; the WeakMap, a hashed lookup (and an entry for the GC) per span.
  let parts = slot === undefined ? spanJson.get(span) : slot.json;
  if (parts === undefined) {
    parts = spanJsonOf(span);
    if (slot === undefined) spanJson.set(span, parts);
    else slot.json = parts;
  }
  if (parts === null) return undefined;
  // A span's start event: its keys are the span's own object.
  if (own === span) return parts.text === '' ? `{"spanId":${spanId}}` : `{${parts.text},"spanId":${spanId}}`;
  let ownJson = '{}';
  let overrides = false;
  /** Span keys with a value that the event sets to a value of its own. */
  let replaced = 0;
  if (own !== undefined) {
    for (const key in own) {
      if (key === 'spanId' || indexLike(key)) return undefined;
      if (!Object.hasOwn(span, key)) continue;
      overrides = true;
      if (span[key] !== undefined && own[key] !== undefined && Object.hasOwn(own, key)) replaced++;
    }
    const json = plainJson(own);
    if (json === undefined || json.length + parts.text.length > JSON_LIMITS.maxJson) return undefined;
    ownJson = json;
  }
  let fragment = parts.text;
  // A span's start event sets every key of its span: nothing is left of the span's part, and its pieces are never needed.
  if (replaced === parts.defined) fragment = '';
  else if (overrides) {
    if (parts.keys === undefined) piecesOf(parts, span);
    fragment = remainingPieces(parts, own as Data);
  }
  const head = ownJson.length > 2 ? `${ownJson.slice(0, -1)},` : '{';
  return fragment === '' ? `${head}"spanId":${spanId}}` : `${head}"spanId":${spanId},${fragment}}`;
}

/** The span's pieces whose keys `own` does not set (own keys with undefined values do not count, as in the merge). */
function remainingPieces(parts: SpanJson, own: Data): string {
  const keys = parts.keys ?? [];
  const pieces = parts.pieces ?? [];
  let out = '';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (Object.hasOwn(own, key) && own[key] !== undefined) continue;
    out = out === '' ? (pieces[i] as string) : `${out},${pieces[i]}`;
  }
  return out;
}

function spanJsonOf(span: Data): SpanJson | null {
  for (const key in span) if (key === 'spanId' || indexLike(key) || !Object.hasOwn(span, key)) return null;
  const whole = plainJson(span);
  if (whole === undefined) return null;
  let defined = 0;
  for (const key in span) if (span[key] !== undefined) defined++;
  return { text: whole.slice(1, -1), defined, keys: undefined, pieces: undefined };
}

/** The span's `"key":value` pieces, made when an event first overrides one of its keys. */
function piecesOf(parts: SpanJson, span: Data): void {
  const keys: string[] = [];
  const pieces: string[] = [];
  for (const key in span) {
    const value = span[key];
    if (value === undefined) continue;
    keys.push(key);
    // The whole span was written plainly, so each value is too, exactly as within the object.
    pieces.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
  }
  parts.keys = keys;
  parts.pieces = pieces;
}

/** Keys starting with a digit may be array indices, which objects list before every other key. */
function indexLike(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57;
}
