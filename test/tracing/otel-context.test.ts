import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION, make } from '../support/telemetry.js';

function otel() {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, tracerProvider };
}

// The host's OTel setup: a real async context manager, as @opentelemetry/sdk-node installs.
const manager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(manager.enable());
});
afterAll(() => {
  context.disable();
});

describe('the OpenTelemetry tracer and the caller context', () => {
  it('makes a span started inside withSpan a child of the current span, in the same trace', async () => {
    const { exporter, tracerProvider } = otel();
    const telemetry = make({ tracers: [{ type: 'otel', tracerProvider }] });
    const connection = telemetry.span('smtp.connection-start', CONNECTION);
    const attempt = telemetry.withSpan(connection, () =>
      telemetry.span('delivery.attempt-start', { queueId: 7, from: 'a@example.org', to: ['b@example.net'] }),
    );
    attempt.end();
    connection.end();
    await telemetry.flush();
    const spans = exporter.getFinishedSpans();
    const parent = spans.find((s) => s.name === 'smtp.connection-start');
    const child = spans.find((s) => s.name === 'delivery.attempt-start');
    expect(parent?.parentSpanContext).toBeUndefined();
    expect(child?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
    expect(child?.spanContext().traceId).toBe(parent?.spanContext().traceId);
    await telemetry.shutdown();
  });

  it("nests a span under the host's active OTel span, and attaches events outside spans to it", async () => {
    const { exporter, tracerProvider } = otel();
    const telemetry = make({ tracers: [{ type: 'otel', tracerProvider, level: 'info' }] });
    const host = tracerProvider.getTracer('host');
    await host.startActiveSpan('POST /api/queue', async (request) => {
      telemetry.emit('queue.message-queued', { queueId: 42, from: 'a@example.org' });
      await Promise.resolve(); // the active span survives an await
      const session = telemetry.span('smtp.connection-start', CONNECTION);
      session.end();
      request.end();
    });
    telemetry.emit('queue.message-queued', { queueId: 43 }); // no active span: attached nowhere
    await telemetry.flush();
    const request = exporter.getFinishedSpans().find((s) => s.name === 'POST /api/queue');
    const session = exporter.getFinishedSpans().find((s) => s.name === 'smtp.connection-start');
    expect(session?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    // Attached at emit time: the request span had ended before the batch was written.
    expect(request?.events.map((e) => [e.name, e.attributes])).toEqual([
      ['queue.message-queued', { queueId: 42, from: 'a@example.org' }],
    ]);
    await telemetry.shutdown();
  });

  it('adds events outside spans to a still-open active span, with their keys', async () => {
    const { exporter, tracerProvider } = otel();
    const telemetry = make({ tracers: [{ type: 'otel', tracerProvider, level: 'info' }] });
    const host = tracerProvider.getTracer('host');
    await host.startActiveSpan('POST /api/queue', async (request) => {
      telemetry.emit('queue.message-queued', { queueId: 42, from: 'a@example.org' });
      await telemetry.flush();
      request.end();
    });
    const request = exporter.getFinishedSpans().find((s) => s.name === 'POST /api/queue');
    expect(request?.events.map((e) => [e.name, e.attributes])).toEqual([
      ['queue.message-queued', { queueId: 42, from: 'a@example.org' }],
    ]);

    const detached = otel();
    const off = make({
      tracers: [{ type: 'otel', tracerProvider: detached.tracerProvider, attachToActiveSpan: false }],
    });
    await detached.tracerProvider.getTracer('host').startActiveSpan('GET /', async (span) => {
      off.emit('queue.message-queued', { queueId: 1 });
      await off.flush();
      span.end();
    });
    expect(detached.exporter.getFinishedSpans()[0]?.events).toEqual([]);
    await Promise.all([telemetry.shutdown(), off.shutdown()]);
  });

  it('telemetry.tracer.startActiveSpan makes the span current for telemetry and for OTel', async () => {
    const { exporter, tracerProvider } = otel();
    const telemetry = make({ tracers: [{ type: 'otel', tracerProvider, level: 'info' }] });
    const host = tracerProvider.getTracer('host');
    const id = await telemetry.tracer.startActiveSpan('smtp.connection-start', CONNECTION, async (session) => {
      telemetry.emit('smtp.ehlo', { domain: 'client.example.org' }); // joins the span: no spanId given
      await Promise.resolve();
      expect(telemetry.currentSpanId()).toBe(session.id);
      host.startSpan('dns lookup').end(); // the host's own span nests under ours
      session.end();
      return session.id;
    });
    await telemetry.flush();
    const spans = exporter.getFinishedSpans();
    const ours = spans.find((s) => s.name === 'smtp.connection-start');
    const dns = spans.find((s) => s.name === 'dns lookup');
    expect(ours?.attributes.spanId).toBe(id);
    expect(ours?.events.map((e) => e.name)).toEqual(['smtp.ehlo']);
    expect(dns?.parentSpanContext?.spanId).toBe(ours?.spanContext().spanId);
    expect(trace.getActiveSpan()).toBeUndefined();
    await telemetry.shutdown();
  });

  it('redacts sensitive keys in span attributes taken at emit time', async () => {
    const { exporter, tracerProvider } = otel();
    const telemetry = make({ sensitiveKeys: ['remoteIp'], tracers: [{ type: 'otel', tracerProvider }] });
    telemetry.span('smtp.connection-start', CONNECTION).end();
    await telemetry.flush();
    expect(exporter.getFinishedSpans()[0]?.attributes.remoteIp).toBe('[redacted]');
    await telemetry.shutdown();
  });

  it('redacts span events apart from their span: an event keeps only its own keys', async () => {
    const { exporter, tracerProvider } = otel();
    const telemetry = make({ sensitiveKeys: ['remoteIp', 'from'], tracers: [{ type: 'otel', tracerProvider }] });
    const session = telemetry.span('smtp.connection-start', CONNECTION);
    session.emit('smtp.mail-from', { from: 'alice@example.org' });
    session.emit('smtp.ehlo', { domain: 'client.example.org' });
    session.end();
    await telemetry.flush();
    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes).toMatchObject({ remoteIp: '[redacted]', remotePort: 40123 });
    expect(span?.events.map((e) => e.attributes)).toEqual([{ from: '[redacted]' }, { domain: 'client.example.org' }]);
    await telemetry.shutdown();
  });
});
