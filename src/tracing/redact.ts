import type { SpanId } from '../catalog/keys.js';
import type { Level } from '../catalog/levels.js';
import type { TelemetryEvent, TelemetryEventJSON } from '../catalog/types.js';

/** The value written in place of a sensitive key. */
export const REDACTED = '[redacted]';

/** An event seen through a redacting sink: sensitive keys read as `[redacted]`. */
class RedactedEvent implements TelemetryEvent {
  readonly id: number;
  readonly type: string;
  readonly typeId: number;
  readonly level: Level;
  readonly timestamp: number;
  readonly spanId: SpanId | undefined;
  readonly data: Readonly<Record<string, unknown>>;

  constructor(event: TelemetryEvent, data: Readonly<Record<string, unknown>>) {
    this.id = event.id;
    this.type = event.type;
    this.typeId = event.typeId;
    this.level = event.level;
    this.timestamp = event.timestamp;
    this.spanId = event.spanId;
    this.data = data;
  }

  toJSON(): TelemetryEventJSON {
    const json = { id: this.id, type: this.type, level: this.level, timestamp: this.timestamp, data: this.data };
    return this.spanId === undefined ? json : { ...json, spanId: this.spanId };
  }
}

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
    return new RedactedEvent(event, Object.freeze(copy));
  });
}
