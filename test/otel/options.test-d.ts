import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expectTypeOf, it } from 'vitest';
import { createTelemetry } from '../../src/index.js';
import type { OtelAttributeNames, OtelSpanExporter, OtelTracerOptions } from '../../src/otel.js';

describe('the otel tracer options', () => {
  it('names attributes with one of three literal sets', () => {
    expectTypeOf<OtelAttributeNames>().toEqualTypeOf<'catalogue' | 'semconv' | 'both'>();
    expectTypeOf<OtelTracerOptions['attributes']>().toEqualTypeOf<OtelAttributeNames | undefined>();
    createTelemetry({ tracers: [{ type: 'otel', attributes: 'semconv' }] });
    createTelemetry({ tracers: [{ type: 'otel', attributes: 'both' }] });
    // @ts-expect-error: not a name set
    createTelemetry({ tracers: [{ type: 'otel', attributes: 'semantic' }] });
    // @ts-expect-error: attributes is the otel tracer's
    createTelemetry({ tracers: [{ type: 'console', attributes: 'semconv' }] });
  });

  it('takes the SDK’s exporters without naming the SDK in its own types', () => {
    expectTypeOf<OTLPTraceExporter>().toMatchTypeOf<OtelSpanExporter>();
    expectTypeOf<InMemorySpanExporter>().toMatchTypeOf<OtelSpanExporter>();
    createTelemetry({ tracers: [{ type: 'otel', exporter: new OTLPTraceExporter(), logExporter: new OTLPLogExporter() }] });
    // @ts-expect-error: a log exporter is not a span exporter's place
    createTelemetry({ tracers: [{ type: 'otel', exporter: { shutdown: () => Promise.resolve() } }] });
  });
});
