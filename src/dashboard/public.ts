export type { DashboardOptions } from './options.js';
