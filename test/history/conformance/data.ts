import fc from 'fast-check';
import { traceOf } from '../../../src/history/traces.js';
import type { HistoryEvent, SeriesPoint, Trace } from '../../../src/index.js';

/** A fixed set of events: three sessions with keys, arrays, text and levels. */
export function sampleEvents(): HistoryEvent[] {
  const out: HistoryEvent[] = [];
  let id = 1000;
  const ips = ['192.0.2.7', '192.0.2.70', '198.51.100.1'];
  ips.forEach((ip, s) => {
    const spanId = 500 + s;
    const base = { remoteIp: ip, spanId };
    const at = 10_000 + s * 1000;
    out.push({
      id: id++,
      type: 'smtp.connection-start',
      level: 'debug',
      timestamp: at,
      spanId,
      data: { ...base, listenerId: 'mx' },
    });
    out.push({
      id: id++,
      type: 'smtp.mail-from',
      level: 'info',
      timestamp: at + 1,
      spanId,
      data: { ...base, from: `user${s}@Example.org` },
    });
    out.push({
      id: id++,
      type: 'smtp.rcpt-to',
      level: 'info',
      timestamp: at + 2,
      spanId,
      data: { ...base, to: ['a@x.test', `b${s}@y.test`] },
    });
    out.push({
      id: id++,
      type: 'queue.message-queued',
      level: 'info',
      timestamp: at + 3,
      spanId,
      data: { ...base, queueId: s, size: 100 * s },
    });
    out.push({
      id: id++,
      type: 'auth.failed',
      level: 'warn',
      timestamp: at + 4,
      data: { accountName: `acct${s}`, details: `Bad password ${s}`, domain: s === 2 ? 'ÜBER.example' : 'mx.example' },
    });
  });
  return out;
}

export function sampleTraces(events: readonly HistoryEvent[]): Trace[] {
  return [500, 501, 502].map((span, i) =>
    traceOf(
      span,
      i === 1 ? 'delivery.attempt-start' : 'smtp.connection-start',
      10_000 + i * 1000,
      events.filter((e) => e.spanId === span),
      i,
    ),
  );
}

export const sampleSeries: SeriesPoint[] = [
  { metric: 'queue.count', kind: 'gauge', labels: {}, timestamp: 1, value: 3 },
  { metric: 'app.hits', kind: 'counter', labels: { route: 'a' }, timestamp: 1, value: 2 },
  { metric: 'smtp.request-time', kind: 'histogram', labels: {}, timestamp: 2, value: 40, count: 2 },
  { metric: 'app.hits', kind: 'counter', labels: { route: 'b"\\' }, timestamp: 3, value: 0.1 },
];

const TYPES = [
  'smtp.connection-start',
  'smtp.mail-from',
  'smtp.rcpt-to',
  'queue.message-queued',
  'auth.failed',
  'delivery.attempt-start',
];
const WORDS = [
  '192.0.2.7',
  '198.51.100.1',
  'Alice@Example.org',
  'bob@x.test',
  'ÜBER',
  'über',
  'q1',
  'Q1',
  '7',
  'a"b',
  'x\\y',
  'tab\tline',
  '%_*',
];

/** Values of one key: strings, numbers, booleans and arrays of them, drawn from a small set so that queries hit. */
const keyValue = fc.oneof(
  fc.constantFrom(...WORDS),
  fc.integer({ min: 0, max: 9 }),
  fc.boolean(),
  fc.array(fc.oneof(fc.constantFrom(...WORDS), fc.integer({ min: 0, max: 9 })), { maxLength: 3 }),
);

/** Events as a process makes them: ids and times increasing, keys from a small vocabulary. */
export const eventsArbitrary = fc
  .array(
    fc.record({
      type: fc.constantFrom(...TYPES),
      level: fc.constantFrom('debug' as const, 'info' as const, 'warn' as const, 'error' as const),
      gap: fc.integer({ min: 0, max: 3 }),
      span: fc.option(fc.constantFrom(1, 2, 3, 'text-span'), { nil: undefined }),
      data: fc.dictionary(fc.constantFrom('remoteIp', 'to', 'from', 'queueId', 'accountName', 'details'), keyValue, {
        maxKeys: 4,
      }),
    }),
    { maxLength: 40 },
  )
  .map((drafts) => {
    let time = 100_000;
    return drafts.map((d, i): HistoryEvent => {
      time += d.gap;
      return {
        id: 5000 + i,
        type: d.type,
        level: d.level,
        timestamp: time,
        ...(d.span === undefined ? {} : { spanId: d.span }),
        data: d.data,
      };
    });
  });

const match = fc.oneof(
  fc.constantFrom(...WORDS),
  fc.integer({ min: 0, max: 9 }),
  fc.record({ contains: fc.constantFrom('192', 'example', 'ÜB', 'über', 'q', '"', '\\', 'x.T', '%', '_') }),
);

export const eventQueryArbitrary = fc.record(
  {
    types: fc.subarray(['smtp.*', 'auth.failed', '*.message-queued', 'delivery.*', '*'], { minLength: 1 }),
    level: fc.constantFrom('debug' as const, 'info' as const, 'warn' as const, 'error' as const),
    from: fc.integer({ min: 100_000, max: 100_060 }),
    keys: fc.dictionary(fc.constantFrom('remoteIp', 'to', 'from', 'queueId', 'accountName', 'details'), match, { maxKeys: 2 }),
    text: fc.constantFrom('example', 'über', 'ÜBER', '192.0', 'a"b', 'x\\y', 'tab\t', 'q1', '7'),
    spanId: fc.constantFrom(1, 2, 'text-span'),
    limit: fc.integer({ min: 1, max: 7 }),
  },
  { requiredKeys: [] },
);
