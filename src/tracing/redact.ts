import type { TelemetryEvent } from '../catalog/types.js';
import { EventRecord } from '../core/event.js';

/** The value written in place of a sensitive key. */
export const REDACTED = '[redacted]';

type Data = Readonly<Record<string, unknown>>;

/** The batch with `keys` redacted; events that carry none of them pass through as they are. */
export function redactBatch(batch: readonly TelemetryEvent[], keys: ReadonlySet<string>): readonly TelemetryEvent[] {
  return batch.map((event) => {
    // The event's own keys and its span's are redacted apart, so sinks still tell them apart.
    const record = event instanceof EventRecord ? event : undefined;
    const own = record === undefined ? event.data : record.own;
    const span = record?.spanKeys;
    const ownCopy = redacted(own, keys);
    const spanCopy = span === undefined ? undefined : redacted(span, keys);
    if (ownCopy === own && spanCopy === span) return event;
    return new EventRecord(
      event.id,
      event.type,
      event.typeId,
      event.level,
      event.timestamp,
      event.spanId,
      ownCopy,
      spanCopy,
      undefined,
    );
  });
}

/** `data` itself when it holds none of `keys`, else a copy with their values redacted. */
function redacted(data: Data, keys: ReadonlySet<string>): Data {
  let hit = false;
  for (const key in data) {
    if (keys.has(key) && data[key] !== undefined) {
      hit = true;
      break;
    }
  }
  if (!hit) return data;
  const copy: Record<string, unknown> = {};
  for (const key in data) copy[key] = keys.has(key) && data[key] !== undefined ? REDACTED : data[key];
  return copy;
}
