export type { WebhookOptions } from './options.js';
export type { WebhooksApi } from './webhooks.js';
