import { JSON_LIMITS } from '../base/json.js';
import type { SpanId } from '../catalog/keys.js';
import { keySource, keyValue, ownValue, valueText } from './query.js';
import type { HistoryEvent, Trace, TraceMessage } from './types.js';

/** The event that marks where a span's events were cut. */
export const TRUNCATED_EVENT = 'telemetry.events-dropped';

const KEYWORD_KEYS = ['from', 'to', 'domain', 'hostname', 'remoteIp', 'messageId'] as const;
/** Messages listed per trace; a session past it still keeps every event. */
const MAX_MESSAGES = 1000;

interface OpenSpan {
  readonly start: HistoryEvent;
  readonly end: string;
  readonly events: HistoryEvent[];
  dropped: number;
}

/** What the collector hands over when a span ends. */
export type TraceSink = (trace: Trace) => void;

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
    const end = this.#spans.get(event.type);
    if (end !== undefined) {
      // A start event opens the span (a repeated start id replaces a stale one).
      this.#open.delete(spanId);
      this.#open.set(spanId, { start: event, end, events: [event], dropped: 0 });
      if (this.#open.size > this.#maxOpen) this.#abandonOldest();
      return;
    }
    const span = this.#open.get(spanId);
    if (span === undefined) return;
    if (event.type === span.end) {
      this.#open.delete(spanId);
      this.#sink(build(span, event));
      return;
    }
    if (span.events.length < this.#maxEvents - 1) span.events.push(event);
    else span.dropped++;
  }

  /** Drops spans that started before `time`. */
  sweep(time: number): void {
    for (const [id, span] of this.#open) {
      if (span.start.timestamp >= time) break;
      this.#open.delete(id);
      this.abandoned++;
    }
  }

  clear(): void {
    this.#open.clear();
  }

  #abandonOldest(): void {
    const oldest = this.#open.keys().next();
    if (oldest.done !== true) {
      this.#open.delete(oldest.value);
      this.abandoned++;
    }
  }
}

function build(span: OpenSpan, endEvent: HistoryEvent): Trace {
  const events = span.events;
  if (span.dropped > 0) {
    events.push({
      id: endEvent.id,
      type: TRUNCATED_EVENT,
      level: 'warn',
      timestamp: endEvent.timestamp,
      spanId: endEvent.spanId,
      data: { total: span.dropped, reason: `span trace truncated: ${span.dropped} events dropped` },
    });
  }
  events.push(endEvent);
  return traceOf(span.start.spanId as SpanId, span.start.type, span.start.timestamp, events, span.dropped);
}

/**
 * A trace with its derived fields, from its events. Only own keys are read, and an event whose data
 * cannot be read adds nothing to them.
 */
export function traceOf(id: SpanId, type: string, timestamp: number, events: readonly HistoryEvent[], truncated: number): Trace {
  let queueId: string | undefined;
  let from: string | undefined;
  let size: number | undefined;
  const to = new Set<string>();
  const keywords = new Set<string>();
  // Span keys repeat in every event of the span: each value is lower-cased once.
  const seen = new Set<string>();
  const messages = new Map<string, MessageDraft>();
  for (const event of events) {
    let source: unknown;
    try {
      source = keySource(event);
    } catch {
      continue;
    }
    const eventQueueId = valueText(keyValue(source, 'queueId'));
    if (queueId === undefined) queueId = eventQueueId;
    if (eventQueueId !== undefined) addToMessage(messages, eventQueueId, source);
    if (from === undefined) from = stringValue(keyValue(source, 'from'));
    if (size === undefined) {
      const value = keyValue(source, 'size');
      if (typeof value === 'number') size = value;
    }
    for (const address of items(keyValue(source, 'to'))) to.add(address);
    for (const key of KEYWORD_KEYS) {
      for (const value of items(keyValue(source, key))) {
        if (seen.has(value)) continue;
        seen.add(value);
        keywords.add(value.toLowerCase());
      }
    }
  }
  return {
    id,
    type,
    timestamp,
    ...(queueId === undefined ? {} : { queueId }),
    ...(from === undefined ? {} : { from }),
    to: [...to],
    ...(size === undefined ? {} : { size }),
    messages: [...messages.values()].map(messageOf),
    truncated,
    keywords: [...keywords].join('\n'),
    events,
  };
}

interface MessageDraft {
  readonly queueId: string;
  messageId: string | undefined;
  from: string | undefined;
  readonly to: Set<string>;
  size: number | undefined;
}

/** Adds what one event carrying `queueId` says about its message. */
function addToMessage(messages: Map<string, MessageDraft>, queueId: string, source: unknown): void {
  let message = messages.get(queueId);
  if (message === undefined) {
    if (messages.size >= MAX_MESSAGES) return;
    message = { queueId, messageId: undefined, from: undefined, to: new Set(), size: undefined };
    messages.set(queueId, message);
  }
  message.messageId ??= valueText(keyValue(source, 'messageId'));
  message.from ??= stringValue(keyValue(source, 'from'));
  if (message.size === undefined) {
    const value = keyValue(source, 'size');
    if (typeof value === 'number') message.size = value;
  }
  for (const address of items(keyValue(source, 'to'))) message.to.add(address);
}

function messageOf(draft: MessageDraft): TraceMessage {
  return {
    queueId: draft.queueId,
    ...(draft.messageId === undefined ? {} : { messageId: draft.messageId }),
    ...(draft.from === undefined ? {} : { from: draft.from }),
    to: [...draft.to],
    ...(draft.size === undefined ? {} : { size: draft.size }),
  };
}

/** True when the trace is the span of the message with `queueId`, or one of its messages is. */
export function hasQueueId(trace: Pick<Trace, 'queueId' | 'messages'>, queueId: string): boolean {
  return trace.queueId === queueId || (trace.messages ?? []).some((m) => m.queueId === queueId);
}

function stringValue(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The strings of a value or of its items (one level, bounded); an unreadable item is skipped. */
function items(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return [];
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
