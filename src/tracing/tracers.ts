import { TelemetryConfigError } from '../base/errors.js';
import { boolean, checkKeys, keyNames, oneOf, record } from '../base/validate.js';
import { resolveSubscribe } from '../core/options.js';
import type { InternalSinkContext, Sink, SinkContext, SinkSpec } from '../core/sink.js';
import { checkOtelOptions, OTEL_TRACER_KEYS } from '../otel/options.js';
import { type OtelTracerOptions, otelSink } from '../otel/tracer.js';
import { consoleSink } from './console.js';
import { checkFileOptions, FILE_TRACER_KEYS, type FileTracerOptions, fileSink } from './file.js';
import type { TracerOptions } from './options.js';
import { isPinoLike, type PinoTracerOptions, pinoSink } from './pino.js';

/** A tracer's event selection, typed by the selectors `P` it may name. */
export interface TracerSelection<P extends string> {
  /**
   * Event names or wildcards to write; a literal one must match at least one event name.
   * @default ['*']
   */
  readonly events?: readonly P[];
  /**
   * Event names or wildcards to leave out.
   * @default []
   */
  readonly exclude?: readonly P[];
}

/** {@link TracerOptions} whose `events` and `exclude` take the selectors `P` (each tracer type kept apart). */
export type TracerOptionsFor<P extends string> = TracerOptions extends infer T
  ? T extends TracerOptions
    ? Omit<T, 'events' | 'exclude'> & TracerSelection<P>
    : never
  : never;

/** A validated tracer, as the core attaches it. */
export type ResolvedTracer = SinkSpec;

/** Console and file tracers write what arrived in this many ms together: a few writes, not one per tick. */
const WRITE_WINDOW = 50;
const COMMON = ['type', 'id', 'level', 'events', 'exclude', 'lossy', 'maxQueue', 'redact'];

/** One tracer type: its options, the event its failures are reported as, and how its sink is made. */
interface TracerType {
  readonly keys: readonly string[];
  readonly errorEvent: string;
  /** True when the tracer needs every span start and end event, whatever its level. */
  readonly spans?: boolean;
  /** Milliseconds events gather before one write (a log line may wait this long). @default 0 */
  readonly delay?: number;
  /** Validates the type's own options and returns the sink factory. */
  readonly maker: (t: Record<string, unknown>, path: string) => (context: InternalSinkContext) => Sink;
}

/** Every tracer type, by its `type`: adding one is adding a row. */
const TRACER_TYPES: Readonly<Record<string, TracerType>> = {
  console: {
    keys: [...COMMON, 'stream', 'format', 'multiline', 'ansi', 'journald'],
    errorEvent: 'telemetry.log-error',
    delay: WRITE_WINDOW,
    maker: consoleMaker,
  },
  file: {
    keys: [...COMMON, ...FILE_TRACER_KEYS],
    errorEvent: 'telemetry.log-error',
    delay: WRITE_WINDOW,
    maker: (t, path) => {
      checkFileOptions(t, path);
      return (context) => fileSink(t as unknown as FileTracerOptions, context);
    },
  },
  pino: {
    keys: [...COMMON, 'logger'],
    errorEvent: 'telemetry.subscriber-error',
    maker: (t, path) => {
      if (!isPinoLike(t.logger))
        throw new TelemetryConfigError(`${path}.logger`, t.logger, 'a pino logger (trace, debug, info, warn and error methods)');
      return (context) => pinoSink(t as unknown as PinoTracerOptions, context);
    },
  },
  otel: {
    keys: [...COMMON, ...OTEL_TRACER_KEYS],
    errorEvent: 'telemetry.otel-exporter-error',
    spans: true,
    maker: (t, path) => {
      checkOtelOptions(t, path);
      return (context) => otelSink(t as unknown as OtelTracerOptions, context);
    },
  },
  custom: {
    keys: [...COMMON, 'sink'],
    errorEvent: 'telemetry.subscriber-error',
    maker: (t, path) => customMaker(t.sink, `${path}.sink`),
  },
};
const KEY = /^[a-zA-Z][a-zA-Z0-9_-]*$/;

