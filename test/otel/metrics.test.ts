import {
  AggregationTemporality,
  DataPointType,
  type HistogramMetricData,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { exportMetrics } from '../../src/otel.js';
import { CONNECTION, make } from '../support/telemetry.js';

const providers: MeterProvider[] = [];

afterEach(async () => {
  for (const provider of providers.splice(0)) await provider.shutdown();
});

function sdk() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  providers.push(provider);
  const collect = async (): Promise<Map<string, MetricData>> => {
    await reader.forceFlush();
    const batches = exporter.getMetrics();
    const latest = batches[batches.length - 1];
    return new Map((latest?.scopeMetrics ?? []).flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
  };
  return { provider, collect };
}

describe('the OpenTelemetry metrics bridge', () => {
  it('exports event counters as cumulative monotonic sums', async () => {
    const telemetry = make();
    const { provider, collect } = sdk();
    exportMetrics(telemetry, { meterProvider: provider });
    telemetry.emit('auth.failed', { remoteIp: '192.0.2.1' });
    telemetry.emit('auth.failed', { remoteIp: '192.0.2.1' });
    let metrics = await collect();
    const failed = metrics.get('auth.failed') as SumMetricData;
    expect(failed.dataPointType).toBe(DataPointType.SUM);
    expect(failed.isMonotonic).toBe(true);
    expect(failed.descriptor.description).toBe(telemetry.describe('auth.failed').description);
    expect(failed.dataPoints.map((p) => p.value)).toEqual([2]);
    telemetry.emit('auth.failed');
    metrics = await collect();
    expect((metrics.get('auth.failed') as SumMetricData).dataPoints.map((p) => p.value)).toEqual([3]);
  });

  it('exports gauges as gauges and host metrics with their labels', async () => {
    const telemetry = make();
    const { provider, collect } = sdk();
    const bounces = telemetry.metrics.counter('mta.bounces', { help: 'Bounced messages', labels: ['reason'] });
    exportMetrics(telemetry, { meterProvider: provider, attributes: { node: 'mx1' } });
    telemetry.metrics.gauge('user.count').set(42);
    const span = telemetry.span('smtp.connection-start', CONNECTION);
    bounces.inc({ reason: 'mailbox-full' }, 2);
    bounces.inc({ reason: 'unknown-user' });
    const metrics = await collect();
    const users = metrics.get('user.count');
    expect(users?.dataPointType).toBe(DataPointType.GAUGE);
    expect(users?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([[{ node: 'mx1' }, 42]]);
    expect(metrics.get('smtp.active-connections')?.dataPoints.map((p) => p.value)).toEqual([1]);
    const exported = (metrics.get('mta.bounces') as SumMetricData).dataPoints.map((p) => [p.attributes.reason, p.value]);
    expect(exported).toEqual([
      ['mailbox-full', 2],
      ['unknown-user', 1],
    ]);
    span.end();
  });

  it('exports histograms with the same buckets', async () => {
    const telemetry = make();
    const { provider, collect } = sdk();
    exportMetrics(telemetry, { meterProvider: provider });
    const span = telemetry.span('smtp.connection-start', CONNECTION);
    span.end({ elapsed: 1234 });
    telemetry.emit('queue.message-queued', { size: 500, queueId: 1 });
    const metrics = await collect();
    const time = metrics.get('smtp.request-time') as HistogramMetricData;
    expect(time.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(time.descriptor.unit).toBe('ms');
    const reference = telemetry.metrics.snapshot().metrics.find((m) => m.name === 'smtp.request-time');
    const series = reference?.series[0];
    expect(series && 'bounds' in series ? series.bounds : []).toEqual(time.dataPoints[0]?.value.buckets.boundaries);
    expect(time.dataPoints[0]?.value.count).toBe(1);
    expect(time.dataPoints[0]?.value.sum).toBe(1234);
    expect(time.dataPoints[0]?.value.buckets.counts).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const size = metrics.get('message.size') as HistogramMetricData;
    expect(size.descriptor.unit).toBe('By');
    // 500 is on the first bound: both sides count it in the first bucket (le is inclusive).
    expect(size.dataPoints[0]?.value.buckets.counts[0]).toBe(1);
  });

  it('stops forwarding when stopped, and refuses a missing provider', async () => {
    const telemetry = make();
    const { provider, collect } = sdk();
    const bridge = exportMetrics(telemetry, { meterProvider: provider });
    const span = telemetry.span('smtp.connection-start', CONNECTION);
    span.end({ elapsed: 10 });
    bridge.stop();
    const again = telemetry.span('smtp.connection-start', CONNECTION);
    again.end({ elapsed: 10 });
    const metrics = await collect();
    expect((metrics.get('smtp.request-time') as HistogramMetricData).dataPoints[0]?.value.count).toBe(1);
    expect(() => exportMetrics(telemetry, {} as never)).toThrow(/meterProvider/);
  });
});
