import { describeError } from '../base/errors.js';
import { isoTime, MARKERS, scalarJson, stringJson } from '../base/json.js';
import { severity } from '../base/levels.js';
import type { EventRecord } from '../core/event.js';
import { webhookItemJson } from '../stalwart/events.js';
import type { StalwartVersion } from '../stalwart/version.js';
import type { WebhookEvent } from './options.js';

/** One event held by an endpoint: serialised once, so retries send (and sign) the same bytes. */
export interface Item {
  /** Arrival order within the endpoint, set by the buffer. */
  seq: number;
  readonly id: number;
  readonly timestamp: number;
  /** Numeric severity: trace 0 ... error 4. */
  readonly level: number;
  /** The body item `{"id","createdAt","type","data"}` as JSON. */
  readonly json: string;
  /** UTF-8 length of `json`. */
  readonly bytes: number;
  /** Why the data could not be written at all (it was replaced by a note); undefined for every normal event. */
  readonly unreadable: string | undefined;
}

const OPEN = '{"events":[';
const CLOSE = ']}';
/** Bytes of a body holding `events` items of `bytes` total: the envelope and the commas. */
export function bodyBytes(events: number, bytes: number): number {
  return OPEN.length + CLOSE.length + bytes + (events > 0 ? events - 1 : 0);
}

/**
 * Serialises an event into Stalwart's body item. Never throws, and always writes valid JSON with an
 * object as `data`: values JSON cannot hold become markers (`dataJson`); data that cannot be read at
 * all is replaced by a note, and `unreadable` says why.
 */
export function serialize(event: EventRecord): Item {
  let data: string;
  let unreadable: string | undefined;
  try {
    data = event.dataJson;
    // A throwing toJSON on the data itself yields a bare marker; receivers expect an object.
    if (data.charCodeAt(0) !== 123 /* { */) data = `{"details":${data}}`;
  } catch (error) {
    unreadable = describeError(error);
    data = `{"details":${scalarJson(`${MARKERS.unreadable} data could not be serialised: ${unreadable}`)}}`;
  }
  return itemOf(
    event,
    `{"id":${event.idJson},"createdAt":"${isoTime(event.timestamp)}","type":${stringJson(event.type)},"data":${data}}`,
    unreadable,
  );
}

function itemOf(event: EventRecord, json: string, unreadable: string | undefined): Item {
  return {
    seq: 0,
    id: event.id,
    timestamp: event.timestamp,
    level: severity(event.level),
    json,
    bytes: Buffer.byteLength(json),
    unreadable,
  };
}

/**
 * The serialiser of an endpoint, chosen once when it is built: {@link serialize} for the library's
 * shapes, so the default path is exactly as fast as before; Stalwart's values under a version.
 */
export function serializerFor(version: StalwartVersion | undefined): (event: EventRecord) => Item {
  if (version === undefined) return serialize;
  // Stalwart's writer never throws: a value it cannot read is left out.
  return (event) => itemOf(event, webhookItemJson(event, version), undefined);
}

/**
 * The request body for `items`, in order, encoded straight into one buffer: joining the items into
 * a string first made a flat copy as large as the body before encoding it.
 */
export function body(items: readonly Item[]): Buffer {
  let bytes = 0;
  for (let i = 0; i < items.length; i++) bytes += (items[i] as Item).bytes;
  const out = Buffer.allocUnsafeSlow(bodyBytes(items.length, bytes));
  let at = out.write(OPEN, 0, 'latin1');
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Item;
    if (i > 0) out[at++] = 44; // ,
    const written = out.write(item.json, at, 'utf8');
    // A size that disagrees with the text would send a cut body, or bytes of old memory: never.
    if (written !== item.bytes) return Buffer.from(`${OPEN}${items.map((it) => it.json).join(',')}${CLOSE}`);
    at += written;
  }
  out.write(CLOSE, at, 'latin1');
  return out;
}

/** The events as plain objects, for `onDiscard`. */
export function toEvents(items: readonly Item[]): WebhookEvent[] {
  return items.map((item) => JSON.parse(item.json) as WebhookEvent);
}
