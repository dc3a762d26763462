import { dataJson, eventId, MARKERS, safeJson, scalarJson } from '../base/json.js';
import { isLevel } from '../base/levels.js';
import { EventRecord } from '../core/event.js';
import { keySource } from './query.js';
import type { HistoryEvent, Trace } from './types.js';

/**
 * The history's records as JSON, composed per record so that one hostile event (circular, deep, a
 * throwing getter or `toJSON`, BigInt) is written with markers and costs nothing to the others, and a
 * large page is never cut by the safe serialiser's whole-output limit. Nothing here throws.
 */

/**
 * One event in the shape of `EventRecord.toJSON()`; its data through `dataJson`. On the wire
 * (`wire`), its id is a decimal string as on every other output; a store keeps the number.
 */
export function eventJson(event: HistoryEvent, wire = false): string {
  let head: string;
  let spanId: unknown;
  let node: unknown;
  let data: unknown;
  try {
    head = `{"id":${wire ? eventId(event.id) : scalarJson(event.id)},"type":${scalarJson(event.type)},"level":${scalarJson(event.level)},"timestamp":${scalarJson(event.timestamp)}`;
    spanId = event.spanId;
    node = event.node;
  } catch {
    return safeJson(MARKERS.unreadable);
  }
  try {
    data = event.data;
  } catch {
    data = MARKERS.unreadable;
  }
  const tail = `${spanId === undefined ? '' : `,"spanId":${scalarJson(spanId)}`}${typeof node === 'string' ? `,"node":${scalarJson(node)}` : ''}`;
  return `${head},"data":${dataJson(data)}${tail}}`;
}

/** One event as the HTTP answers write it. */
export function wireEventJson(event: HistoryEvent): string {
  return eventJson(event, true);
}

/** A trace with its events as the HTTP answers write them, without its keyword index. */
export function traceJson(trace: Trace): string {
  try {
    let out = `{"id":${scalarJson(trace.id)},"type":${scalarJson(trace.type)},"timestamp":${scalarJson(trace.timestamp)}`;
    if (trace.queueId !== undefined) out += `,"queueId":${scalarJson(trace.queueId)}`;
    if (trace.from !== undefined) out += `,"from":${scalarJson(trace.from)}`;
    out += `,"to":${safeJson(trace.to)}`;
    if (trace.size !== undefined) out += `,"size":${scalarJson(trace.size)}`;
    out += `,"messages":${safeJson(trace.messages ?? [])}`;
    if (typeof trace.node === 'string') out += `,"node":${scalarJson(trace.node)}`;
    return `${out},"truncated":${scalarJson(trace.truncated)},"events":${listJson(trace.events, wireEventJson)}}`;
  } catch {
    return safeJson(MARKERS.unreadable);
  }
}

/** A list, one item at a time. */
export function listJson<T>(items: readonly T[], itemJson: (item: T) => string): string {
  let out = '[';
  try {
    for (let i = 0; i < items.length; i++) out += `${i === 0 ? '' : ','}${itemJson(items[i] as T)}`;
  } catch {
    // A store handed back something that is not a readable array: what was written stands.
  }
  return `${out}]`;
}

/** `{ "items": [...], "cursor"?: "..." }` */
export function pageJson<T>(
  items: readonly T[],
  cursor: string | undefined,
  itemJson: (item: T) => string,
  total?: number,
): string {
  const more = cursor === undefined ? '' : `,"cursor":${scalarJson(cursor)}`;
  return `{"items":${listJson(items, itemJson)}${total === undefined ? '' : `,"total":${total}`}${more}}`;
}

/**
 * What a store writes of an event: its key source and data JSON. Throws for an event a store cannot
 * hold (no safe-integer id, no numeric timestamp, no type or level, a span id of another kind).
 * A record's JSON is the one the tracers, webhooks and live streams write (made once, shared).
 */
export function storableEvent(event: HistoryEvent): { readonly source: unknown; readonly json: string } {
  const { id, timestamp, type, level, spanId } = event;
  if (!Number.isSafeInteger(id)) throw new TypeError('expected an event id that is a safe integer');
  if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) throw new TypeError('expected a numeric timestamp');
  if (typeof type !== 'string' || !isLevel(level)) throw new TypeError('expected an event type and level');
  if (spanId !== undefined && typeof spanId !== 'number' && typeof spanId !== 'string')
    throw new TypeError('expected a span id that is a number or a string');
  const source = keySource(event);
  const json =
    source instanceof EventRecord ? source.dataJson : typeof source === 'object' && source !== null ? dataJson(source) : '{}';
  return { source, json };
}
