export type { LiveAuthorize, LiveAuthRequest, LiveVerdict } from './access.js';
export type { LiveFilter } from './filter.js';
export type { StalwartMetric } from './frames.js';
export type { LiveApi, LiveStats } from './live.js';
export type { LiveMetricsOptions, LiveMetricsStream } from './metrics.js';
export type { LiveOptions } from './options.js';
export { LiveUnavailableError } from './sse.js';
export type { LiveBatch, LiveEventStream } from './stream.js';
export type { LiveScope, LiveTokenClaims, LiveTokenOptions } from './token.js';
