/**
 * The otel tracer's own providers, end to end: the real OTLP/HTTP exporters (JSON) send spans, log
 * records and metrics to a receiver on 127.0.0.1, which decodes what arrived.
 */
import { hostname } from 'node:os';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { exportMetrics } from '../../src/otel.js';
import { CONNECTION, make } from '../support/telemetry.js';
import { exporterErrors, otlpExporters, otlpReceiver, type ReceivedLog } from './receiver.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function byName<T extends { name: string }>(items: readonly T[], name: string): T {
  const found = items.find((item) => item.name === name);
  if (found === undefined) throw new Error(`no ${name} in ${items.map((i) => i.name).join(', ')}`);
  return found;
}

function logOf(logs: readonly ReceivedLog[], event: string): ReceivedLog {
  const found = logs.find((log) => log.eventName === event);
  if (found === undefined) throw new Error(`no log record of ${event}`);
  return found;
}

describe('the otel tracer with an exporter', () => {
  it('builds a provider: spans with parents, attributes and the resource reach an OTLP receiver', async () => {
    const receiver = await otlpReceiver();
    const telemetry = make({
      service: 'mx-test',
      tracers: [
        {
          type: 'otel',
          exporter: new OTLPTraceExporter({ url: receiver.url('traces') }),
          resourceAttributes: { 'service.version': '1.2.3' },
        },
      ],
    });
    const session = telemetry.span('smtp.connection-start', CONNECTION);
    session.emit('smtp.ehlo', { domain: 'client.example.org' });
    const attempt = telemetry.withSpan(session, () =>
      telemetry.span('delivery.attempt-start', { queueId: 7, from: 'a@example.org', to: ['b@example.net'] }),
    );
    attempt.end({ elapsed: 12 });
    session.end({ elapsed: 30 });
    await telemetry.flush();

    const spans = receiver.spans();
    expect(spans.map((s) => s.name).sort()).toEqual(['delivery.attempt-start', 'smtp.connection-start']);
    const smtp = byName(spans, 'smtp.connection-start');
    const delivery = byName(spans, 'delivery.attempt-start');
    expect(smtp.resource).toMatchObject({
      'service.name': 'mx-test',
      'service.version': '1.2.3',
      'host.name': hostname(),
      'telemetry.sdk.language': 'nodejs',
    });
    expect(smtp.resource['service.instance.id']).toMatch(UUID);
    expect(smtp.scope).toBe('mail-telemetry');
    expect(smtp.kind).toBe(2); // SERVER in OTLP's enum
    expect(delivery.kind).toBe(3); // CLIENT
    expect(smtp.parentSpanId).toBe('');
    expect(delivery.parentSpanId).toBe(smtp.spanId);
    expect(delivery.traceId).toBe(smtp.traceId);
    expect(smtp.attributes).toMatchObject({ ...CONNECTION, spanId: session.id, elapsed: 30 });
    expect(delivery.attributes).toMatchObject({ queueId: 7, to: ['b@example.net'], elapsed: 12 });
    expect(smtp.events).toEqual([{ name: 'smtp.ehlo', attributes: { domain: 'client.example.org' } }]);
  });

  it('emits every selected event as a log record whose trace and span ids are its span’s', async () => {
    const receiver = await otlpReceiver();
    const telemetry = make({
      service: 'mx-test',
      tracers: [
        {
          type: 'otel',
          level: 'debug',
          ...otlpExporters(receiver),
        },
      ],
    });
    const session = telemetry.span('smtp.connection-start', CONNECTION);
    session.emit('smtp.ehlo', { domain: 'client.example.org' });
    session.emit('smtp.raw-input', { contents: 'EHLO x' }); // trace level: below the tracer's
    const attempt = telemetry.withSpan(session, () => telemetry.span('delivery.attempt-start', { queueId: 7 }));
    attempt.emit('delivery.failed', { reason: 'mailbox full', nextRetry: new Date(Date.UTC(2026, 10, 25, 8)) });
    attempt.end();
    session.end();
    telemetry.emit('auth.failed', { remoteIp: '192.0.2.99' }); // outside any span
    await telemetry.flush();

    const spans = receiver.spans();
    const smtp = byName(spans, 'smtp.connection-start');
    const delivery = byName(spans, 'delivery.attempt-start');
    const logs = receiver.logs();
    expect(logs.map((l) => l.eventName)).toEqual([
      'smtp.connection-start',
      'smtp.ehlo',
      'delivery.attempt-start',
      'delivery.failed',
      'delivery.attempt-end',
      'smtp.connection-end',
      'auth.failed',
    ]);
    for (const event of ['smtp.connection-start', 'smtp.ehlo', 'smtp.connection-end']) {
      expect(logOf(logs, event), event).toMatchObject({ traceId: smtp.traceId, spanId: smtp.spanId });
    }
    for (const event of ['delivery.attempt-start', 'delivery.failed', 'delivery.attempt-end']) {
      expect(logOf(logs, event), event).toMatchObject({ traceId: delivery.traceId, spanId: delivery.spanId });
    }
    expect(logOf(logs, 'auth.failed').traceId).toBe('');

    const ehlo = logOf(logs, 'smtp.ehlo');
    expect(ehlo.resource).toEqual(smtp.resource);
    expect(ehlo.scope).toBe('mail-telemetry');
    expect(ehlo.body).toBe(telemetry.describe('smtp.ehlo').description);
    // The event's keys as sinks see them: its own, merged with its span's.
    expect(ehlo.attributes).toMatchObject({ ...CONNECTION, domain: 'client.example.org', 'event.name': 'smtp.ehlo' });
    const levels = Object.fromEntries(logs.map((l) => [l.eventName, [l.severityNumber, l.severityText]]));
    expect(levels['smtp.ehlo']).toEqual([9, 'INFO']);
    expect(levels['delivery.failed']?.[1]).toBe(telemetry.describe('delivery.failed').level.toUpperCase());
    expect(levels['auth.failed']).toEqual([5, 'DEBUG']);
    expect(levels['smtp.connection-start']).toEqual([5, 'DEBUG']);
    expect(logOf(logs, 'delivery.failed').attributes.nextRetry).toBe('2026-11-25T08:00:00.000Z');
  });

  it('logs only what the tracer selects, though its spans still get their start and end events', async () => {
    const receiver = await otlpReceiver();
    const telemetry = make({
      tracers: [
        {
          type: 'otel',
          level: 'debug',
          events: ['smtp.*'],
          exclude: ['smtp.connection-end'],
          ...otlpExporters(receiver),
        },
      ],
    });
    const attempt = telemetry.span('delivery.attempt-start', { queueId: 1 });
    attempt.end();
    const session = telemetry.span('smtp.connection-start', CONNECTION);
    session.emit('smtp.ehlo', { domain: 'x.example' });
    session.end();
    await telemetry.flush();
    expect(receiver.spans().map((s) => s.name)).toEqual(['delivery.attempt-start', 'smtp.connection-start']);
    expect(receiver.logs().map((l) => l.eventName)).toEqual(['smtp.connection-start', 'smtp.ehlo']);
  });

  it('exports at shutdown what is pending, spans left open included', async () => {
    const receiver = await otlpReceiver();
    const telemetry = make({
      tracers: [
        {
          type: 'otel',
          ...otlpExporters(receiver),
        },
      ],
    });
    telemetry.span('delivery.attempt-start', { queueId: 3 });
    expect(receiver.requests()).toBe(0); // batched: nothing sent yet
    await telemetry.shutdown();
    const [span] = receiver.spans();
    expect(span?.attributes['mail_telemetry.incomplete']).toBe(true);
    expect(receiver.logs().map((l) => l.eventName)).toEqual(['delivery.attempt-start']);
  });

  it('samples with sampleRatio; logs keep their trace ids', async () => {
    const receiver = await otlpReceiver();
    const telemetry = make({
      tracers: [
        {
          type: 'otel',
          level: 'debug',
          sampleRatio: 0,
          ...otlpExporters(receiver),
        },
      ],
    });
    const session = telemetry.span('smtp.connection-start', CONNECTION);
    session.end();
    await telemetry.flush();
    expect(receiver.spans()).toEqual([]);
    const logs = receiver.logs();
    expect(logs).toHaveLength(2);
    expect(logs[0]?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(logs[1]?.traceId).toBe(logs[0]?.traceId);
  });

  it('reports a failed export as telemetry.otel-exporter-error, saying what was lost', async () => {
    const receiver = await otlpReceiver({ status: 400 });
    const telemetry = make({
      tracers: [
        {
          type: 'otel',
          level: 'debug',
          ...otlpExporters(receiver),
        },
      ],
    });
    const errors = exporterErrors(telemetry);
    const session = telemetry.span('smtp.connection-start', CONNECTION);
    session.end();
    await telemetry.flush();
    await telemetry.flush(); // the reports made while flushing are delivered
    const details = errors.map((e) => e.data.details).sort();
    expect(details).toEqual(['1 spans not exported', '2 log records not exported']);
    expect(errors[0]?.data.id).toBe('otel-0');
  });
});

describe('the otel tracer with a host LoggerProvider', () => {
  it('emits to it, with the ids of the spans of the host TracerProvider', async () => {
    const spanExporter = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
    const logExporter = new InMemoryLogRecordExporter();
    const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: logExporter })] });
    const telemetry = make({ tracers: [{ type: 'otel', level: 'debug', tracerProvider, loggerProvider, tracerName: 'mx' }] });
    const session = telemetry.span('smtp.connection-start', CONNECTION);
    session.emit('smtp.ehlo', { domain: 'x.example' });
    session.end();
    await telemetry.flush();
    const [span] = spanExporter.getFinishedSpans();
    const records = logExporter.getFinishedLogRecords();
    expect(records.map((r) => r.eventName)).toEqual(['smtp.connection-start', 'smtp.ehlo', 'smtp.connection-end']);
    for (const record of records) {
      expect(record.spanContext?.traceId).toBe(span?.spanContext().traceId);
      expect(record.spanContext?.spanId).toBe(span?.spanContext().spanId);
      expect(record.instrumentationScope.name).toBe('mx');
    }
    await tracerProvider.shutdown();
    await loggerProvider.shutdown();
  });
});