/**
 * Validates `options.tracers` at `path`; `sensitiveKeys` is the instance's `options.sensitiveKeys`,
 * redacted by every tracer (and validated here, at `options.sensitiveKeys`).
 */
export function resolveTracers(value: unknown, at: string, sensitiveKeys: unknown): ResolvedTracer[] {
  const sensitive = keyNames(sensitiveKeys, 'options.sensitiveKeys');
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TelemetryConfigError(at, value, 'an array of tracer options');
  const ids = new Set<string>();
  return value.map((tracer: unknown, i) => {
    const path = `${at}[${i}]`;
    const t = record(tracer, path, 'a tracer options object');
    const type = Object.hasOwn(TRACER_TYPES, String(t.type)) ? TRACER_TYPES[String(t.type)] : undefined;
    if (type === undefined)
      throw new TelemetryConfigError(`${path}.type`, t.type, `one of ${Object.keys(TRACER_TYPES).join(', ')}`);
    checkKeys(t, type.keys, path, `a ${t.type} tracer`);
    const id = t.id === undefined ? `${t.type}-${i}` : t.id;
    if (typeof id !== 'string' || !KEY.test(id)) throw new TelemetryConfigError(`${path}.id`, id, 'letters, digits, _ and -');
    if (ids.has(id)) throw new TelemetryConfigError(`${path}.id`, id, 'an id not used by another tracer');
    ids.add(id);
    const selection = resolveSubscribe(
      {
        id: `tracer:${id}`,
        level: t.level === undefined ? 'info' : t.level,
        ...(t.events === undefined ? {} : { events: t.events }),
        ...(t.exclude === undefined ? {} : { exclude: t.exclude }),
        ...(t.lossy === undefined ? {} : { lossy: t.lossy }),
        ...(t.maxQueue === undefined ? {} : { maxQueue: t.maxQueue }),
      },
      path,
    );
    const redact = new Set([...sensitive, ...keyNames(t.redact, `${path}.redact`)]);
    const make = type.maker(t, path);
    return {
      id,
      path,
      errorEvent: type.errorEvent,
      selection,
      redact,
      ...(type.spans ? { spans: true } : {}),
      ...(type.delay === undefined ? {} : { delay: type.delay }),
      make,
    };
  });
}

function consoleMaker(t: Record<string, unknown>, path: string): (context: InternalSinkContext) => Sink {
  oneOf(t.stream, `${path}.stream`, 'stderr', ['stderr', 'stdout']);
  oneOf(t.format, `${path}.format`, 'text', ['text', 'json']);
  boolean(t.multiline, `${path}.multiline`, false);
  oneOf(t.ansi, `${path}.ansi`, 'auto', [true, false, 'auto']);
  boolean(t.journald, `${path}.journald`, false);
  return (context) => consoleSink(t as never, context);
}

function customMaker(sink: unknown, path: string): (context: SinkContext) => Sink {
  const check = (value: unknown, made: boolean): Sink => {
    // A sink made from the context may work through context.onEmit alone; the runtime checks that.
    const write = (value as Sink | null)?.write;
    if (typeof value !== 'object' || value === null || (write === undefined ? !made : typeof write !== 'function')) {
      throw new TelemetryConfigError(path, value, 'a sink with a write(batch) method, or a function returning one');
    }
    for (const hook of ['flush', 'close', 'activate'] as const) {
      const fn = (value as Sink)[hook];
      if (fn !== undefined && typeof fn !== 'function') throw new TelemetryConfigError(`${path}.${hook}`, fn, 'a function');
    }
    return value as Sink;
  };
  if (typeof sink === 'function') return (context) => check((sink as (context: SinkContext) => unknown)(context), true);
  const checked = check(sink, false);
  return () => checked;
}
