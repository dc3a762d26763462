/** Epoch of event and span ids: 2024-01-01T00:00:00Z. */
export const ID_EPOCH = Date.UTC(2024, 0, 1);
const SEQUENCE = 4096;

let lastMs = 0;
let sequence = 0;

/**
 * A unique, time-ordered id for this process: milliseconds since {@link ID_EPOCH} times 4096 plus
 * a sequence. It stays below 2^53 (exact in a JS number) until 2093. Past 4096 ids in one
 * millisecond the clock part moves ahead, so ids stay unique and increasing.
 */
export function nextId(now: number): number {
  const ms = now > ID_EPOCH ? Math.floor(now - ID_EPOCH) : 0;
  if (ms > lastMs) {
    lastMs = ms;
    sequence = 0;
  } else if (++sequence === SEQUENCE) {
    lastMs++;
    sequence = 0;
  }
  return lastMs * SEQUENCE + sequence;
}

/** The epoch-ms time encoded in an event or span id. */
export function idTime(id: number): number {
  return Math.floor(id / SEQUENCE) + ID_EPOCH;
}
