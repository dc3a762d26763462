import { describe, expectTypeOf, it } from 'vitest';
import { type ClusterMetrics, createClusterMetrics, type MetricsShare, shareMetricsWithPrimary } from '../../src/cluster.js';
import { createTelemetry, defineEvents, type RequestHandler } from '../../src/index.js';

describe('mail-telemetry/cluster types', () => {
  it('takes any telemetry instance, host events included', () => {
    const events = defineEvents({ 'app.thing-done': { id: 1000, description: 'A thing done', counter: true } });
    expectTypeOf(shareMetricsWithPrimary(createTelemetry({ events }))).toEqualTypeOf<MetricsShare>();
    expectTypeOf(shareMetricsWithPrimary(createTelemetry(), { finalSnapshot: false })).toEqualTypeOf<MetricsShare>();
    // @ts-expect-error not a telemetry instance
    shareMetricsWithPrimary({});
    // @ts-expect-error unknown option
    shareMetricsWithPrimary(createTelemetry(), { final: true });
  });

  it('types the primary options and the scrape', () => {
    const metrics = createClusterMetrics({ timeout: 500, gauges: 'per-worker', workerLabel: 'pid' });
    expectTypeOf(metrics).toEqualTypeOf<ClusterMetrics>();
    expectTypeOf(metrics.prometheus()).toEqualTypeOf<Promise<string>>();
    expectTypeOf(metrics.handlers.prometheus).toEqualTypeOf<RequestHandler>();
    // @ts-expect-error gauges merge by sum or per worker
    createClusterMetrics({ gauges: 'max' });
    // @ts-expect-error the exposition formats
    void metrics.prometheus('json');
  });
});
