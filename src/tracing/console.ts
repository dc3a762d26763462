import type { Writable } from 'node:stream';
import type { TelemetryEvent } from '../catalog/types.js';
import { jsonLine, textLine } from './format.js';
import type { ConsoleTracerOptions, Sink, SinkContext } from './sink.js';

/**
 * Writes each batch as one string. When the stream is backed up, the returned promise waits for
 * `drain`, so the tracer's bounded queue (not memory) absorbs the burst.
 */
export function consoleSink(options: ConsoleTracerOptions, context: SinkContext, target?: Writable): Sink {
  const stream = target ?? (options.stream === 'stdout' ? process.stdout : process.stderr);
  const ansi =
    options.ansi === undefined || options.ansi === 'auto' ? (stream as { isTTY?: boolean }).isTTY === true : options.ansi;
  const text = { multiline: options.multiline === true, ansi, journald: options.journald === true };
  const json = options.format === 'json';
  const onError = (error: unknown) => context.report(error, 'console write failed');
  stream.on('error', onError);
  return {
    write(batch: readonly TelemetryEvent[]) {
      let out = '';
      for (const event of batch) {
        const description = context.describe(event.type);
        out += json ? jsonLine(event, description) : textLine(event, description, text);
      }
      if (stream.write(out)) return;
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
