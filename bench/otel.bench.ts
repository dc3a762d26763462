/**
 * OpenTelemetry spans: an SMTP connection span of 10 events (start, 8 in between, end) exported
 * as one OTel span by the otel tracer, against hand-written @opentelemetry/api calls that produce
 * the same span, both through the same SDK setup. Target: at most 1.2× the raw cost.
 */
import { SpanKind, type Tracer } from '@opentelemetry/api';
import { BasicTracerProvider, type ReadableSpan, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createTelemetry } from '../dist/index.js';
import type { Comparison } from './harness.js';
import { yieldToLoop } from './stats.js';

/** Counts exported spans and drops them, so neither side pays for storage. */
class CountingExporter implements SpanExporter {
  count = 0;
  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    this.count += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function provider() {
  const exporter = new CountingExporter();
  return { exporter, tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }) };
}

const CONNECTION = { remoteIp: '192.0.2.10', remotePort: 40123, listenerId: 'smtp', localPort: 25 } as const;
const CHUNK = 100;

function rawSession(tracer: Tracer, i: number): void {
  const span = tracer.startSpan('smtp.connection-start', { kind: SpanKind.SERVER, attributes: { ...CONNECTION, spanId: i } });
  // Span events carry their own keys, as the tracer's do; the span's keys are on the span.
  span.addEvent('smtp.ehlo', { domain: 'client.example.org' });
  span.addEvent('smtp.mail-from', { from: 'alice@example.org' });
  for (let r = 0; r < 4; r++) span.addEvent('smtp.rcpt-to', { to: `user${r}@example.net` });
  span.addEvent('smtp.message-parse-failed', { details: 'x' });
  span.addEvent('queue.message-queued', { queueId: i, size: 1843 });
  span.setAttribute('elapsed', 12);
  span.end();
}

export function otelSpans(): Comparison {
  const ours = provider();
  const telemetry = createTelemetry({
    // The OTel tracer alone: no default history taking the events too.
    history: false,
    tracers: [{ type: 'otel', tracerProvider: ours.tracerProvider, level: 'trace', maxQueue: 1_000_000 }],
  });
  const raw = provider();
  const tracer = raw.tracerProvider.getTracer('raw');
  return {
    title: 'SMTP span of 10 events, as one OTel span',
    iterations: 20_000,
    // At most 1.2× the raw cost: raw time / our time ≥ 1 / 1.2.
    target: 0.83,
    ours: {
      name: "otel tracer: span('smtp.connection-start') + 8 emits + end()",
      run: async (n) => {
        const before = ours.exporter.count;
        for (let i = 0; i < n; i += CHUNK) {
          for (let j = 0; j < CHUNK; j++) {
            const session = telemetry.span('smtp.connection-start', CONNECTION);
            session.emit('smtp.ehlo', { domain: 'client.example.org' });
            session.emit('smtp.mail-from', { from: 'alice@example.org' });
            for (let r = 0; r < 4; r++) session.emit('smtp.rcpt-to', { to: `user${r}@example.net` });
            session.emit('smtp.message-parse-failed', { details: 'x' });
            session.emit('queue.message-queued', { queueId: j, size: 1843 });
            session.end({ elapsed: 12 });
          }
          await yieldToLoop();
        }
        await telemetry.flush();
        if (ours.exporter.count - before !== n) throw new Error(`exported ${ours.exporter.count - before} of ${n} spans`);
      },
    },
    peer: {
      name: 'hand-written @opentelemetry/api calls',
      run: async (n) => {
        const before = raw.exporter.count;
        for (let i = 0; i < n; i += CHUNK) {
          for (let j = 0; j < CHUNK; j++) rawSession(tracer, j);
          await yieldToLoop();
        }
        if (raw.exporter.count - before !== n) throw new Error(`exported ${raw.exporter.count - before} of ${n} spans`);
      },
    },
  };
}

/** The comparisons this file adds to `npm run bench`, by the name that runs one alone. */
export const comparisons: Record<string, () => Comparison> = {
  'tracing-otel': otelSpans,
};
