const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/** `'30s'`, `'5m'`, `'1h'`, `'500ms'`, `'1d'` in milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  const value = Number(match[1]) * (UNITS[match[2] as string] as number);
  return Number.isFinite(value) ? value : undefined;
}

/** A duration option: milliseconds, or a string such as `'5m'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd' | 'w'}`;
