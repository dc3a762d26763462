/** The small helpers the benchmarks share; no imports, so child processes can load it for free. */

/** Averages the middle pair for an even count, so an even run count is not biased upwards; sorts a copy. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Waits without spinning, so the CPU a bench measures is not its own waiting. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Lets pending I/O and deferred deliveries run between bursts, as a server's event loop would. */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
