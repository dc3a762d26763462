/**
 * The consumers of `bench:e2e`'s `on` server, as createTelemetry options: shared with the bench figure
 * `consumersPerMessage`, which runs the same consumers with no mail server. Plain data only, so that
 * the `off` server never loads the library.
 */
import { randomBytes } from 'node:crypto';

export const CONSUMERS = ['tracer', 'history', 'webhook', 'live', 'alerts'] as const;
export type Consumer = (typeof CONSUMERS)[number];

/**
 * The options for the `wanted` consumers; the live stream's handler is always there, the SSE client
 * being the parent's choice. `history` is merged into the history's options (`capacity`).
 */
export function consumerOptions(
  wanted: ReadonlySet<string>,
  webhookUrl: string,
  history: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  return {
    // stdout is /dev/null (the parent opens it so), so this measures formatting and the write.
    ...(wanted.has('tracer') ? { tracers: [{ type: 'console', stream: 'stdout', format: 'json' }] } : {}),
    // Without `history` among the consumers, none: the default history would be one.
    ...(wanted.has('history') ? { history: { series: { interval: 1000 }, ...history } } : { history: false }),
    ...(wanted.has('webhook')
      ? {
          webhooks: [
            {
              id: 'ops',
              url: webhookUrl,
              events: ['smtp.*', 'auth.*', 'delivery.*', 'queue.*'],
              signatureKey: `whsec_${randomBytes(32).toString('base64')}`,
              signing: 'both',
            },
          ],
        }
      : {}),
    live: { authorize: () => true },
    ...(wanted.has('alerts')
      ? {
          alerts: {
            interval: '1s',
            rules: [
              // A window function reads the history's series: without the history, a current-value rule only.
              ...(wanted.has('history')
                ? [{ id: 'auth-failures', condition: "increase(metric('auth.failed'), '1m') > 1000", for: '1m' }]
                : []),
              { id: 'queue-backlog', condition: 'queue_count > 10_000', for: '1m' },
            ],
          },
        }
      : {}),
  };
}
