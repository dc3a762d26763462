import type { LevelSetting } from '../../index.js';
import { smtpServerLevels } from '../smtp-server/levels.js';

/**
 * The levels the Haraka plugin's instance starts from: a session's start and end, a failed login
 * and the refusals are `debug` in the catalogue, so an info-level tracer or the default history
 * would not see a session without these. Levels from `telemetry.ini` or the plugin's options win.
 */
export const harakaLevels = {
  ...smtpServerLevels,
  'smtp.start-tls': 'info',
} as const satisfies Readonly<Record<string, LevelSetting>>;
