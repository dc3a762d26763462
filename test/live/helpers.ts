import type { LiveEventStream, TelemetryEvent } from '../../src/index.js';

/** Reads every event the stream holds now (after `flush`, everything emitted so far). */
export async function buffered(stream: LiveEventStream): Promise<TelemetryEvent[]> {
  const out: TelemetryEvent[] = [];
  while (stream.buffered > 0) {
    const next = await stream.next();
    if (next.done === true) break;
    out.push(next.value);
  }
  return out;
}

export const types = (events: readonly TelemetryEvent[]) => events.map((e) => e.type);
