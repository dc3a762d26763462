import type { MechanismContext } from '../metrics/api.js';
import { Endpoint, type WebhookMetrics, type WebhookStats } from './endpoint.js';
import type { ResolvedWebhook } from './options.js';

/** `telemetry.webhooks`: per-endpoint stats, pause and resume. */
export interface WebhooksApi {
  /** The configured endpoint ids, in configuration order. */
  ids(): readonly string[];
  /** Every endpoint's counters. */
  stats(): readonly WebhookStats[];
  /** One endpoint's counters; throws a `RangeError` for an unknown id. */
  stats(id: string): WebhookStats;
  /** Stops sending to an endpoint; events keep being held (and expire after `discardAfter`). */
  pause(id: string): void;
  /** Sends again to a paused endpoint, or enables again one a 410 answer disabled. */
  resume(id: string): void;
}

/** Creates one endpoint per configured webhook and hooks them into flush and shutdown. */
export function createWebhooks(context: MechanismContext, options: readonly ResolvedWebhook[]): WebhooksApi {
  const endpoints = new Map<string, Endpoint>();
  if (options.length > 0) {
    const metrics = defineMetrics(context);
    for (const o of options) endpoints.set(o.id, new Endpoint(context, o, metrics));
    context.attach({
      id: 'webhooks',
      pending: () => {
        let total = 0;
        for (const endpoint of endpoints.values()) total += endpoint.pending();
        return total;
      },
      flush: async () => {
        await Promise.all([...endpoints.values()].map((e) => e.flush()));
      },
      close: () => {
        for (const endpoint of endpoints.values()) endpoint.close();
      },
    });
  }
  const get = (id: string): Endpoint => {
    const endpoint = endpoints.get(id);
    if (endpoint === undefined)
      throw new RangeError(`webhooks: no endpoint ${JSON.stringify(id)}; known: ${[...endpoints.keys()].join(', ')}`);
    return endpoint;
  };
  function stats(): readonly WebhookStats[];
  function stats(id: string): WebhookStats;
  function stats(id?: string): WebhookStats | readonly WebhookStats[] {
    return id === undefined ? [...endpoints.values()].map((e) => e.stats()) : get(id).stats();
  }
  return {
    ids: () => [...endpoints.keys()],
    stats,
    pause: (id) => get(id).pause(),
    resume: (id) => get(id).resume(),
  };
}

function defineMetrics(context: MechanismContext): WebhookMetrics {
  const m = context.metrics;
  const labels = ['webhook'] as const;
  return {
    delivered: m.counter('telemetry.webhook-delivered', { help: 'Events delivered to a webhook (2xx)', unit: 'events', labels }),
    failed: m.counter('telemetry.webhook-failed', { help: 'Failed webhook delivery attempts', unit: 'requests', labels }),
    retried: m.counter('telemetry.webhook-retried', {
      help: 'Webhook delivery attempts that were retries',
      unit: 'requests',
      labels,
    }),
    discarded: m.counter('telemetry.webhook-discarded', {
      help: 'Events a webhook gave up on (stale, byte cap, intake queue full, too large, disabled, shutdown)',
      unit: 'events',
      labels,
    }),
    dropped: m.counter('telemetry.webhook-dropped', {
      help: 'Events a lossy webhook dropped over its cap',
      unit: 'events',
      labels,
    }),
    pending: m.gauge('telemetry.webhook-pending', {
      help: 'Events a webhook holds, waiting or in flight',
      unit: 'events',
      labels,
    }),
  };
}
