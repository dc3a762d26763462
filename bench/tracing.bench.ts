/**
 * Tracer throughput against pino 10, both writing the same events with the same fields to
 * /dev/null (the parent runs this process with stdout on /dev/null): the JSON-lines console
 * tracer against pino `info(obj)`, and the text tracer's throughput beside the same pino run.
 */
import { pino } from 'pino';
import { createTelemetry } from '../dist/index.js';
import type { Comparison } from './harness.js';
import { yieldToLoop } from './stats.js';

const CHUNK = 1000;

function tracerComparison(format: 'json' | 'text', title: string, target: number): Comparison {
  // The tracer alone: no default history taking the events too.
  const telemetry = createTelemetry({
    history: false,
    tracers: [{ type: 'console', stream: 'stdout', format, events: ['delivery.delivered'] }],
  });
  // pino's fastest setup from its own benchmarks (PinoMinLength): async sonic-boom with a 4 KB buffer.
  const destination = pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 });
  const logger = pino({ level: 'info' }, destination);
  return {
    title,
    iterations: 100_000,
    target,
    ours: {
      name: `console tracer, format '${format}'`,
      run: async (n) => {
        for (let i = 0; i < n; i += CHUNK) {
          for (let j = 0; j < CHUNK; j++) {
            telemetry.emit('delivery.delivered', { hostname: 'mx.example.org', code: 250, elapsed: j, to: 'bob@example.net' });
          }
          await yieldToLoop();
        }
        const report = await telemetry.flush();
        if (!report.complete) throw new Error('tracer did not drain');
      },
    },
    peer: {
      name: 'pino info(obj), 4 KB-buffered destination on /dev/null',
      run: async (n) => {
        for (let i = 0; i < n; i += CHUNK) {
          for (let j = 0; j < CHUNK; j++) {
            logger.info({
              event: 'delivery.delivered',
              hostname: 'mx.example.org',
              code: 250,
              elapsed: j,
              to: 'bob@example.net',
            });
          }
          await yieldToLoop();
        }
        // flush(cb) would fsync, which /dev/null refuses; flushSync writes the buffer out.
        destination.flushSync();
      },
    },
  };
}

export const jsonSink = (): Comparison => tracerComparison('json', 'JSON-lines tracer vs pino, to /dev/null', 1.5);
export const textSink = (): Comparison => tracerComparison('text', 'text tracer vs pino JSON, to /dev/null', 0);

/** The comparisons this file adds to `npm run bench`, by the name that runs one alone. */
export const comparisons: Record<string, () => Comparison> = {
  'tracing-json': jsonSink,
  'tracing-text': textSink,
};
