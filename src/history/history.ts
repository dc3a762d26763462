import type { PartContext } from '../core/part.js';
import { handler, type RequestHandler } from '../http/handler.js';
import type { ResolvedHistory } from './options.js';

/** `telemetry.history`: events, span traces and metric series. (Skeleton: being built.) */
export interface HistoryApi {
  /** True when history was configured. */
  readonly enabled: boolean;
}

/** The history part: its API and its JSON request handler. */
export interface HistoryPart {
  readonly api: HistoryApi;
  readonly handler: RequestHandler;
}

export function createHistory(_context: PartContext, options: ResolvedHistory | undefined): HistoryPart {
  return {
    api: { enabled: options !== undefined },
    handler: handler(() => ({ status: 404, headers: { 'content-type': 'text/plain' }, body: 'history is off\n' })),
  };
}
