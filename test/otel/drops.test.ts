/**
 * Drops inside OpenTelemetry's own batch processors: spans ended, or log records emitted, while a
 * small queue (`OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BLRP_MAX_QUEUE_SIZE`) is full are lost inside the
 * SDK, which tells only its diagnostic logger. The tracer counts each in the registry counter
 * `telemetry.otel-dropped` and reports them as `telemetry.otel-exporter-error`; what reached the
 * loopback OTLP receiver plus what was counted is everything that was emitted.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { afterEach, describe, expect, it } from 'vitest';
import { CONNECTION, make, type Telemetry } from '../support/telemetry.js';
import { exporterErrors, otlpExporters, otlpReceiver } from './receiver.js';

const ENV = [
  'OTEL_BSP_MAX_QUEUE_SIZE',
  'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_BLRP_MAX_QUEUE_SIZE',
  'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE',
];
const saved = Object.fromEntries(ENV.map((name) => [name, process.env[name]]));
afterEach(() => {
  for (const name of ENV) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

/** The registry's `telemetry.otel-dropped` series, by `tracer/signal`. */
function dropped(telemetry: Telemetry): Record<string, number> {
  const metric = telemetry.metrics.snapshot().metrics.find((m) => m.name === 'telemetry.otel-dropped');
  const out: Record<string, number> = {};
  for (const series of metric?.series ?? []) {
    if ('value' in series) out[`${series.labels.tracer}/${series.labels.signal}`] = series.value;
  }
  return out;
}

const SPANS = 40;
const OUTSIDE = 40;

describe('drops in the batch processors’ queues', () => {
  it('are counted in telemetry.otel-dropped and reported, and nothing else is lost', async () => {
    process.env.OTEL_BSP_MAX_QUEUE_SIZE = '4';
    process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE = '4';
    process.env.OTEL_BLRP_MAX_QUEUE_SIZE = '4';
    process.env.OTEL_BLRP_MAX_EXPORT_BATCH_SIZE = '4';
    const receiver = await otlpReceiver();
    const telemetry = make({
      tracers: [
        {
          type: 'otel',
          id: 'otlp',
          level: 'debug',
          ...otlpExporters(receiver),
        },
      ],
    });
    const errors = exporterErrors(telemetry);
    // One synchronous burst: the exporters cannot send before it is over.
    for (let i = 0; i < SPANS; i++) telemetry.span('smtp.connection-start', CONNECTION).end();
    for (let i = 0; i < OUTSIDE; i++) telemetry.emit('auth.failed', { remoteIp: '192.0.2.7' });
    await telemetry.flush();
    await telemetry.flush(); // the reports made while flushing are delivered

    const counted = dropped(telemetry);
    const spans = receiver.spans().length;
    const logs = receiver.logs().length;
    expect(counted['otlp/spans']).toBeGreaterThan(0);
    expect(counted['otlp/logs']).toBeGreaterThan(0);
    expect(spans + (counted['otlp/spans'] ?? 0)).toBe(SPANS);
    // Each span gives two log records (its start and end events), and each event outside one.
    expect(logs + (counted['otlp/logs'] ?? 0)).toBe(2 * SPANS + OUTSIDE);

    // Reported as the tracer's error event, once per burst, with how many were lost.
    const total = (what: string) =>
      errors
        .filter((e) => String(e.data.details).endsWith(` ${what} dropped`))
        .reduce((sum, e) => sum + Number.parseInt(String(e.data.details), 10), 0);
    expect(total('spans')).toBe(counted['otlp/spans']);
    expect(total('log records')).toBe(counted['otlp/logs']);
    expect(errors.length).toBe(2);
    expect(errors.map((e) => e.data.id)).toEqual(['otlp', 'otlp']);
    expect(errors.map((e) => e.data.reason).sort()).toEqual([
      'the BatchLogRecordProcessor queue is full',
      'the BatchSpanProcessor queue is full',
    ]);
  });

  it('leave no counter behind when nothing is built or dropped', async () => {
    const receiver = await otlpReceiver();
    const plain = make({ tracers: [{ type: 'otel' }] });
    expect(plain.metrics.snapshot().metrics.some((m) => m.name === 'telemetry.otel-dropped')).toBe(false);
    const built = make({ tracers: [{ type: 'otel', exporter: new OTLPTraceExporter({ url: receiver.url('traces') }) }] });
    built.span('smtp.connection-start', CONNECTION).end();
    await built.flush();
    expect(dropped(built)).toEqual({});
    expect(receiver.spans()).toHaveLength(1);
  });
});
