import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '../../src/index.js';
import { CONNECTION, make } from '../support/telemetry.js';

function otel() {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, tracerProvider };
}

describe('the OpenTelemetry tracer', () => {
  it('turns an SMTP session into one span: start keys as attributes, events between as span events', async () => {
    const { exporter, tracerProvider } = otel();
    let clock = Date.UTC(2026, 10, 24, 12);
    const telemetry = make({ now: () => clock, tracers: [{ type: 'otel', tracerProvider, level: 'info' }] });
    const session = telemetry.span('smtp.connection-start', CONNECTION);
    session.emit('smtp.ehlo', { domain: 'client.example.org' });
    session.emit('smtp.mail-from', { from: 'alice@example.org' });
    session.emit('smtp.raw-input', { contents: 'DATA' }); // trace level: below the tracer's level
    await telemetry.flush(); // a later batch must still find its span
    clock += 1500;
    session.end();
    await telemetry.flush();
    const [span] = exporter.getFinishedSpans();
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(span?.name).toBe('smtp.connection-start');
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.attributes).toMatchObject({ ...CONNECTION, spanId: session.id });
    expect(span?.attributes.elapsed).toBe(1500);
    expect(span?.events.map((e) => e.name)).toEqual(['smtp.ehlo', 'smtp.mail-from']);
    // Span events carry their own keys; the span's keys are on the span once.
    expect(span?.events[0]?.attributes).toEqual({ domain: 'client.example.org' });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    const durationMs = (span?.duration[0] ?? 0) * 1000 + (span?.duration[1] ?? 0) / 1e6;
    expect(durationMs).toBe(1500);
    await telemetry.shutdown();
  });

  it('ends with an error status when an error-level event occurred, and keeps spans apart', async () => {
    const { exporter, tracerProvider } = otel();
    const telemetry = make({ tracers: [{ type: 'otel', tracerProvider }] });
    const attempt = telemetry.span('delivery.attempt-start', { queueId: 7, from: 'a@example.org', to: ['b@example.net'] });
    const other = telemetry.span('smtp.connection-start', CONNECTION);
    attempt.emit('store.sqlite-error', { reason: 'disk I/O error' });
    other.emit('smtp.ehlo', { domain: 'x.example' });
    attempt.end();
    other.end();
    await telemetry.flush();
    const spans = exporter.getFinishedSpans();
    const delivery = spans.find((s) => s.name === 'delivery.attempt-start');
    expect(delivery?.kind).toBe(SpanKind.CLIENT);
    expect(delivery?.attributes.to).toEqual(['b@example.net']);
    expect(delivery?.status).toMatchObject({ code: SpanStatusCode.ERROR });
    expect(delivery?.status.message).toContain('store.sqlite-error');
    expect(delivery?.events.map((e) => e.name)).toEqual(['store.sqlite-error']);
    const smtp = spans.find((s) => s.name === 'smtp.connection-start');
    expect(smtp?.status.code).toBe(SpanStatusCode.UNSET);
    expect(smtp?.events.map((e) => e.name)).toEqual(['smtp.ehlo']);
    expect(delivery?.spanContext().traceId).not.toBe(smtp?.spanContext().traceId);
    await telemetry.shutdown();
  });

  it('turns objects under keys typed to hold them into text, and passes plain keys as they are', async () => {
    const { exporter, tracerProvider } = otel();
    const telemetry = make({ tracers: [{ type: 'otel', tracerProvider, level: 'debug' }] });
    const attempt = telemetry.span('delivery.attempt-start', { queueId: 7, to: ['b@example.net', 'c@example.net'] });
    const nextRetry = new Date(Date.UTC(2026, 10, 25, 8));
    attempt.emit('delivery.failed', { reason: 'mailbox full', nextRetry, causedBy: new TypeError('boom'), queueId: 7 });
    attempt.emit('delivery.mx-lookup', { domain: 'example.net', elapsed: 3 });
    attempt.end();
    await telemetry.flush();
    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes.to).toEqual(['b@example.net', 'c@example.net']);
    expect(span?.events.map((e) => e.attributes)).toEqual([
      { reason: 'mailbox full', nextRetry: '2026-11-25T08:00:00.000Z', causedBy: 'TypeError: boom', queueId: 7 },
      { domain: 'example.net', elapsed: 3 },
    ]);
    await telemetry.shutdown();
  });

  it('shares span events with other consumers, which still see whole events with the span keys', async () => {
    const { exporter, tracerProvider } = otel();
    const telemetry = make({ tracers: [{ type: 'otel', tracerProvider }] });
    const seen: TelemetryEvent[] = [];
    telemetry.on('smtp.*', (event) => seen.push(event));
    const session = telemetry.span('smtp.connection-start', CONNECTION);
    session.emit('smtp.ehlo', { domain: 'client.example.org' });
    telemetry.emit('smtp.mail-from', { spanId: String(session.id), from: 'alice@example.org' });
    session.end({ elapsed: 9 });
    await telemetry.flush();
    expect(seen.map((e) => e.type)).toEqual(['smtp.connection-start', 'smtp.ehlo', 'smtp.mail-from', 'smtp.connection-end']);
    expect(seen[1]?.data).toEqual({ domain: 'client.example.org', spanId: session.id, ...CONNECTION });
    expect(seen[2]?.spanId).toBe(String(session.id)); // as the caller gave it
    const [span] = exporter.getFinishedSpans();
    expect(span?.events.map((e) => [e.name, e.attributes])).toEqual([
      ['smtp.ehlo', { domain: 'client.example.org' }],
      ['smtp.mail-from', { spanId: String(session.id), from: 'alice@example.org' }],
    ]);
    await telemetry.shutdown();
  });

  it('feeds two OTel tracers with their own levels from the same spans', async () => {
    const a = otel();
    const b = otel();
    const telemetry = make({
      tracers: [
        { type: 'otel', tracerProvider: a.tracerProvider, level: 'info' },
        { type: 'otel', tracerProvider: b.tracerProvider, level: 'debug' },
      ],
    });
    const session = telemetry.span('smtp.connection-start', CONNECTION);
    session.emit('smtp.ehlo', { domain: 'client.example.org' }); // info
    session.emit('smtp.quit', {}); // debug
    session.end();
    await telemetry.flush();
    expect(a.exporter.getFinishedSpans().map((s) => s.events.map((e) => e.name))).toEqual([['smtp.ehlo']]);
    expect(b.exporter.getFinishedSpans().map((s) => s.events.map((e) => e.name))).toEqual([['smtp.ehlo', 'smtp.quit']]);
    await telemetry.shutdown();
  });

  it('keeps interleaved sessions apart and ignores events after a span ended', async () => {
    const { exporter, tracerProvider } = otel();
    const telemetry = make({ tracers: [{ type: 'otel', tracerProvider }] });
    const a = telemetry.span('smtp.connection-start', { ...CONNECTION, remotePort: 1 });
    const b = telemetry.span('smtp.connection-start', { ...CONNECTION, remotePort: 2 });
    a.emit('smtp.ehlo', { domain: 'a.example' });
    a.emit('smtp.mail-from', { from: 'a@a.example' });
    b.emit('smtp.ehlo', { domain: 'b.example' });
    a.emit('smtp.rcpt-to', { to: 'x@example.net' });
    a.end({ elapsed: 5 });
    a.emit('smtp.rcpt-to', { to: 'late@example.net' }); // after its end: belongs to no OTel span
    telemetry.emit('smtp.rcpt-to', { spanId: a.id, to: 'later@example.net' });
    b.emit('smtp.mail-from', { from: 'b@b.example' });
    b.end({ elapsed: 7 });
    await telemetry.flush();
    const byPort = new Map(exporter.getFinishedSpans().map((s) => [s.attributes.remotePort, s]));
    expect(exporter.getFinishedSpans()).toHaveLength(2);
    expect(byPort.get(1)?.events.map((e) => e.attributes)).toEqual([
      { domain: 'a.example' },
      { from: 'a@a.example' },
      { to: 'x@example.net' },
    ]);
    expect(byPort.get(1)?.attributes.elapsed).toBe(5);
    expect(byPort.get(2)?.events.map((e) => e.attributes)).toEqual([{ domain: 'b.example' }, { from: 'b@b.example' }]);
    expect(byPort.get(2)?.attributes.elapsed).toBe(7);
    await telemetry.shutdown();
  });

  it('ends spans still open at shutdown as incomplete, reports exporter failures, and refuses bad options', async () => {
    const { exporter, tracerProvider } = otel();
    const telemetry = make({ tracers: [{ type: 'otel', tracerProvider, maxOpenSpans: 1 }] });
    telemetry.span('smtp.connection-start', CONNECTION);
    telemetry.span('imap.connection-start', CONNECTION); // pushes the first one out
    await telemetry.flush();
    expect(exporter.getFinishedSpans().map((s) => [s.name, s.attributes['mail_telemetry.incomplete']])).toEqual([
      ['smtp.connection-start', true],
    ]);
    await telemetry.shutdown();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['smtp.connection-start', 'imap.connection-start']);

    const broken = () =>
      make({
        tracers: [
          {
            type: 'otel',
            tracerProvider: {
              getTracer: () => {
                throw new Error('no tracer');
              },
            },
          },
        ],
      });
    expect(broken).toThrow(/options\.tracers\[0\]: expected a tracer whose sink can be created, got "otel-0" \(no tracer\)/);
    expect(() => make({ tracers: [{ type: 'otel', tracerProvider: {} } as never] })).toThrow(
      /options\.tracers\[0\]\.tracerProvider: expected an OpenTelemetry TracerProvider/,
    );
  });

  it('reports a failing provider as telemetry.otel-exporter-error without touching the emitter', async () => {
    const reports: TelemetryEvent[] = [];
    const telemetry = make({
      tracers: [
        {
          type: 'otel',
          tracerProvider: {
            getTracer: () => ({
              startSpan: () => {
                throw new Error('exporter down');
              },
              startActiveSpan: () => undefined as never,
            }),
          },
        },
      ],
    });
    telemetry.subscribe({ events: ['telemetry.*'] }, (batch) => {
      reports.push(...batch);
    });
    expect(() => telemetry.span('smtp.connection-start', CONNECTION).end()).not.toThrow();
    await telemetry.flush();
    expect(reports.map((e) => [e.type, e.data.reason])).toEqual([['telemetry.otel-exporter-error', 'exporter down']]);
    await telemetry.shutdown();
  });
});
