import { JSON_LIMITS } from '../base/json.js';
import type { SpanId } from '../catalog/keys.js';
import { EventRecord } from '../core/event.js';
import { readOwnKeys } from './own-keys.js';
import { keySource, keyValue, ownValue, valueText } from './query.js';
import { SmallSet } from './small-set.js';
import type { HistoryEvent, Trace, TraceMessage } from './types.js';

/** The event that marks where a span's events were cut. */
export const TRUNCATED_EVENT = 'telemetry.events-dropped';

/** Messages listed per trace; a session past it still keeps every event. */
const MAX_MESSAGES = 1000;

interface OpenSpan {
  readonly start: HistoryEvent;
  readonly end: string;
  readonly events: HistoryEvent[];
  readonly draft: TraceDraft;
  dropped: number;
}

/**
 * What the collector hands over when a span ends: the trace, and whether it carried a message (a
 * `queueId` or a `messageId`: what {@link keepsMessages} says, known without reading it again).
 */
export type TraceSink = (trace: Trace, messageBearing: boolean) => void;

/**
 * Gathers each open span's events and builds its trace when the end event arrives. Open spans are
 * bounded: past `maxOpen` the oldest is dropped, and spans open longer than the caller's age limit
 * are swept.
 */
export class TraceCollector {
  readonly #open = new Map<SpanId, OpenSpan>();
  readonly #spans: ReadonlyMap<string, string>;
  readonly #maxEvents: number;
  readonly #maxOpen: number;
  readonly #sink: TraceSink;
  /** Event types with the end type of the span each starts (none: it starts none), by the type's number in the catalogue. */
  readonly #ends: ({ readonly type: string; readonly end: string | undefined } | undefined)[] = [];
  /** The span of the last event read: a session's events come in runs. */
  #lastId: SpanId | undefined;
  #last: OpenSpan | undefined;
  /** Open spans dropped for the bound or the age sweep. */
  abandoned = 0;

  constructor(spans: ReadonlyMap<string, string>, maxEvents: number, maxOpen: number, sink: TraceSink) {
    this.#spans = spans;
    this.#maxEvents = maxEvents;
    this.#maxOpen = maxOpen;
    this.#sink = sink;
  }

  get open(): number {
    return this.#open.size;
  }

  add(event: HistoryEvent): void {
    const spanId = event.spanId;
    if (spanId === undefined) return;
    const end = this.#endOf(event);
    if (end !== undefined) {
      // A start event opens the span (a repeated start id replaces a stale one).
      this.#open.delete(spanId);
      const draft = new TraceDraft();
      draft.add(event);
      const start = kept(event);
      const opened: OpenSpan = { start, end, events: [start], draft, dropped: 0 };
      this.#open.set(spanId, opened);
      this.#lastId = spanId;
      this.#last = opened;
      if (this.#open.size > this.#maxOpen) this.#abandonOldest();
      return;
    }
    let span: OpenSpan | undefined;
    if (spanId === this.#lastId) span = this.#last;
    else {
      span = this.#open.get(spanId);
      this.#lastId = spanId;
      this.#last = span;
    }
    if (span === undefined) return;
    if (event.type === span.end) {
      this.#open.delete(spanId);
      this.#forgetLast();
      const { draft, events, dropped, start } = span;
      if (dropped > 0) {
        const marker: HistoryEvent = {
          id: event.id,
          type: TRUNCATED_EVENT,
          level: 'warn',
          timestamp: event.timestamp,
          spanId: event.spanId,
          data: { total: dropped, reason: `span trace truncated: ${dropped} events dropped` },
        };
        events.push(marker);
        draft.add(marker);
      }
      events.push(kept(event));
      draft.add(event);
      this.#sink(draft.build(start.spanId as SpanId, start.type, start.timestamp, events, dropped), draft.messageBearing);
      return;
    }
    if (span.events.length < this.#maxEvents - 1) {
      span.events.push(kept(event));
      span.draft.add(event);
    } else span.dropped++;
  }

  /** Drops spans that started before `time`. */
  sweep(time: number): void {
    this.#forgetLast();
    for (const [id, span] of this.#open) {
      if (span.start.timestamp >= time) break;
      this.#open.delete(id);
      this.abandoned++;
    }
  }

  clear(): void {
    this.#open.clear();
    this.#forgetLast();
  }

  /** The end type of the span `event` starts, if it starts one: looked up once per event type. */
  #endOf(event: HistoryEvent): string | undefined {
    const type = event.type;
    if (!(event instanceof EventRecord)) return this.#spans.get(type);
    const known = this.#ends[event.typeId];
    // The type is checked too: a record made outside the core may carry any number.
    if (known !== undefined && known.type === type) return known.end;
    const end = this.#spans.get(type);
    this.#ends[event.typeId] = { type, end };
    return end;
  }

  #forgetLast(): void {
    this.#lastId = undefined;
    this.#last = undefined;
  }

