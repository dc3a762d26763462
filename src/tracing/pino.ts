import type { Level } from '../catalog/levels.js';
import type { TelemetryEvent } from '../catalog/types.js';
import type { Sink, SinkContext, TracerCommonOptions } from './sink.js';

/** A log method as pino has it: `logger.info(obj, msg)`. */
export type PinoLogMethod = (object: Record<string, unknown>, message: string) => void;

/** The part of a pino logger the bridge uses; any pino 8–10 logger (or a child) fits. */
export interface PinoLike {
  trace: PinoLogMethod;
  debug: PinoLogMethod;
  info: PinoLogMethod;
  warn: PinoLogMethod;
  error: PinoLogMethod;
}

/** Forwards events to the host's existing pino logger, with levels mapped one to one. */
export interface PinoTracerOptions extends TracerCommonOptions {
  readonly type: 'pino';
  /** The host's pino logger, or a child of it. pino is an optional peer: the bridge never imports it. */
  readonly logger: PinoLike;
}

/** The pino method for each level. */
export const PINO_METHOD: Readonly<Record<Level, keyof PinoLike>> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
};

/**
 * Each event becomes one pino line: the description as the message, and `event`, `spanId` and the
 * event's keys (span keys merged in) as fields. pino's own level filter still applies.
 */
export function pinoSink(options: PinoTracerOptions, context: SinkContext): Sink {
  const logger = options.logger;
  return {
    write(batch: readonly TelemetryEvent[]) {
      for (const event of batch) {
        const fields: Record<string, unknown> = { event: event.type, ...event.data };
        if (event.spanId !== undefined) fields.spanId = event.spanId;
        logger[PINO_METHOD[event.level]](fields, context.describe(event.type));
      }
    },
  };
}

/** Checks that `logger` has the five level methods. */
export function isPinoLike(logger: unknown): logger is PinoLike {
  if (typeof logger !== 'object' || logger === null) return false;
  return Object.values(PINO_METHOD).every((method) => typeof (logger as Record<string, unknown>)[method] === 'function');
}
