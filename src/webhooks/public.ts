export type { WebhookState, WebhookStats } from './endpoint.js';
export type {
  WebhookAuth,
  WebhookDiscardReason,
  WebhookEvent,
  WebhookOptions,
  WebhookPayload,
  WebhookRetryOptions,
  WebhookSigning,
} from './options.js';
export type { WebhooksApi } from './webhooks.js';
