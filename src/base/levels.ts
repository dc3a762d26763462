/** Severity levels, least to most severe. */
export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** An event severity. */
export type Level = (typeof LEVELS)[number];

/** A level, or `disable` to remove an event everywhere (consumers and counters). */
export type LevelSetting = Level | 'disable';

/** Numeric severity used internally: trace 0 ... error 4, disable 5. */
export const DISABLED = 5;

const SEVERITY: Readonly<Record<LevelSetting, number>> = {
  trace: 0,
  debug: 1,
  info: 2,
  warn: 3,
  error: 4,
  disable: DISABLED,
};

/** True when `value` is one of the five levels. */
export function isLevel(value: unknown): value is Level {
  return typeof value === 'string' && (LEVELS as readonly string[]).includes(value);
}

/** True when `value` is a level or `disable`. */
export function isLevelSetting(value: unknown): value is LevelSetting {
  return value === 'disable' || isLevel(value);
}

/** Numeric severity of a level setting. */
export function severity(level: LevelSetting): number {
  return SEVERITY[level];
}
