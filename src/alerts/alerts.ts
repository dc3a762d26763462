import type { PartContext } from '../core/part.js';
import type { HistoryApi } from '../history/history.js';
import type { ResolvedAlerts } from './options.js';

/** `telemetry.alerts`: rule states and on-demand evaluation. (Skeleton: being built.) */
export interface AlertsApi {
  /** The configured rule ids. */
  ids(): readonly string[];
}

/** What alerts use besides the core. */
export interface AlertsDeps {
  readonly history: HistoryApi;
}

export function createAlerts(_context: PartContext, options: ResolvedAlerts, _deps: AlertsDeps): AlertsApi {
  return { ids: () => options.rules.map((r) => r.id) };
}
