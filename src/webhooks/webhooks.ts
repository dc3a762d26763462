import type { PartContext } from '../core/part.js';
import type { ResolvedWebhook } from './options.js';

/** `telemetry.webhooks`: per-endpoint stats, pause and resume. (Skeleton: being built.) */
export interface WebhooksApi {
  /** The configured endpoint ids. */
  ids(): readonly string[];
}

export function createWebhooks(_context: PartContext, options: readonly ResolvedWebhook[]): WebhooksApi {
  return { ids: () => options.map((o) => o.id) };
}
