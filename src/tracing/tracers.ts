import { TelemetryConfigError } from '../base/errors.js';
import { type ResolvedSubscribe, resolveSubscribe } from '../core/options.js';
import type { InternalSinkContext, Sink, SinkContext } from '../core/sink.js';
import { OTEL_TRACER_KEYS, type OtelTracerOptions, otelSink } from '../otel/tracer.js';
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

/** A validated tracer, ready to be subscribed. */
export interface ResolvedTracer {
  readonly id: string;
  /** The option path, for errors found later (event patterns). */
  readonly path: string;
  /** The library event its failures are reported as. */
  readonly errorEvent: string;
  readonly selection: ResolvedSubscribe;
  /** Keys this tracer writes as `[redacted]`. */
  readonly redact: ReadonlySet<string>;
  /** True when the tracer needs every span start and end event, whatever its level. */
  readonly spans?: boolean;
  readonly make: (context: InternalSinkContext) => Sink;
}

const COMMON = ['type', 'id', 'level', 'events', 'exclude', 'lossy', 'maxQueue', 'redact'];
const BY_TYPE: Readonly<Record<string, readonly string[]>> = {
  console: [...COMMON, 'stream', 'format', 'multiline', 'ansi', 'journald'],
  file: [...COMMON, ...FILE_TRACER_KEYS],
  pino: [...COMMON, 'logger'],
  otel: [...COMMON, ...OTEL_TRACER_KEYS],
  custom: [...COMMON, 'sink'],
};
const KEY = /^[a-zA-Z][a-zA-Z0-9_-]*$/;

/** Validates `options.tracers` and `options.sensitiveKeys`. */
export function resolveTracers(tracers: unknown, sensitiveKeys: unknown): ResolvedTracer[] {
  const sensitive = keyList(sensitiveKeys ?? [], 'options.sensitiveKeys');
  if (tracers === undefined) return [];
  if (!Array.isArray(tracers)) throw new TelemetryConfigError('options.tracers', tracers, 'an array of tracer options');
  const ids = new Set<string>();
  return tracers.map((tracer: unknown, i) => {
    const path = `options.tracers[${i}]`;
    if (typeof tracer !== 'object' || tracer === null) throw new TelemetryConfigError(path, tracer, 'a tracer options object');
    const t = tracer as Record<string, unknown>;
    const known = BY_TYPE[String(t.type)];
    if (known === undefined) throw new TelemetryConfigError(`${path}.type`, t.type, `one of ${Object.keys(BY_TYPE).join(', ')}`);
    for (const key of Object.keys(t)) {
      if (!known.includes(key))
        throw new TelemetryConfigError(`${path}.${key}`, key, `an option of a ${t.type} tracer: ${known.join(', ')}`);
    }
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
    const redact = new Set([...sensitive, ...keyList(t.redact ?? [], `${path}.redact`)]);
    if (t.type === 'console') {
      return { id, path, errorEvent: 'telemetry.log-error', selection, redact, make: consoleMaker(t, path) };
    }
    if (t.type === 'otel') {
      checkOtelOptions(t, path);
      const options = t as unknown as OtelTracerOptions;
      const make = (context: InternalSinkContext) => otelSink(options, context);
      return { id, path, errorEvent: 'telemetry.otel-exporter-error', selection, redact, spans: true, make };
    }
    if (t.type === 'pino') {
      if (!isPinoLike(t.logger))
        throw new TelemetryConfigError(`${path}.logger`, t.logger, 'a pino logger (trace, debug, info, warn and error methods)');
      const options = t as unknown as PinoTracerOptions;
      return {
        id,
        path,
        errorEvent: 'telemetry.subscriber-error',
        selection,
        redact,
        make: (context: SinkContext) => pinoSink(options, context),
      };
    }
    if (t.type === 'file') {
      checkFileOptions(t, path);
      const options = t as unknown as FileTracerOptions;
      return {
        id,
        path,
        errorEvent: 'telemetry.log-error',
        selection,
        redact,
        make: (context: SinkContext) => fileSink(options, context),
      };
    }
    return { id, path, errorEvent: 'telemetry.subscriber-error', selection, redact, make: customMaker(t.sink, `${path}.sink`) };
  });
}

function consoleMaker(t: Record<string, unknown>, path: string): (context: SinkContext) => Sink {
  const oneOf = (key: string, allowed: readonly unknown[]) => {
    if (t[key] !== undefined && !allowed.includes(t[key])) {
      throw new TelemetryConfigError(`${path}.${key}`, t[key], allowed.map((a) => JSON.stringify(a)).join(' or '));
    }
  };
  oneOf('stream', ['stderr', 'stdout']);
  oneOf('format', ['text', 'json']);
  oneOf('multiline', [true, false]);
  oneOf('ansi', [true, false, 'auto']);
  oneOf('journald', [true, false]);
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

function keyList(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.some((k) => typeof k !== 'string' || !/^[a-zA-Z][a-zA-Z0-9]*$/.test(k))) {
    throw new TelemetryConfigError(path, value, 'an array of key names');
  }
  return value as string[];
}

function checkOtelOptions(t: Record<string, unknown>, path: string): void {
  const provider = t.tracerProvider;
  if (provider !== undefined && typeof (provider as { getTracer?: unknown } | null)?.getTracer !== 'function') {
    throw new TelemetryConfigError(`${path}.tracerProvider`, provider, 'an OpenTelemetry TracerProvider');
  }
  if (t.tracerName !== undefined && (typeof t.tracerName !== 'string' || t.tracerName === '')) {
    throw new TelemetryConfigError(`${path}.tracerName`, t.tracerName, 'a non-empty string');
  }
  const max = t.maxOpenSpans;
  if (max !== undefined && (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1)) {
    throw new TelemetryConfigError(`${path}.maxOpenSpans`, max, 'a positive integer');
  }
}
