import { WRITE_CHARS } from '../base/write-size.js';
import type { MetricsSnapshot } from '../metrics/registry.js';
import { droppedFrame, metricsFrame, pingFrame, TRACE_HEAD, TRACE_TAIL, type TraceItemWriter } from './frames.js';
import type { MetricsStream } from './metrics.js';
import type { EventStream } from './stream.js';

/** The frames of one SSE response, pulled by its writer as fast as the client takes them. */
export interface FrameSource {
  /** The next frame or part of one, or undefined when the stream has ended. */
  next(): Promise<string | undefined>;
  /** Ends the stream and frees its resources at once. */
  close(): void;
  /** Sends what is buffered now, ignoring the batch window; resolves once it was framed (for `flush`). */
  hurry(): Promise<void>;
  /** Events held and not yet framed. */
  readonly pending: number;
}

/** Stalwart's trace frames: a ping first, then batches at most once per window, pings when idle. */
export class TraceFrames implements FrameSource {
  readonly #stream: EventStream;
  readonly #window: number;
  readonly #ping: number;
  readonly #pressure: number;
  readonly #write: TraceItemWriter;
  #started = false;
  /** Events still to write in the open frame (0: no frame is open). */
  #left = 0;
  /** Whether the open frame has an item yet (the next one follows a comma). */
  #written = false;
  #last = 0;
  #hurry = false;
  #framed: (() => void)[] = [];

  constructor(stream: EventStream, options: { window: number; ping: number; items: TraceItemWriter }) {
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
    if (this.#left > 0) {
      await nextTurn();
      return this.#part('');
    }
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
        this.#left = stream.buffered;
        this.#written = false;
        return this.#part(dropped > 0 ? droppedFrame(dropped, stream.dropped) + TRACE_HEAD : TRACE_HEAD);
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

  /**
   * `head`, then the open frame's items up to {@link WRITE_CHARS}, then the frame's end once all of
   * its events are written or the stream has closed under it. A busy window's frame thus goes out in
   * parts, each in its own turn of the event loop, so that writing it never stalls the host. An
   * event that cannot be written is left out.
   */
  #part(head: string): string {
    const stream = this.#stream;
    const items: string[] = [];
    let chars = 0;
    while (this.#left > 0 && chars < WRITE_CHARS) {
      const event = stream.shift();
      if (event === undefined) {
        this.#left = 0;
        break;
      }
      this.#left--;
      const json = this.#write(event);
      if (json === undefined) continue;
      items.push(json);
      chars += json.length;
    }
    const text = items.join(',');
    const part = this.#written && text !== '' ? `${head},${text}` : head + text;
    if (text !== '') this.#written = true;
    if (this.#left > 0) return part;
    this.#settle();
    return part + TRACE_TAIL;
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
