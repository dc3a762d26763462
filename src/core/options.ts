import { TelemetryConfigError } from '../base/errors.js';
import { isLevelSetting, type Level, type LevelSetting } from '../base/levels.js';
import { checkKeys, duration, integer, level, nonEmptyString, record } from '../base/validate.js';
import type { HostEvents } from '../catalog/define.js';
import type { CheckPattern } from '../catalog/types.js';
import type { SinkSpec } from './sink.js';

/** Bounds on spans that are opened and never ended. */
export interface SpanOptions {
  /**
   * Most spans kept open at once; beyond it the oldest are swept out.
   * @default 8000
   */
  readonly maxOpen?: number;
  /**
   * Milliseconds after which an open span is swept out.
   * @default 86_400_000 (24 h)
   */
  readonly maxAge?: number;
  /**
   * Milliseconds between age sweeps, on an unref'd timer.
   * @default 60_000
   */
  readonly sweepInterval?: number;
}

/**
 * Options of `telemetry.subscribe`. `P` is the selectors taken, `X` every selector allowed: the event
 * names and wildcards. A literal selector in `events` must match at least one of those names.
 */
export interface SubscribeOptions<P extends string = string, X extends string = string> {
  /**
   * Names the subscriber in stats and in `telemetry.subscriber-error` events.
   * @default 'subscriber-<n>'
   */
  readonly id?: string;
  /**
   * Event names or wildcards (`*`, `smtp.*`, `*-error`) to take.
   * @default ['*']
   */
  readonly events?: readonly CheckPattern<P, X>[];
  /**
   * Event names or wildcards to leave out.
   * @default []
   */
  readonly exclude?: readonly X[];
  /**
   * The least severe level taken.
   * @default 'trace'
   */
  readonly level?: Level;
  /**
   * When the queue is full, a lossy subscriber drops its oldest event; a lossless one refuses the
   * newest. Both count every drop and report it as `telemetry.events-dropped`.
   * @default false
   */
  readonly lossy?: boolean;
  /**
   * Most events queued for the handler.
   * @default 10_240 when lossy, 100_000 otherwise
   */
  readonly maxQueue?: number;
  /**
   * Most events per handler call.
   * @default 1024
   */
  readonly maxBatch?: number;
}

const SPAN_KEYS = new Set(['maxOpen', 'maxAge', 'sweepInterval']);
const SUBSCRIBE_KEYS = new Set(['id', 'events', 'exclude', 'level', 'lossy', 'maxQueue', 'maxBatch']);
const KEY_NAME = /^[a-zA-Z][a-zA-Z0-9]*$/;

/** The core's options, validated, with defaults applied: what the runtime is built from. */
export interface ResolvedCore {
  readonly service: string;
  readonly events: HostEvents | undefined;
  readonly levels: Readonly<Record<string, LevelSetting>>;
  readonly maxOpenSpans: number;
  readonly maxSpanAge: number;
  readonly sweepInterval: number;
  /** `options.sensitiveKeys`: redacted in the output of every tracer and mechanism. */
  readonly sensitiveKeys: ReadonlySet<string>;
  /** The tracers, as the core attaches them. */
  readonly sinks: readonly SinkSpec[];
  readonly now: () => number;
}

/**
 * Validates the core's own options (`service`, `events`, `levels`, `spans`, `sensitiveKeys`, `now`) of
 * the options object `o`, at `path`; `sinks` are the tracers the composition root resolved.
 */
export function resolveCore(o: Readonly<Record<string, unknown>>, path: string, sinks: readonly SinkSpec[]): ResolvedCore {
  const spans = record(o.spans === undefined ? {} : o.spans, `${path}.spans`);
  checkKeys(spans, SPAN_KEYS, `${path}.spans`);
  const levels = record(o.levels === undefined ? {} : o.levels, `${path}.levels`);
  for (const [name, level] of Object.entries(levels)) {
    if (!isLevelSetting(level)) {
      throw new TelemetryConfigError(
        `${path}.levels[${JSON.stringify(name)}]`,
        level,
        'trace, debug, info, warn, error or disable',
      );
    }
  }
  if (o.now !== undefined && typeof o.now !== 'function')
    throw new TelemetryConfigError(`${path}.now`, o.now, 'a function returning epoch milliseconds');
  return {
    service: nonEmptyString(o.service === undefined ? 'mail-server' : o.service, `${path}.service`),
    events: o.events === undefined ? undefined : (o.events as HostEvents),
    levels: levels as Record<string, LevelSetting>,
    maxOpenSpans: integer(spans.maxOpen, `${path}.spans.maxOpen`, 8000, 1),
    maxSpanAge: positiveNumber(spans.maxAge === undefined ? 86_400_000 : spans.maxAge, `${path}.spans.maxAge`),
    // A timer: Node fires one longer than 2^31 - 1 ms after 1 ms, so the kit bounds it.
    sweepInterval: duration(spans.sweepInterval, `${path}.spans.sweepInterval`, 60_000, 1),
    sensitiveKeys: new Set(sensitiveKeys(o.sensitiveKeys, `${path}.sensitiveKeys`)),
    sinks,
    now: (o.now as (() => number) | undefined) ?? Date.now,
  };
}

/** `options.sensitiveKeys`: key names. */
export function sensitiveKeys(value: unknown, path: string): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((k) => typeof k !== 'string' || !KEY_NAME.test(k))) {
    throw new TelemetryConfigError(path, value, 'an array of key names');
  }
  return value as string[];
}

/** Validated subscribe options with defaults applied (patterns are checked against the catalogue later). */
export interface ResolvedSubscribe {
  readonly id: string | undefined;
  readonly events: readonly string[] | undefined;
  readonly exclude: readonly string[] | undefined;
  readonly level: Level;
  readonly lossy: boolean;
  readonly maxQueue: number;
  readonly maxBatch: number;
}

export function resolveSubscribe(options: unknown, path: string): ResolvedSubscribe {
  const o = record(options === undefined ? {} : options, path);
  checkKeys(o, SUBSCRIBE_KEYS, path);
  const minimum = level(o.level, `${path}.level`, 'trace');
  if (o.lossy !== undefined && typeof o.lossy !== 'boolean')
    throw new TelemetryConfigError(`${path}.lossy`, o.lossy, 'a boolean');
  const lossy = o.lossy === true;
  return {
    id: o.id === undefined ? undefined : nonEmptyString(o.id, `${path}.id`),
    events: o.events as readonly string[] | undefined,
    exclude: o.exclude as readonly string[] | undefined,
    level: minimum,
    lossy,
    // Infinity lifts the bound of a lossless queue.
    maxQueue:
      o.maxQueue === Number.POSITIVE_INFINITY ? o.maxQueue : integer(o.maxQueue, `${path}.maxQueue`, lossy ? 10_240 : 100_000, 1),
    maxBatch: integer(o.maxBatch, `${path}.maxBatch`, 1024, 1),
  };
}

function positiveNumber(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new TelemetryConfigError(path, value, 'a positive finite number');
  return value;
}
