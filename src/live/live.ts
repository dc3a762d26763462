import type { PartContext } from '../core/part.js';
import { handler, type RequestHandler } from '../http/handler.js';
import type { ResolvedLive } from './options.js';

/** `telemetry.live`: event and metric streams. (Skeleton: being built.) */
export interface LiveApi {
  /** Streams opened so far. */
  readonly open: number;
}

/** The live part: its API and its SSE request handlers. */
export interface LivePart {
  readonly api: LiveApi;
  readonly handlers: { readonly liveTracing: RequestHandler; readonly liveMetrics: RequestHandler };
}

export function createLive(_context: PartContext, _options: ResolvedLive): LivePart {
  const off = handler(() => ({ status: 404, headers: { 'content-type': 'text/plain' }, body: 'live is off\n' }));
  return { api: { open: 0 }, handlers: { liveTracing: off, liveMetrics: off } };
}
