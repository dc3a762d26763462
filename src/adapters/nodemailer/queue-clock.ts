import type { Telemetry } from '../../index.js';
import type { QueueId } from './message.js';

/** How many queued messages a clock remembers; the oldest are forgotten first. */
export const QUEUE_CLOCK_CAPACITY = 10_000;

/**
 * When each message was queued, learnt from the `queue.*-queued` events the telemetry delivers
 * (the host's own emits, or the smtp-server adapter's). One clock per telemetry instance, shared by
 * every transport instrumented on it. The listener is batched, so a message is known here from the
 * moment the library delivered its queued event, in practice long before its delivery ends.
 */
export class QueueClock {
  readonly #queued = new Map<string, number>();

  record(queueId: unknown, timestamp: number): void {
    const key = keyOf(queueId);
    if (key === undefined) return;
    this.#queued.delete(key);
    this.#queued.set(key, timestamp);
    if (this.#queued.size > QUEUE_CLOCK_CAPACITY) {
      const oldest = this.#queued.keys().next().value;
      if (oldest !== undefined) this.#queued.delete(oldest);
    }
  }

  queuedAt(queueId: QueueId): number | undefined {
    const key = keyOf(queueId);
    return key === undefined ? undefined : this.#queued.get(key);
  }

  forget(queueId: QueueId): void {
    const key = keyOf(queueId);
    if (key !== undefined) this.#queued.delete(key);
  }
}

// Numbers and strings name the same id: queueId 7 and "7" are one message.
function keyOf(queueId: unknown): string | undefined {
  if (typeof queueId === 'string') return queueId;
  if (typeof queueId === 'number' && Number.isFinite(queueId)) return `${queueId}`;
  return undefined;
}

const clocks = new WeakMap<object, QueueClock>();

/** The clock of `telemetry`, listening from the first call on. */
export function queueClockOf(telemetry: Telemetry): QueueClock {
  let clock = clocks.get(telemetry);
  if (clock !== undefined) return clock;
  const created = new QueueClock();
  clock = created;
  clocks.set(telemetry, created);
  try {
    telemetry.on('queue.*-queued', (event) => created.record(event.data.queueId, event.timestamp));
  } catch {
    // A telemetry that takes no listener (shut down) still instruments; queued times stay unknown.
  }
  return clock;
}