describe('the otel tracer options', () => {
  const exporter = new InMemorySpanExporter();
  const logExporter = new InMemoryLogRecordExporter();
  const tracerProvider = new BasicTracerProvider();
  const bad: [string, Record<string, unknown>, RegExp][] = [
    [
      'both a provider and an exporter',
      { tracerProvider, exporter },
      /tracers\[0\]\.exporter: expected no exporter when tracerProvider/,
    ],
    [
      'an exporter without export()',
      { exporter: { shutdown() {} } },
      /tracers\[0\]\.exporter: expected an OpenTelemetry SpanExporter/,
    ],
    ['a ratio above 1', { exporter, sampleRatio: 1.5 }, /tracers\[0\]\.sampleRatio: expected a number from 0 to 1, got 1\.5/],
    ['a ratio that is NaN', { exporter, sampleRatio: Number.NaN }, /tracers\[0\]\.sampleRatio/],
    ['a ratio without an exporter', { sampleRatio: 0.5 }, /tracers\[0\]\.sampleRatio: expected no sampleRatio without exporter/],
    [
      'both a logger provider and a log exporter',
      { loggerProvider: new LoggerProvider(), logExporter },
      /tracers\[0\]\.logExporter: expected no logExporter when loggerProvider/,
    ],
    [
      'a logger provider without getLogger()',
      { loggerProvider: {} },
      /tracers\[0\]\.loggerProvider: expected an OpenTelemetry LoggerProvider/,
    ],
    [
      'resource attributes without an exporter',
      { resourceAttributes: { a: 'b' } },
      /tracers\[0\]\.resourceAttributes: expected no resourceAttributes/,
    ],
    ['a nested resource attribute', { exporter, resourceAttributes: { a: { b: 1 } } }, /tracers\[0\]\.resourceAttributes\["a"\]/],
    ['a mixed array resource attribute', { exporter, resourceAttributes: { a: [1, 'x'] } }, /resourceAttributes\["a"\]/],
    ['a non-boolean attachToActiveSpan', { attachToActiveSpan: 'yes' }, /tracers\[0\]\.attachToActiveSpan/],
  ];
  it.each(bad)('refuses %s', (_, options, message) => {
    expect(() => make({ tracers: [{ type: 'otel', ...options } as never] })).toThrow(message);
  });
});

