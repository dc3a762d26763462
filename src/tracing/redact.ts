import type { TelemetryEvent } from '../catalog/types.js';
import { EventRecord } from '../core/event.js';

/** The value written in place of a sensitive key. */
export const REDACTED = '[redacted]';

/** The batch with `keys` redacted; events that carry none of them pass through as they are. */
export function redactBatch(batch: readonly TelemetryEvent[], keys: ReadonlySet<string>): readonly TelemetryEvent[] {
  return batch.map((event) => {
    const data = event.data;
    let hit = false;
    for (const key in data) {
      if (keys.has(key) && data[key] !== undefined) {
        hit = true;
        break;
      }
    }
    if (!hit) return event;
    const copy: Record<string, unknown> = {};
    for (const key in data) copy[key] = keys.has(key) && data[key] !== undefined ? REDACTED : data[key];
    // The copy already holds the span's keys: it is the event's own data now.
    return new EventRecord(
      event.id,
      event.type,
      event.typeId,
      event.level,
      event.timestamp,
      event.spanId,
      copy,
      undefined,
      undefined,
    );
  });
}
