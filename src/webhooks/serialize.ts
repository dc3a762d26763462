import { severity } from '../catalog/levels.js';
import type { EventRecord } from '../core/event.js';
import { dataJson, isoTime } from '../core/json.js';
import type { WebhookEvent } from './options.js';

/** One event held by an endpoint: serialised once, so retries send (and sign) the same bytes. */
export interface Item {
  /** Arrival order within the endpoint, set by the buffer. */
  seq: number;
  readonly id: number;
  readonly timestamp: number;
  /** Numeric severity: trace 0 … error 4. */
  readonly level: number;
  /** The body item `{"id","createdAt","type","data"}` as JSON. */
  readonly json: string;
  /** UTF-8 length of `json`. */
  readonly bytes: number;
}

const OPEN = '{"events":[';
const CLOSE = ']}';
/** Bytes of a body holding `events` items of `bytes` total: the envelope and the commas. */
export function bodyBytes(events: number, bytes: number): number {
  return OPEN.length + CLOSE.length + bytes + (events > 0 ? events - 1 : 0);
}

/** Serialises an event into Stalwart's body item. Never throws: unserialisable data is replaced by a note. */
export function serialize(event: EventRecord): Item {
  let data: string;
  try {
    data = dataJson(event.data) ?? '{}';
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    data = JSON.stringify({ details: `data could not be serialised: ${reason}` });
  }
  const json = `{"id":"${event.id}","createdAt":"${isoTime(event.timestamp)}","type":"${event.type}","data":${data}}`;
  return { seq: 0, id: event.id, timestamp: event.timestamp, level: severity(event.level), json, bytes: Buffer.byteLength(json) };
}

/** The request body for `items`, in order. */
export function body(items: readonly Item[]): Buffer {
  let text = OPEN;
  for (let i = 0; i < items.length; i++) text += i === 0 ? (items[i] as Item).json : `,${(items[i] as Item).json}`;
  return Buffer.from(text + CLOSE);
}

/** The events as plain objects, for `onDiscard`. */
export function toEvents(items: readonly Item[]): WebhookEvent[] {
  return items.map((item) => JSON.parse(item.json) as WebhookEvent);
}
