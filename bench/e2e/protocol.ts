/** The messages the benchmark parent and its server child exchange over the IPC channel. */

export type Mode = 'off' | 'on';

/**
 * Parent to child. A round is `round-start` (maildir ready, counters reset), the load, `round-loaded`
 * when the last message reached the maildir, a drain pause that lets batched consumers (webhook
 * throttle, live batch window) do this round's work, then `round-end`.
 */
export type Command =
  | { readonly type: 'round-start'; readonly maildir: string }
  | { readonly type: 'round-loaded' }
  | { readonly type: 'round-end' }
  /** Memory now, after a full GC: the parent asks once the servers have been idle for a while. */
  | { readonly type: 'memory' }
  | { readonly type: 'shutdown' };

/** Memory after a full GC (when `--expose-gc` is on). */
export interface MemoryStats {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /**
   * V8's young generation as committed then: it grows with the bytes that survive scavenges and
   * shrinks only when allocation is slow, so it explains most of an RSS difference between modes.
   */
  readonly newSpaceBytes: number;
  /** Everything else V8 has committed for the heap (old, code and large-object spaces). */
  readonly otherHeapBytes: number;
}

/** What the child measured over one round; the memory is read at round end. */
export interface RoundStats extends MemoryStats {
  /** User plus system CPU of the server process from round start to round end (drain included), µs. */
  readonly cpuMicros: number;
  /** The same up to `round-loaded`, µs. */
  readonly cpuLoadMicros: number;
  /** Event-loop delay p99 from round start to `round-loaded`, ms. */
  readonly loopDelayP99Ms: number;
  /** `process.hrtime` at round start and end, µs: the clock of a V8 CPU profile's timestamps. */
  readonly startMicros: number;
  readonly endMicros: number;
  /** Messages the server accepted, and those its outbound transport failed to relay. */
  readonly queued: number;
  readonly outboundFailed: number;
  readonly gcExposed: boolean;
}

/** Child to parent. */
export type Report =
  | { readonly type: 'ready'; readonly smtpPort: number; readonly adminPort: number | undefined }
  | { readonly type: 'round-ready' }
  | ({ readonly type: 'round-stats' } & RoundStats)
  | ({ readonly type: 'memory' } & MemoryStats)
  | { readonly type: 'fatal'; readonly error: string };
