export type { AlertsApi } from './alerts.js';
export type { AlertRuleOptions, SendMail } from './options.js';
