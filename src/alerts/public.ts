export type { AlertWebhookBody } from './actions.js';
export type { AlertState, AlertStatus, AlertsApi, AlertTransition } from './alerts.js';
export type {
  AlertEmailOptions,
  AlertEventOptions,
  AlertmanagerOptions,
  AlertRuleOptions,
  AlertsOptions,
  AlertWebhookOptions,
  Duration,
  SendMail,
} from './options.js';
