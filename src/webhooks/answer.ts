/** Bytes of a receiver's answer body that are read; the rest is never buffered. */
export const MAX_ANSWER_BYTES = 4096;

/**
 * Reads and throws away at most about `cap` bytes of an answer body (one chunk may pass it), then
 * cancels the rest so that the connection is closed rather than held. A short answer read to its
 * end lets the connection be reused. Never throws: an aborted or broken body ends the read. The
 * caller's abort signal (the attempt timeout) bounds the time, since the body shares it.
 * @returns the bytes read
 */
export async function drainAnswer(body: ReadableStream<Uint8Array> | null, cap: number = MAX_ANSWER_BYTES): Promise<number> {
  if (body === null) return 0;
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = body.getReader();
  } catch {
    return 0;
  }
  let read = 0;
  try {
    while (read < cap) {
      const chunk = await reader.read();
      if (chunk.done) return read;
      read += chunk.value.byteLength;
    }
  } catch {
    // Aborted by the attempt timeout or shutdown, or reset by the receiver: nothing more to read.
    return read;
  }
  // Not awaited: a receiver that never ends its body must not hold the endpoint.
  reader.cancel().catch(() => undefined);
  return read;
}
