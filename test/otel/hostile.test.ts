/**
 * Hostile event values through the otel tracer's spans and log records, exported over real
 * OTLP/HTTP: emit never throws, and every record still arrives in a body that parses.
 */
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONNECTION, make } from '../support/telemetry.js';
import { otlpExporters, otlpReceiver } from './receiver.js';

const circular: Record<string, unknown> = { name: 'loop' };
circular.self = circular;
const throwing = Object.defineProperty({}, 'boom', {
  enumerable: true,
  get() {
    throw new Error('getter');
  },
});
const badToJson = { toJSON: () => BigInt(1) };
const proxy = new Proxy(
  {},
  {
    ownKeys() {
      throw new Error('ownKeys');
    },
  },
);

const hostile = fc.oneof(
  fc.anything({
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withNullPrototype: true,
    withSparseArray: true,
    withBoxedValues: true,
    withObjectString: true,
  }),
  fc.constantFrom<unknown>(
    circular,
    throwing,
    badToJson,
    proxy,
    new Date(Number.NaN),
    Symbol('s'),
    () => 1,
    new TypeError('bad'),
    'x'.repeat(100_000),
    [1, 'two', { three: 3 }],
    [circular, throwing],
    Number.NaN,
    -0,
    Number.POSITIVE_INFINITY,
  ),
);

const keyName = fc.oneof(
  fc.constantFrom('domain', 'remoteIp', 'details', 'reason', 'causedBy', 'time', 'elapsed', 'to', '__proto__', 'constructor'),
  fc.string({ maxLength: 20 }),
);

/** Event data: hostile values, some behind throwing getters, a `__proto__` own key among them. */
const data = fc.array(fc.tuple(keyName, hostile, fc.boolean()), { maxLength: 6 }).map((entries) => {
  const out: Record<string, unknown> = {};
  for (const [key, value, getter] of entries) {
    Object.defineProperty(out, key, {
      enumerable: true,
      configurable: true,
      ...(getter
        ? {
            get() {
              throw new Error('key getter');
            },
          }
        : { value, writable: true }),
    });
  }
  return out;
});

describe('hostile values through OTLP', () => {
  it('never throw into emit and never break the span or log export', async () => {
    const receiver = await otlpReceiver();
    const telemetry = make({
      tracers: [
        {
          type: 'otel',
          level: 'trace',
          ...otlpExporters(receiver),
        },
      ],
    });
    const errors: string[] = [];
    telemetry.on('telemetry.*', (event) => {
      if (event.type.endsWith('-error')) errors.push(`${event.type}: ${String(event.data.reason)}`);
    });
    const session = telemetry.span('smtp.connection-start', CONNECTION);
    let emitted = 0;
    fc.assert(
      fc.property(data, data, (inside, outside) => {
        session.emit('smtp.ehlo', inside as never);
        telemetry.emit('auth.failed', outside as never);
        emitted += 2;
      }),
      { numRuns: 150 },
    );
    session.end();
    await telemetry.flush();

    expect(errors).toEqual([]);
    const logs = receiver.logs();
    // Every emitted event, plus the span's start and end events.
    expect(logs).toHaveLength(emitted + 2);
    expect(logs.filter((l) => l.eventName === 'smtp.ehlo').every((l) => l.traceId !== '')).toBe(true);
    expect(logs.every((l) => l.attributes['event.name'] === l.eventName)).toBe(true);
    const spans = receiver.spans();
    expect(spans.map((s) => s.name)).toEqual(['smtp.connection-start']);
    // The SDK keeps at most 128 span events (its default limit).
    expect(spans[0]?.events.length).toBe(Math.min(128, emitted / 2));
  });

  it('mark in the log attributes what they cannot hold', async () => {
    const receiver = await otlpReceiver();
    const telemetry = make({
      tracers: [{ type: 'otel', level: 'trace', logExporter: new OTLPLogExporter({ url: receiver.url('logs') }) }],
    });
    const first = Object.defineProperty({ remoteIp: '192.0.2.1', causedBy: new TypeError('bad') }, 'details', {
      enumerable: true,
      get() {
        throw new Error('getter');
      },
    });
    telemetry.emit('auth.failed', first as never);
    telemetry.emit('auth.failed', { details: circular, time: new Date(Number.NaN), total: 10n } as never);
    await telemetry.flush();
    const [unreadable, odd] = receiver.logs().map((l) => l.attributes);
    expect(unreadable).toEqual({
      'event.name': 'auth.failed',
      remoteIp: '192.0.2.1',
      causedBy: 'TypeError: bad',
      details: '[Unreadable]',
    });
    expect(odd).toMatchObject({ details: '{"name":"loop","self":"[Circular]"}', time: '[InvalidDate]', total: '10' });
  });
});
