import { TelemetryConfigError } from '../core/errors.js';

/** One webhook endpoint. `P` is the event-name pattern type. (Skeleton: being built.) */
export interface WebhookOptions<P extends string = string> {
  /** Names the endpoint in stats, metrics and error events. */
  readonly id: string;
  /** The receiver's URL (http or https). */
  readonly url: string;
  /** Event names or wildcards to send. @default ['*'] */
  readonly events?: readonly P[];
}

/** Validated webhook options with defaults applied. */
export interface ResolvedWebhook {
  readonly id: string;
  readonly url: string;
}

export function resolveWebhooks(value: unknown, path: string): readonly ResolvedWebhook[] {
  if (value === undefined) return [];
  throw new TelemetryConfigError(path, value, 'nothing: webhooks are not implemented yet');
}
