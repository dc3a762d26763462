/**
 * Emit cost against pino 10, side by side in one process:
 *   (a) an emit nothing wants vs pino's disabled `logger.debug(obj)`;
 *   (b) an emit into one batched in-process subscriber plus its counter vs pino `info(obj)` to a no-op destination.
 */
import { pino } from 'pino';
import { createTelemetry } from '../dist/index.js';
import type { Comparison } from './harness.js';
import { yieldToLoop } from './stats.js';

const CHUNK = 1000;

export function unwantedEmit(): Comparison {
  // The default history is on: raw I/O is never kept, so the event stays unwanted.
  const quiet = createTelemetry();
  const disabledLogger = pino({ level: 'info' }, { write() {} });
  return {
    title: '(a) emit that nothing wants',
    iterations: 5_000_000,
    target: 1,
    ours: {
      name: "emit('smtp.raw-input', {...}), unwanted",
      run: (n) => {
        for (let i = 0; i < n; i++) quiet.emit('smtp.raw-input', { contents: 'EHLO example.org', size: i });
      },
    },
    peer: {
      name: 'pino debug(obj) at level info',
      run: (n) => {
        for (let i = 0; i < n; i++) disabledLogger.debug({ contents: 'EHLO example.org', size: i });
      },
    },
  };
}

export function subscribedEmit(): Comparison {
  // One subscriber and the counter, nothing else: the default history would also take the event
  // (info) into its ring and index 8 keys of it, which is its own cost (the historyAppend figure),
  // not the subscriber's.
  const busy = createTelemetry({ history: false });
  let received = 0;
  busy.subscribe({ events: ['delivery.delivered'] }, (batch) => {
    received += batch.length;
  });
  let written = 0;
  const infoLogger = pino(
    { level: 'info' },
    {
      write() {
        written++;
      },
    },
  );
  return {
    title: '(b) emit into one batched subscriber + counter',
    iterations: 200_000,
    target: 10,
    ours: {
      name: "emit('delivery.delivered', {...}) + subscriber",
      run: async (n) => {
        const before = received;
        for (let i = 0; i < n; i += CHUNK) {
          for (let j = 0; j < CHUNK; j++) busy.emit('delivery.delivered', { hostname: 'mx.example.org', code: 250, elapsed: j });
          await yieldToLoop();
        }
        await busy.flush();
        if (received - before !== n) throw new Error(`subscriber received ${received - before} of ${n} events`);
      },
    },
    peer: {
      name: 'pino info(obj) to a no-op destination',
      run: async (n) => {
        const before = written;
        for (let i = 0; i < n; i += CHUNK) {
          for (let j = 0; j < CHUNK; j++) infoLogger.info({ hostname: 'mx.example.org', code: 250, elapsed: j });
          await yieldToLoop();
        }
        if (written - before !== n) throw new Error(`pino wrote ${written - before} of ${n} lines`);
      },
    },
  };
}

/** The comparisons this file adds to `npm run bench`, by the name that runs one alone. */
export const comparisons: Record<string, () => Comparison> = {
  'emit-unwanted': unwantedEmit,
  'emit-subscribed': subscribedEmit,
};
