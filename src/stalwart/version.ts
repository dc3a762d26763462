/**
 * Which Stalwart version's wire formats to write. Decided once, at configuration time: each
 * mechanism picks its writers when it is built, so the library's own shapes (no setting) pay
 * nothing per event.
 */
import { TelemetryConfigError } from '../base/errors.js';

/** A Stalwart version whose wire formats the library can write exactly. */
export type StalwartVersion = '0.15' | '0.16';

/** The setting of one mechanism: a version, or `false` for the library's own shapes. */
export type StalwartSetting = StalwartVersion | false;

const VERSIONS: readonly StalwartVersion[] = ['0.15', '0.16'];
const EXPECTED = '"0.15" or "0.16"';

/** Validates the top-level `stalwart` option. */
export function resolveStalwart(value: unknown, path: string): StalwartVersion | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (VERSIONS as readonly string[]).includes(value)) return value as StalwartVersion;
  const hint = typeof value === 'number' ? `write the version as a string: stalwart: "${value.toFixed(2)}"` : undefined;
  throw new TelemetryConfigError(path, value, EXPECTED, hint);
}

/**
 * Validates a mechanism's own `stalwart` option, which overrides the top-level one: a version, or
 * `false` for the library's own shapes. Returns the setting in effect.
 */
export function overrideStalwart(
  value: unknown,
  path: string,
  inherited: StalwartVersion | undefined,
): StalwartVersion | undefined {
  if (value === undefined) return inherited;
  if (value === false) return undefined;
  if (typeof value === 'string' && (VERSIONS as readonly string[]).includes(value)) return value as StalwartVersion;
  throw new TelemetryConfigError(path, value, `${EXPECTED}, or false for the library's own shapes`);
}