describe('OTLP metrics', () => {
  it('leaves zero counters out of the export, unless keepZeroCounters', async () => {
    const receiver = await otlpReceiver();
    const telemetry = make({ service: 'mx-test' });
    const reader = (url: string) =>
      new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url }), exportIntervalMillis: 3_600_000 });
    const lean = reader(receiver.url('metrics'));
    const full = reader(receiver.url('metrics'));
    const providers = [new MeterProvider({ readers: [lean] }), new MeterProvider({ readers: [full] })];
    const bounces = telemetry.metrics.counter('mta.bounces', { help: 'Bounced messages', labels: ['reason'] });
    telemetry.metrics.counter('mta.never', { help: 'Never counted' });
    exportMetrics(telemetry, { meterProvider: providers[0] as MeterProvider });
    exportMetrics(telemetry, { meterProvider: providers[1] as MeterProvider, keepZeroCounters: true });
    bounces.inc({ reason: 'mailbox-full' });
    telemetry.emit('auth.failed', { remoteIp: '192.0.2.1' });
    telemetry.emit('auth.failed', { remoteIp: '192.0.2.1' });
    telemetry.metrics.gauge('user.count').set(0);
    await lean.forceFlush();
    const leanMetrics = receiver.metrics();
    await full.forceFlush();
    const fullMetrics = receiver.metrics().slice(leanMetrics.length);
    for (const provider of providers) await provider.shutdown();

    const leanNames = new Set(leanMetrics.map((m) => m.name));
    expect(byName(leanMetrics, 'auth.failed').points.map((p) => p.value)).toEqual([2]);
    expect(byName(leanMetrics, 'mta.bounces').points.map((p) => [p.attributes.reason, p.value])).toEqual([['mailbox-full', 1]]);
    expect(leanNames.has('smtp.connection-start')).toBe(false);
    expect(leanNames.has('mta.never')).toBe(false);
    // Gauges at zero are values, not absences: they stay.
    expect(byName(leanMetrics, 'user.count').points.map((p) => p.value)).toEqual([0]);
    const counters = new Set(
      telemetry.metrics
        .collect()
        .filter((m) => m.kind === 'counter')
        .map((m) => m.name),
    );
    const zeroCounters = leanMetrics.filter((m) => counters.has(m.name) && m.points.some((p) => p.value === 0));
    expect(zeroCounters).toEqual([]);

    expect(byName(fullMetrics, 'smtp.connection-start').points.map((p) => p.value)).toEqual([0]);
    expect(byName(fullMetrics, 'mta.never').points.map((p) => p.value)).toEqual([0]);
    expect(fullMetrics.length).toBeGreaterThan(leanMetrics.length + 100);
  });

  it('sends UCUM units, or Stalwart’s unit words under naming: stalwart', async () => {
    const receiver = await otlpReceiver();
    const units = async (naming: 'prometheus' | 'stalwart') => {
      const telemetry = make({ metrics: { naming } });
      const reader = new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: receiver.url('metrics') }),
        exportIntervalMillis: 3_600_000,
      });
      const meterProvider = new MeterProvider({ readers: [reader] });
      telemetry.metrics.counter('mta.bounces', { help: 'Bounced messages', unit: 'messages' }).inc();
      exportMetrics(telemetry, { meterProvider });
      telemetry.emit('auth.failed', { remoteIp: '192.0.2.1' });
      const session = telemetry.span('smtp.connection-start', CONNECTION);
      telemetry.emit('queue.message-queued', { size: 2048 });
      session.end({ elapsed: 1500 });
      telemetry.metrics.gauge('user.count').set(3);
      const before = receiver.metrics().length;
      await reader.forceFlush();
      await meterProvider.shutdown();
      const sent = receiver.metrics().slice(before);
      const names = ['auth.failed', 'mta.bounces', 'smtp.request-time', 'message.size', 'user.count', 'server.memory'];
      return Object.fromEntries(names.map((name) => [name, byName(sent, name).unit]));
    };
    expect(await units('prometheus')).toEqual({
      'auth.failed': '{event}',
      'mta.bounces': 'messages',
      'smtp.request-time': 'ms',
      'message.size': 'By',
      'user.count': 'users',
      'server.memory': 'By',
    });
    // Stalwart's OTLP export: counters in `events`, the others in the catalogue's unit words.
    expect(await units('stalwart')).toEqual({
      'auth.failed': 'events',
      'mta.bounces': 'messages',
      'smtp.request-time': 'milliseconds',
      'message.size': 'bytes',
      'user.count': 'users',
      'server.memory': 'bytes',
    });
  });

  it('refuses a bad keepZeroCounters, naming the option', () => {
    const telemetry = make();
    const meterProvider = new MeterProvider();
    expect(() => exportMetrics(telemetry, { meterProvider, keepZeroCounters: 'yes' as never })).toThrow(
      /options\.keepZeroCounters: expected true or false/,
    );
  });
});
