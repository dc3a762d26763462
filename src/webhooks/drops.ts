import type { EventRecord } from '../core/event.js';
import type { WebhookDiscardReason } from './options.js';

/** Most dropped events held before they are handed over on the spot. */
const MAX_HELD = 256;

/**
 * Events the core dropped from an endpoint's intake queue, on their way to `onDiscard`. The core
 * reports each drop synchronously, often inside an emit: they are handed over in batches on a
 * microtask, and at once when {@link MAX_HELD} are waiting, so that what is held stays bounded.
 */
export class IntakeDrops {
  readonly #handOver: (events: readonly EventRecord[], reason: WebhookDiscardReason) => void;
  #events: EventRecord[] = [];
  #reason: WebhookDiscardReason = 'queue-full';
  #scheduled = false;
  readonly #scheduledFlush = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(handOver: (events: readonly EventRecord[], reason: WebhookDiscardReason) => void) {
    this.#handOver = handOver;
  }

  add(event: EventRecord, reason: WebhookDiscardReason): void {
    if (this.#events.length > 0 && reason !== this.#reason) this.flush();
    this.#reason = reason;
    this.#events.push(event);
    if (this.#events.length >= MAX_HELD) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#scheduledFlush);
    }
  }

  /** Hands over what is held now; the hand-over may add more (a host hook that emits), handled in turn. */
  flush(): void {
    if (this.#events.length === 0) return;
    const events = this.#events;
    this.#events = [];
    this.#handOver(events, this.#reason);
  }
}
