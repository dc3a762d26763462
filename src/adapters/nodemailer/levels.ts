import type { BuiltinEvents, EventName, LevelSetting } from '../../index.js';

/**
 * Level overrides that show the outbound SMTP dialogue at `info`, as the inbound one is shown: spread
 * them into `createTelemetry({ levels: { ...nodemailerLevels } })` (with `smtpServerLevels` for the
 * inbound side). The catalogue keeps Stalwart's levels, where the accepted EHLO, login, MAIL FROM and
 * RCPT TO of a delivery are `debug` while their inbound twins (`smtp.ehlo`, `auth.success`,
 * `smtp.mail-from`, `smtp.rcpt-to`) are `info`. Every other event the adapter emits (the attempt,
 * connect, refusals, failures, `delivery.delivered`, `delivery.failed`, `delivery.completed`) is
 * already `info`.
 */
export const nodemailerLevels = {
  'delivery.ehlo': 'info',
  'delivery.auth': 'info',
  'delivery.mail-from': 'info',
  'delivery.rcpt-to': 'info',
} as const satisfies { readonly [N in EventName<BuiltinEvents>]?: LevelSetting };
