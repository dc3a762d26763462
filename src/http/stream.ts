import type { ServerResponse } from 'node:http';

/** Text frames a streaming reply writes as they come (server-sent events, say). */
export interface FrameStream {
  /** The next frame, or undefined when the stream has ended. */
  next(): Promise<string | undefined>;
  /** Ends the stream and frees what it holds; called once the response is over, by any hand. */
  close(): void;
}

/** A reply whose body is written frame by frame until the stream ends or the client leaves. */
export interface StreamReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly stream: FrameStream;
}

/**
 * Headers of an event stream. `no-transform` keeps Express's `compression()` (and proxies) from
 * gzipping frames it would hold back; `X-Accel-Buffering: no` keeps nginx from buffering them.
 */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-store, no-transform',
  'x-accel-buffering': 'no',
};

/**
 * Writes a streaming reply to a Node response: the head at once, then frames as fast as the socket
 * takes them. A full socket holds back reading, so the stream's own buffer bounds memory. Each
 * frame is flushed through `compression()` when it wraps the response. The response ending or
 * closing by any hand (client, host, framework) closes the stream at once. Rejects only when the
 * stream fails; the response is ended by then.
 */
export async function pumpNode(reply: StreamReply, res: ServerResponse): Promise<void> {
  const source = reply.stream;
  try {
    res.writeHead(reply.status, reply.headers);
    res.socket?.setNoDelay(true);
  } catch (error) {
    source.close();
    throw error;
  }
  let closed = false;
  let drained: (() => void) | undefined;
  const onClose = () => {
    closed = true;
    source.close();
    drained?.();
  };
  const onDrain = () => drained?.();
  res.on('close', onClose);
  res.on('finish', onClose);
  res.on('drain', onDrain);
  const flush = (res as { flush?: unknown }).flush;
  try {
    for (;;) {
      const frame = await source.next();
      // Writing after someone else ended the response emits an 'error' that would kill the host.
      if (frame === undefined || closed || res.writableEnded || res.destroyed) break;
      const more = res.write(frame);
      if (typeof flush === 'function') flush.call(res);
      if (!more && !closed) {
        await new Promise<void>((resolve) => {
          drained = resolve;
        });
        drained = undefined;
      }
    }
  } finally {
    res.off('close', onClose);
    res.off('finish', onClose);
    res.off('drain', onDrain);
    source.close();
    endQuietly(res);
  }
}

/** Ends a response unless it is past ending; never throws. */
export function endQuietly(res: ServerResponse): void {
  try {
    if (!res.writableEnded && !res.destroyed) res.end();
  } catch {
    // The response is past ending: nothing more to free.
  }
}

/**
 * A pull-based web body: the next frame is read only when the consumer asks, so backpressure
 * reaches the stream's buffer. The signal aborting (the client left) or the consumer cancelling
 * closes the stream; a failing stream errors the body with a bare message and goes to `failed`.
 */
export function webBody(
  source: FrameStream,
  signal: AbortSignal | undefined,
  failed: (error: unknown) => void,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const abort = () => source.close();
  const done = () => {
    signal?.removeEventListener('abort', abort);
    source.close();
  };
  if (signal?.aborted === true) source.close();
  else signal?.addEventListener('abort', abort, { once: true });
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let frame: string | undefined;
        try {
          frame = await source.next();
        } catch (error) {
          done();
          failed(error);
          // The consumer learns that the stream broke, not why: the reason went to the host's report.
          controller.error(new Error('mail-telemetry: stream failed'));
          return;
        }
        if (frame !== undefined) {
          controller.enqueue(encoder.encode(frame));
          return;
        }
        done();
        try {
          controller.close();
        } catch {
          // Already cancelled by the consumer.
        }
      },
      cancel() {
        done();
      },
    },
    { highWaterMark: 0 },
  );
}
