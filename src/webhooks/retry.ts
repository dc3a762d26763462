import type { ResolvedRetry } from './options.js';

/** Milliseconds to wait after failed attempt `attempt` (1-based): exponential, capped, with jitter. */
export function backoff(retry: ResolvedRetry, attempt: number, random: () => number = Math.random): number {
  const nominal = Math.min(retry.maxDelay, retry.initialDelay * retry.multiplier ** (attempt - 1));
  const spread = nominal * retry.jitter * (2 * random() - 1);
  return Math.max(1, Math.min(retry.maxDelay, Math.round(nominal + spread)));
}

/**
 * Milliseconds a `Retry-After` header asks to wait: delay-seconds or an HTTP date. Undefined when
 * absent or unreadable.
 */
export function retryAfter(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
