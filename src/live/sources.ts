import type { MetricsSnapshot } from '../metrics/registry.js';
import { droppedFrame, metricsFrame, pingFrame, type TraceItemsWriter, traceFrameOf } from './frames.js';
import type { MetricsStream } from './metrics.js';
import type { EventStream } from './stream.js';

/** The frames of one SSE response, pulled by its writer as fast as the client takes them. */
export interface FrameSource {
  /** The next frame, or undefined when the stream has ended. */
  next(): Promise<string | undefined>;
  /** Ends the stream and frees its resources at once. */
  close(): void;
  /** Sends what is buffered now, ignoring the batch window; resolves once it was framed (for `flush`). */
  hurry(): Promise<void>;
  /** Events held and not yet framed. */
  readonly pending: number;
}

/**
 * Events framed in one turn of the event loop. A window's frame is built slice by slice, each in its
 * own turn: a busy second of mail would otherwise stall the host's loop while thousands are written.
 */
export const FRAME_SLICE = 1024;

/** Stalwart's trace frames: a ping first, then batches at most once per window, pings when idle. */
export class TraceFrames implements FrameSource {
  readonly #stream: EventStream;
  readonly #window: number;
  readonly #ping: number;
  readonly #pressure: number;
  readonly #write: TraceItemsWriter;
  #started = false;
  #last = 0;
  #hurry = false;
  #framed: (() => void)[] = [];

  constructor(stream: EventStream, options: { window: number; ping: number; items: TraceItemsWriter }) {
    this.#stream = stream;
    this.#window = options.window;
    this.#ping = options.ping;
    this.#write = options.items;
    // Past half the buffer a batch goes out early: waiting out the window would only drop events.
    this.#pressure = Math.max(1, stream.capacity >>> 1);
  }

  get pending(): number {
    return this.#stream.buffered;
  }

  async next(): Promise<string | undefined> {
    const stream = this.#stream;
    if (!this.#started) {
      this.#started = true;
      this.#last = performance.now();
      return pingFrame(this.#ping);
    }
    for (;;) {
      if (stream.closed && stream.buffered === 0) {
        this.#settle();
        return undefined;
      }
      const now = performance.now();
      const due = this.#last + this.#window;
      if (stream.buffered > 0 && (now >= due || stream.buffered >= this.#pressure || this.#hurry || stream.closed)) {
        this.#last = now;
        this.#hurry = false;
        const dropped = stream.takeDropped();
        const frame = traceFrameOf(await this.#items(stream.buffered));
        this.#settle();
        return dropped > 0 ? droppedFrame(dropped, stream.dropped) + frame : frame;
      }
      if (stream.buffered === 0) {
        this.#hurry = false;
        if (now >= this.#last + this.#ping) {
          this.#last = now;
          const dropped = stream.takeDropped();
          return (dropped > 0 ? droppedFrame(dropped, stream.dropped) : '') + pingFrame(this.#ping);
        }
        await stream.wait(1, this.#last + this.#ping - now);
      } else {
        await stream.wait(this.#pressure, due - now);
      }
    }
  }

  /** The items of the `count` oldest events, one slice per turn; fewer when the stream closes meanwhile. */
  async #items(count: number): Promise<string> {
    const stream = this.#stream;
    let items = this.#write(stream.take(Math.min(count, FRAME_SLICE)), '');
    for (let left = count - FRAME_SLICE; left > 0 && stream.buffered > 0; left -= FRAME_SLICE) {
      await nextTurn();
      items = this.#write(stream.take(Math.min(left, FRAME_SLICE)), items);
    }
    return items;
  }

  hurry(): Promise<void> {
    if (this.#stream.buffered === 0) return Promise.resolve();
    this.#hurry = true;
    this.#stream.wake();
    return new Promise((resolve) => this.#framed.push(resolve));
  }

  #settle(): void {
    if (this.#framed.length === 0) return;
    const waiting = this.#framed;
    this.#framed = [];
    for (const resolve of waiting) resolve();
  }

  close(): void {
    this.#stream.close();
    this.#settle();
  }
}

/** Stalwart's metric frames: a ping first, a metrics frame at once and every interval, pings between long intervals. */
export class MetricFrames implements FrameSource {
  readonly #stream: MetricsStream;
  readonly #ping: number;
  readonly #frame: (snapshot: MetricsSnapshot) => string;
  #started = false;
  #last = 0;

  constructor(stream: MetricsStream, ping: number, frame: (snapshot: MetricsSnapshot) => string = metricsFrame) {
    this.#stream = stream;
    this.#ping = ping;
    this.#frame = frame;
  }

  get pending(): number {
    return 0;
  }

  async next(): Promise<string | undefined> {
    const stream = this.#stream;
    if (!this.#started) {
      this.#started = true;
      this.#last = performance.now();
      return pingFrame(this.#ping);
    }
    while (!stream.closed) {
      const wait = stream.untilDue();
      const now = performance.now();
      if (wait === 0) {
        this.#last = now;
        try {
          return this.#frame(stream.read());
        } catch {
          // A registry read that fails (a host collector throwing) costs this frame, not the stream.
          return pingFrame(this.#ping);
        }
      }
      const pingIn = this.#last + this.#ping - now;
      if (pingIn <= 0) {
        this.#last = now;
        return pingFrame(this.#ping);
      }
      await stream.sleep(Math.min(wait, pingIn));
    }
    return undefined;
  }

  hurry(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    this.#stream.close();
  }
}

/** Resolves on the event loop's next turn. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
