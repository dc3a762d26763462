/**
 * The trace summary as it was built before it was made incremental: one pass over every event's
 * merged data at span end. The property test in traces-incremental.test.ts checks that the
 * incremental `TraceDraft` gives the same answers.
 */
import type { SpanId } from '../../../src/catalog/keys.js';
import { keySource, keyValue, valueText } from '../../../src/history/query.js';
import { items, messageOf, stringValue } from '../../../src/history/traces.js';
import type { HistoryEvent, Trace } from '../../../src/index.js';

const KEYWORD_KEYS = ['from', 'to', 'domain', 'hostname', 'remoteIp', 'messageId'] as const;
const MAX_MESSAGES = 1000;

/**
 * A trace with its derived fields, from its events. Only own keys are read, and an event whose data
 * cannot be read adds nothing to them.
 */
export function rebuildTrace(
  id: SpanId,
  type: string,
  timestamp: number,
  events: readonly HistoryEvent[],
  truncated: number,
): Trace {
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
