export type { LiveApi } from './live.js';
export type { LiveOptions } from './options.js';
