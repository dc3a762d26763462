import { describe, expectTypeOf, it } from 'vitest';
import {
  createTelemetry,
  type LiveBatch,
  type LiveEventStream,
  type LiveFilter,
  type LiveMetricsStream,
  type MetricsSnapshot,
  type TelemetryEvent,
} from '../../src/index.js';

const telemetry = createTelemetry();

describe('telemetry.live types', () => {
  it('streams events and batches', () => {
    const stream = telemetry.live.events({ events: ['smtp.*'], level: 'info', keys: { remoteIp: '10.' }, text: 'alice' });
    expectTypeOf(stream).toEqualTypeOf<LiveEventStream>();
    expectTypeOf(stream).toMatchTypeOf<AsyncIterable<TelemetryEvent>>();
    expectTypeOf(stream.dropped).toEqualTypeOf<number>();
    expectTypeOf(stream.batches()).toMatchTypeOf<AsyncIterable<LiveBatch>>();
    // @ts-expect-error: not a level
    telemetry.live.events({ level: 'loud' });
    // @ts-expect-error: key filters are substrings
    telemetry.live.events({ keys: { remotePort: 25 } });
    // @ts-expect-error: not a filter option
    telemetry.live.events({ colour: 'red' });
  });

  it('types event patterns when the filter is given a pattern type', () => {
    expectTypeOf<LiveFilter<'smtp.ehlo' | `${string}*${string}`>['events']>().toEqualTypeOf<
      readonly ('smtp.ehlo' | `${string}*${string}`)[] | undefined
    >();
  });

  it('streams metric frames and issues scoped tokens', () => {
    const metrics = telemetry.live.metrics({ metrics: ['queue.count'], interval: 5000 });
    expectTypeOf(metrics).toEqualTypeOf<LiveMetricsStream>();
    expectTypeOf(metrics).toMatchTypeOf<AsyncIterable<MetricsSnapshot>>();
    expectTypeOf(telemetry.live.issueToken({ scope: 'tracing', ttlSeconds: 30, subject: 'admin' })).toEqualTypeOf<string>();
    // @ts-expect-error: scope is tracing or metrics
    telemetry.live.issueToken({ scope: 'admin' });
    // @ts-expect-error: scope is required
    telemetry.live.issueToken({ ttlSeconds: 30 });
  });

  it('takes an authorize callback that may be async', () => {
    createTelemetry({ live: { authorize: async ({ scope, header }) => scope === 'metrics' && header('cookie') !== undefined } });
    createTelemetry({ live: { authorize: () => 403 } });
    // @ts-expect-error: a verdict is a boolean, 401 or 403
    createTelemetry({ live: { authorize: () => 'yes' } });
  });
});
