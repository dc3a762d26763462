import type { Writable } from 'node:stream';
import type { TelemetryEvent } from '../catalog/types.js';
import type { Sink, SinkContext } from '../core/sink.js';
import { linesOf } from './lines.js';
import type { ConsoleTracerOptions } from './options.js';

/**
 * Writes each batch as one string. When the stream is backed up, the returned promise waits for
 * `drain`, so the tracer's bounded queue (not memory) absorbs the burst.
 */
export function consoleSink(options: ConsoleTracerOptions, context: SinkContext, target?: Writable): Sink {
  const stream = target ?? (options.stream === 'stdout' ? process.stdout : process.stderr);
  const ansi =
    options.ansi === undefined || options.ansi === 'auto' ? (stream as { isTTY?: boolean }).isTTY === true : options.ansi;
  const format = {
    json: options.format === 'json',
    text: { multiline: options.multiline === true, ansi, journald: options.journald === true },
  };
  const onError = (error: unknown) => context.report(error, 'console write failed');
  stream.on('error', onError);
  return {
    write(batch: readonly TelemetryEvent[]) {
      const lines = linesOf(batch, format, context);
      if (lines.length === 0 || stream.write(lines.join(''))) return;
      return new Promise<void>((resolve) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('close', done);
          resolve();
        };
        stream.on('drain', done);
        stream.on('close', done);
      });
    },
    close() {
      stream.off('error', onError);
    },
  };
}
