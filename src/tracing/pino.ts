import { safeCopy } from '../base/json.js';
import type { Level } from '../base/levels.js';
import type { TelemetryEvent } from '../catalog/types.js';
import type { Sink, SinkContext } from '../core/sink.js';
import type { TracerCommonOptions } from './options.js';

/** A log method as pino has it: `logger.info(obj, msg)`. */
export type PinoLogMethod = (object: Record<string, unknown>, message: string) => void;

/** The part of a pino logger the bridge uses; any pino 8-10 logger (or a child) fits. */
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
 *
 * An event pino cannot serialise (a throwing getter or `toJSON`) is logged again from a plain-JSON
 * copy of its keys (markers such as `[Circular]` and `[Unreadable]` in place of what JSON cannot
 * hold); one that still fails is left out alone and reported as the tracer's error event.
 */
export function pinoSink(options: PinoTracerOptions, context: SinkContext): Sink {
  const logger = options.logger;
  return {
    write(batch: readonly TelemetryEvent[]) {
      for (let i = 0; i < batch.length; i++) {
        const event = batch[i] as TelemetryEvent;
        try {
          log(logger, event, context.describe(event.type));
        } catch (error) {
          context.report(error, `event ${event.type} could not be written: 1 event dropped`);
        }
      }
    },
  };
}

function log(logger: PinoLike, event: TelemetryEvent, message: string): void {
  const method = PINO_METHOD[event.level];
  let fields: Record<string, unknown>;
  try {
    // A spread copies own keys only and defines each, so a `__proto__` key stays a plain field.
    fields = { event: event.type, ...event.data };
    if (event.spanId !== undefined) fields.spanId = event.spanId;
    logger[method](fields, message);
    return;
  } catch {
    // Below: the same line from a copy that pino can always serialise.
  }
  let data: unknown;
  try {
    data = event.data;
  } catch {
    data = {};
  }
  const copy = safeCopy(data);
  fields =
    typeof copy === 'object' && copy !== null && !Array.isArray(copy) ? { event: event.type, ...copy } : { event: event.type };
  if (event.spanId !== undefined) fields.spanId = safeCopy(event.spanId);
  logger[method](fields, message);
}

/** Checks that `logger` has the five level methods. */
export function isPinoLike(logger: unknown): logger is PinoLike {
  if (typeof logger !== 'object' || logger === null) return false;
  return Object.values(PINO_METHOD).every((method) => typeof (logger as Record<string, unknown>)[method] === 'function');
}
