import type { Writable } from 'node:stream';
import { WRITE_CHARS } from '../base/write-size.js';
import type { TelemetryEvent } from '../catalog/types.js';
import type { Sink, SinkContext } from '../core/sink.js';
import { linesOf } from './lines.js';
import type { ConsoleTracerOptions } from './options.js';

/**
 * Writes each batch as few strings of at most about {@link WRITE_CHARS} as it takes. When the stream
 * is backed up, the returned promise waits for `drain`, so the tracer's bounded queue (not memory)
 * absorbs the burst.
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
  const stopListening = onStreamError(stream, onError);
  return {
    write(batch: readonly TelemetryEvent[]) {
      const lines = linesOf(batch, format, context);
      let flowing = true;
      let text = '';
      for (let i = 0; i < lines.length; i++) {
        text += lines[i] as string;
        if (text.length < WRITE_CHARS && i < lines.length - 1) continue;
        flowing = stream.write(text) && flowing;
        text = '';
      }
      if (flowing) return;
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
      stopListening();
    },
  };
}

/**
 * Every console tracer on a stream shares one `error` listener there: a process with many
 * instances (a test suite) would otherwise pass Node's limit of 10 listeners on `process.stdout`
 * and get a leak warning.
 */
const shared = new WeakMap<
  Writable,
  { readonly handlers: Set<(error: unknown) => void>; readonly listener: (error: unknown) => void }
>();

/** Adds `handler` to the stream's shared `error` listener; returns the function that removes it. */
function onStreamError(stream: Writable, handler: (error: unknown) => void): () => void {
  let entry = shared.get(stream);
  if (entry === undefined) {
    const handlers = new Set<(error: unknown) => void>();
    entry = {
      handlers,
      listener: (error) => {
        for (const h of handlers) h(error);
      },
    };
    shared.set(stream, entry);
    stream.on('error', entry.listener);
  }
  const { handlers, listener } = entry;
  handlers.add(handler);
  return () => {
    if (!handlers.delete(handler) || handlers.size > 0) return;
    // The last tracer on the stream is gone: its errors are the host's again.
    stream.off('error', listener);
    shared.delete(stream);
  };
}