  #abandonOldest(): void {
    this.#forgetLast();
    const oldest = this.#open.keys().next();
    if (oldest.done !== true) {
      this.#open.delete(oldest.value);
      this.abandoned++;
    }
  }
}

/**
 * A trace with its derived fields, from its events. Only own keys are read, and an event whose data
 * cannot be read adds nothing to them.
 */
export function traceOf(id: SpanId, type: string, timestamp: number, events: readonly HistoryEvent[], truncated: number): Trace {
  const draft = new TraceDraft();
  for (const event of events) draft.add(event);
  return draft.build(id, type, timestamp, events, truncated);
}

// The keys a trace's summary reads, by bit.
const QUEUE_ID = 0;
const FROM = 1;
const SIZE = 2;
const TO = 3;
const MESSAGE_ID = 7;
const KEYS = ['queueId', 'from', 'size', 'to', 'domain', 'hostname', 'remoteIp', 'messageId'] as const;
/** The keyword keys, in the order their values join the keywords. */
const KEYWORD_BITS = [FROM, TO, 4, 5, 6, MESSAGE_ID] as const;

interface MessageDraft {
  readonly queueId: string;
  messageId: string | undefined;
  from: string | undefined;
  readonly to: SmallSet;
  size: number | undefined;
  /** The span's keys already applied to this message (bits of {@link KEYS}), in span generation `generation`. */
  spanDone: number;
  generation: number;
}

/**
 * A trace's summary built as its events arrive, each event read once. An event's keys are its own
 * over its span's (as the merged data has them); the span's keys are the same object for every
 * event of the span, so their values are read once, and applied once to each part of the summary:
 * applying one again changes nothing, as every part keeps the first value or a set of values. The
 * answer is the one a rebuild over every event's merged data gives (a property test checks it).
 */
export class TraceDraft {
  #queueId: string | undefined;
  #from: string | undefined;
  #size: number | undefined;
  #to: SmallSet | undefined;
  /** The keywords, lower-cased. */
  #keywords: SmallSet | undefined;
  #messages: Map<string, MessageDraft> | undefined;
  /** The span keys of the events read, and their values by bit. */
  #span: Readonly<Record<string, unknown>> | undefined;
  readonly #spanValues: unknown[] = noValues();
  /** Bumped when the span keys change, so that what was applied from the last ones is forgotten. */
  #generation = 0;
  /** The span's keys already applied to the trace's own fields. */
  #spanDone = 0;
  /** The event's own values by bit (those it carries itself), for the event being read. */
  readonly #own: unknown[] = noValues();
  /** True once an event carried a `messageId`. */
  #sawMessageId = false;

  /** True when the trace carried a message: a `queueId` or a `messageId`. */
  get messageBearing(): boolean {
    return this.#queueId !== undefined || this.#sawMessageId;
  }

