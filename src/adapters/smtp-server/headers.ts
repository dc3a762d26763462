import { bytesHeaderEnd, MAX_HEADER_BYTES, messageIdOf } from '../message-id.js';
import { read } from '../read.js';

/** What the tap has read of a message's header block. */
export interface HeaderTap {
  messageId: string | undefined;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Reads the Message-ID from the bytes smtp-server gives the DATA stream, without consuming them:
 * the stream's own `write` and `end` (smtp-server hands a short message's last bytes to `end`) are
 * wrapped until the header block ends, then restored. The host reads the stream exactly as before,
 * in flowing or paused mode.
 */
export function tapHeaders(stream: object): HeaderTap {
  const tap: HeaderTap = { messageId: undefined };
  const target = stream as Record<'write' | 'end', unknown>;
  const write = read(stream, 'write');
  const end = read(stream, 'end');
  if (typeof write !== 'function' || typeof end !== 'function') return tap;
  const chunks: Buffer[] = [];
  let bytes = 0;
  let done = false;
  const observe = (chunk: unknown): void => {
    if (done || !Buffer.isBuffer(chunk)) return;
    chunks.push(chunk);
    bytes += chunk.length;
    // The header block nearly always comes in the first chunk: no copy then.
    const head = chunks.length === 1 ? chunk : Buffer.concat(chunks);
    const at = bytesHeaderEnd(head);
    if (at < 0 && bytes < MAX_HEADER_BYTES) return;
    tap.messageId = at >= 0 ? messageIdOf(head.toString('latin1', 0, at)) : undefined;
    restore();
  };
  const wrap = (original: Method): Method =>
    function (this: unknown, chunk: unknown) {
      try {
        observe(chunk);
      } catch {
        restore(); // telemetry never breaks mail: a failure here only loses the Message-ID
      }
      // biome-ignore lint/complexity/noArguments: the stream gets exactly the arguments it was given
      return Reflect.apply(original, this, arguments);
    };
  const wrappedWrite = wrap(write as Method);
  const wrappedEnd = wrap(end as Method);
  function restore(): void {
    done = true;
    chunks.length = 0;
    // Put back, not deleted: deleting a property sends the stream object to V8's slow dictionary mode.
    if (target.write === wrappedWrite) target.write = write;
    if (target.end === wrappedEnd) target.end = end;
  }
  try {
    target.write = wrappedWrite;
    target.end = wrappedEnd;
  } catch {
    restore(); // a frozen stream keeps its own methods
  }
  return tap;
}
