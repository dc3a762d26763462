import type { BuiltinEvents, EventName, LevelSetting } from '../../index.js';

/**
 * Level overrides that make an `smtp-server` session visible at `info`: spread them into
 * `createTelemetry({ levels: { ...smtpServerLevels } })`. The catalogue keeps Stalwart's levels, where
 * a connection's start and end, a failed login and some refusals are `debug`, so without these an
 * info-level tracer or the default history never sees a session. Every other event the adapter emits
 * (`smtp.ehlo`, `smtp.mail-from`, `smtp.rcpt-to`, the recipient refusals, `smtp.message-too-large`,
 * `auth.success`, `tls.handshake`, `queue.message-queued`) is already `info` in the catalogue.
 */
export const smtpServerLevels = {
  'smtp.connection-start': 'info',
  'smtp.connection-end': 'info',
  'auth.failed': 'info',
  'smtp.mail-from-not-allowed': 'info',
  'smtp.error': 'info',
} as const satisfies { readonly [N in EventName<BuiltinEvents>]?: LevelSetting };
