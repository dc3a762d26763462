import { describe, expectTypeOf, it } from 'vitest';
import {
  createTelemetry,
  type HistoryEvent,
  type HistoryStore,
  type Page,
  type SeriesPoint,
  type Trace,
  type TraceSummary,
} from '../../src/index.js';
import { SqliteHistoryStore } from '../../src/sqlite.js';

describe('history types', () => {
  it('types event patterns in the options', () => {
    createTelemetry({
      history: { events: ['smtp.*', 'delivery.completed'], exclude: ['*.raw-input'], traces: { events: ['smtp.*'] } },
    });
    // @ts-expect-error: not an event name or wildcard
    createTelemetry({ history: { events: ['smtp.nope'] } });
    // @ts-expect-error: not a level
    createTelemetry({ history: { level: 'verbose' } });
    // @ts-expect-error: keep takes a trace and returns a boolean
    createTelemetry({ history: { traces: { keep: (trace: Trace) => trace.queueId } } });
    createTelemetry({ history: { traces: { keep: (trace) => trace.to.length > 0 }, series: false } });
    createTelemetry({ history: false });
    createTelemetry({ history: { traces: { level: 'debug' } } });
    // @ts-expect-error: history is an object of options, or false to turn it off
    createTelemetry({ history: true });
    // @ts-expect-error: not a level
    createTelemetry({ history: { traces: { level: 'verbose' } } });
    const store: HistoryStore = new SqliteHistoryStore({ path: ':memory:' });
    createTelemetry({ history: { store } });
  });

  it('returns typed promises from every query', () => {
    const telemetry = createTelemetry({ history: {} });
    expectTypeOf(telemetry.history.events({ keys: { remoteIp: '192.0.2.7', from: { contains: 'example' } } })).toEqualTypeOf<
      Promise<Page<HistoryEvent>>
    >();
    expectTypeOf(telemetry.history.traces({ keywords: '"a b"', queueId: 7 })).toEqualTypeOf<Promise<Page<TraceSummary>>>();
    expectTypeOf(telemetry.history.trace(1)).toEqualTypeOf<Promise<Trace | undefined>>();
    expectTypeOf(telemetry.history.series({ metrics: ['queue.count'] })).toEqualTypeOf<Promise<readonly SeriesPoint[]>>();
    expectTypeOf(telemetry.history.recordsSeries).toEqualTypeOf<boolean>();
    // @ts-expect-error: substring matches take { contains }
    telemetry.history.events({ keys: { remoteIp: { like: '192' } } });
    // @ts-expect-error: a level name
    telemetry.history.events({ level: 'loud' });
    // @ts-expect-error: traces filter on one start type
    telemetry.history.traces({ type: ['smtp.connection-start'] });
  });
});
