import type { LiveEventStream, TelemetryEvent } from '../../src/index.js';
import { make } from '../core/fixtures.js';

export { make };

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

/** A span's required start keys. */
export const connection = (remoteIp: string, remotePort = 40_000) => ({
  remoteIp,
  remotePort,
  listenerId: 'smtp',
  localPort: 25,
});