  add(event: HistoryEvent): void {
    let own: unknown;
    let span: Readonly<Record<string, unknown>> | undefined;
    if (event instanceof EventRecord) {
      own = event.own;
      span = event.spanKeys;
    } else {
      try {
        own = event.data;
      } catch {
        return;
      }
    }
    if (span !== this.#span) this.#useSpan(span);
    const values = this.#own;
    const mask = typeof own === 'object' && own !== null ? readOwn(own, values) : 0;
    // Bits of the keys to apply: the event's own, and the span's not yet applied.
    const apply = mask | (~this.#spanDone & ALL);
    const queueId = valueText(this.#value(QUEUE_ID, mask));
    if (this.#value(MESSAGE_ID, mask) !== undefined) this.#sawMessageId = true;
    if (queueId !== undefined) this.#message(queueId, mask);
    if ((apply & (1 << QUEUE_ID)) !== 0) this.#queueId ??= queueId;
    if ((apply & (1 << FROM)) !== 0) this.#from ??= stringValue(this.#value(FROM, mask));
    if (this.#size === undefined && (apply & (1 << SIZE)) !== 0) {
      const size = this.#value(SIZE, mask);
      if (typeof size === 'number') this.#size = size;
    }
    if ((apply & (1 << TO)) !== 0) {
      const to = this.#value(TO, mask);
      if (typeof to === 'string') this.#recipient(to);
      else if (to !== undefined) for (const address of items(to)) this.#recipient(address);
    }
    for (const k of KEYWORD_BITS) {
      if ((apply & (1 << k)) === 0) continue;
      // Most values are one string: no list is made for it.
      const value = this.#value(k, mask);
      if (typeof value === 'string') this.#keyword(value);
      else if (value !== undefined) for (const text of items(value)) this.#keyword(text);
    }
    this.#spanDone |= ~mask & ALL;
    for (let k = 0; k < KEYS.length; k++) values[k] = undefined;
  }

  build(id: SpanId, type: string, timestamp: number, events: readonly HistoryEvent[], truncated: number): Trace {
    // Field by field, in the order a trace lists them: no spread object for each optional one.
    const trace: Writable<Trace> = { id, type, timestamp } as Writable<Trace>;
    if (this.#queueId !== undefined) trace.queueId = this.#queueId;
    if (this.#from !== undefined) trace.from = this.#from;
    trace.to = this.#to === undefined ? [] : this.#to.values();
    if (this.#size !== undefined) trace.size = this.#size;
    trace.messages = this.#messages === undefined ? [] : [...this.#messages.values()].map(messageOf);
    trace.truncated = truncated;
    trace.keywords = this.#keywords === undefined ? '' : this.#keywords.values().join('\n');
    trace.events = events;
    return trace;
  }

  #recipient(address: string): void {
    this.#to ??= new SmallSet();
    this.#to.add(address);
  }

  #keyword(text: string): void {
    this.#keywords ??= new SmallSet();
    // Most values are lower case already, and come again with each event of their span: a value
    // found as it is needs no lower-case copy.
    if (!this.#keywords.has(text)) this.#keywords.add(text.toLowerCase());
  }

  /** Key `k` of the event being read: its own value when `mask` says it has one, else its span's. */
  #value(k: number, mask: number): unknown {
    return (mask & (1 << k)) !== 0 ? this.#own[k] : this.#spanValues[k];
  }

  #useSpan(span: Readonly<Record<string, unknown>> | undefined): void {
    this.#span = span;
    this.#generation++;
    this.#spanDone = 0;
    for (let k = 0; k < KEYS.length; k++)
      this.#spanValues[k] = span === undefined ? undefined : ownValue(span, KEYS[k] as string);
  }

  /** Adds what one event carrying `queueId` says about its message. */
  #message(queueId: string, mask: number): void {
    this.#messages ??= new Map();
    let message = this.#messages.get(queueId);
    if (message === undefined) {
      if (this.#messages.size >= MAX_MESSAGES) return;
      message = {
        queueId,
        messageId: undefined,
        from: undefined,
        to: new SmallSet(),
        size: undefined,
        spanDone: 0,
        generation: this.#generation,
      };
      this.#messages.set(queueId, message);
    }
    if (message.generation !== this.#generation) {
      message.generation = this.#generation;
      message.spanDone = 0;
    }
    const apply = mask | (~message.spanDone & ALL);
    if ((apply & (1 << MESSAGE_ID)) !== 0) message.messageId ??= valueText(this.#value(MESSAGE_ID, mask));
    if ((apply & (1 << FROM)) !== 0) message.from ??= stringValue(this.#value(FROM, mask));
    if (message.size === undefined && (apply & (1 << SIZE)) !== 0) {
      const size = this.#value(SIZE, mask);
      if (typeof size === 'number') message.size = size;
    }
    if ((apply & (1 << TO)) !== 0) for (const address of items(this.#value(TO, mask))) message.to.add(address);
    message.spanDone |= ~mask & ALL;
  }
}

const ALL = (1 << KEYS.length) - 1;

/** Each key's position, by name. */
const KEY_INDEX: ReadonlyMap<string, number> = new Map(KEYS.map((key, k) => [key, k]));

/** Puts the values of `own`'s keys among {@link KEYS} in `values` (all undefined before) and returns their bits. */
function readOwn(own: object, values: unknown[]): number {
  if (!readOwnKeys(own, KEY_INDEX, values)) for (let k = 0; k < KEYS.length; k++) values[k] = ownValue(own, KEYS[k] as string);
  let mask = 0;
  for (let k = 0; k < KEYS.length; k++) if (values[k] !== undefined) mask |= 1 << k;
  return mask;
}

/** A message as a trace lists it, from what was gathered about it. */
export function messageOf(
  draft: Pick<MessageDraft, 'queueId' | 'messageId' | 'from' | 'size'> & { readonly to: Iterable<string> },
): TraceMessage {
  const message: Writable<TraceMessage> = { queueId: draft.queueId } as Writable<TraceMessage>;
  if (draft.messageId !== undefined) message.messageId = draft.messageId;
  if (draft.from !== undefined) message.from = draft.from;
  message.to = [...draft.to];
  if (draft.size !== undefined) message.size = draft.size;
  return message;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

const NO_VALUES: readonly unknown[] = KEYS.map(() => undefined);

/** One undefined value per summary key (a copy: `fill` or `map` cost more on a list this short). */
function noValues(): unknown[] {
  return NO_VALUES.slice();
}

/** True when the trace is the span of the message with `queueId`, or one of its messages is. */
export function hasQueueId(trace: Pick<Trace, 'queueId' | 'messages'>, queueId: string): boolean {
  return trace.queueId === queueId || (trace.messages ?? []).some((m) => m.queueId === queueId);
}

export function stringValue(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

const NO_ITEMS: readonly string[] = Object.freeze([]);

/** The strings of a value or of its items (one level, bounded); an unreadable item is skipped. */
export function items(value: unknown): readonly string[] {
  if (typeof value === 'string') return [value];
  // Most keys of most events are absent: no array for them.
  if (!Array.isArray(value)) return NO_ITEMS;
  const out: string[] = [];
  const length = Math.min(value.length, JSON_LIMITS.maxMembers);
  for (let i = 0; i < length; i++) {
    const item = ownValue(value, String(i));
    if (typeof item === 'string') out.push(item);
  }
  return out;
}

/** Stalwart's rule, widened: keep spans that carried a queued message (`queueId`) or a `messageId`. */
export function keepsMessages(trace: Trace): boolean {
  if (trace.queueId !== undefined) return true;
  return trace.events.some((e) => {
    try {
      return keyValue(keySource(e), 'messageId') !== undefined;
    } catch {
      return false;
    }
  });
}

/** True when `trace` has every keyword term. */
export function matchesTerms(keywords: string, terms: readonly string[]): boolean {
  for (const term of terms) if (!keywords.includes(term)) return false;
  return true;
}

/**
 * What a trace keeps of an event, for as long as the store keeps the trace: a record's copy without
 * what other consumers cached on it. Made only for events a trace takes.
 */
function kept(event: HistoryEvent): HistoryEvent {
  return event instanceof EventRecord ? event.stored() : event;
}
