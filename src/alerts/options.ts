import { TelemetryConfigError } from '../core/errors.js';

/** One alert rule. (Skeleton: being built.) */
export interface AlertRuleOptions {
  readonly id: string;
  /** An expression over metrics, such as `rate(smtp_connection_start, '5m') > 10`. */
  readonly condition: string;
}

/** Hands a built RFC 5322 message to the host's mail transport. */
export type SendMail = (message: {
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: string;
}) => Promise<void>;

/** Validated alert rules. */
export interface ResolvedAlerts {
  readonly rules: readonly AlertRuleOptions[];
  readonly sendMail: SendMail | undefined;
}

export function resolveAlerts(value: unknown, sendMail: unknown, path: string): ResolvedAlerts {
  if (sendMail !== undefined)
    throw new TelemetryConfigError('options.sendMail', sendMail, 'nothing: alerts are not implemented yet');
  if (value === undefined) return { rules: [], sendMail: undefined };
  throw new TelemetryConfigError(path, value, 'nothing: alerts are not implemented yet');
}
