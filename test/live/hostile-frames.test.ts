import { EventSource } from 'eventsource';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '../../src/catalog/types.js';
import { traceFrame } from '../../src/live/frames.js';
import { hostileScalars, hostileValue } from '../support/hostile.js';
import { make } from '../support/telemetry.js';
import { serve, until } from './server.js';

/** Hostile values a host may put in event data; the 10 MB string is left to the core's own tests. */
const HOSTILE = hostileScalars().filter((v) => typeof v !== 'string' || v.length < 100_000);

const describeType = (type: string) => `about ${type}`;

function event(overrides: Record<string, unknown>): TelemetryEvent {
  return {
    id: 1,
    typeId: 0,
    type: 'auth.success',
    level: 'info',
    timestamp: 0,
    data: {},
    ...overrides,
  } as unknown as TelemetryEvent;
}

/** The JSON array of a trace frame; throws when the frame is not valid JSON. */
function parseFrame(frame: string): Record<string, unknown>[] {
  const match = /^event: trace\ndata: (.*)\n\n$/s.exec(frame);
  if (match === null) throw new Error(`not a trace frame: ${frame.slice(0, 200)}`);
  return JSON.parse(match[1] as string) as Record<string, unknown>[];
}

describe('trace frames with hostile events', () => {
  it('stay valid JSON for function span ids, undefined toJSON data and throwing fields; innocents are kept', () => {
    const throwingEvent = Object.defineProperty(event({ id: 5 }), 'data', {
      enumerable: true,
      get() {
        throw new Error('data getter');
      },
    });
    const events = [
      event({ id: 1, data: { accountName: 'first' } }),
      event({ id: 2, spanId: () => 7 }),
      event({ id: 3, data: { toJSON: () => undefined } }),
      event({ id: 4, spanId: Number.NaN, data: 12345678901234567890n }),
      throwingEvent,
      event({ id: 6, spanId: Symbol('span'), level: 'constructor' }),
      event({ id: 7, data: { accountName: 'last' } }),
    ];
    const items = parseFrame(traceFrame(events, describeType));
    expect(items.map((item) => item.id)).toEqual(['1', '2', '3', '4', '6', '7']);
    expect(items[0]).toMatchObject({ type: 'auth.success', text: 'about auth.success', data: { accountName: 'first' } });
    expect(items[2]?.data).toBeNull();
    expect(items[3]?.spanId).toBeNull();
    expect(items[5]).toMatchObject({ data: { accountName: 'last' } });
  });

  it('property: any data and span id gives a frame that parses, with every event in it', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(hostileValue(), hostileValue()), { minLength: 1, maxLength: 6 }), (pairs) => {
        const events = pairs.map(([data, spanId], i) => event({ id: i + 1, data, spanId }));
        const items = parseFrame(traceFrame(events, describeType));
        expect(items.map((item) => item.id)).toEqual(events.map((e) => String(e.id)));
      }),
      { numRuns: 200 },
    );
  });
});

describe('trace frames of two instances', () => {
  it('carry each instance’s own description of the same event type', () => {
    const one = parseFrame(traceFrame([event({ type: 'mx.verdict' })], () => 'Spam verdict'));
    const two = parseFrame(traceFrame([event({ type: 'mx.verdict' })], () => 'Virus verdict'));
    expect(one[0]?.text).toBe('Spam verdict');
    expect(two[0]?.text).toBe('Virus verdict');
  });
});

describe('a live SSE stream carrying hostile events', () => {
  it('delivers every innocent event, and every frame parses as JSON', async () => {
    const telemetry = make({ live: { batchWindow: 1, pingInterval: 60_000 } });
    const { base } = await serve(telemetry);
    const token = telemetry.live.issueToken({ scope: 'tracing' });
    const frames: string[] = [];
    const source = new EventSource(`${base}/api/live/tracing?token=${token}&events=auth.*`);
    const opened = { ping: false, error: false };
    source.addEventListener('ping', () => {
      opened.ping = true;
    });
    source.addEventListener('trace', (message) => frames.push(message.data));
    source.addEventListener('error', () => {
      opened.error = true;
      source.close();
    });
    try {
      await until(() => opened.ping, 'the first ping');
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      const innocent: string[] = [];
      let n = 0;
      const hostileData: unknown[] = [
        ...HOSTILE,
        { toJSON: () => undefined },
        { accountName: circular },
        { accountName: 10n },
        Object.defineProperty({}, 'accountName', {
          enumerable: true,
          get() {
            throw new Error('getter');
          },
        }),
      ];
      for (const data of hostileData) {
        const name = `innocent-${n++}`;
        innocent.push(name);
        telemetry.emit('auth.success', { accountName: name });
        telemetry.emit('auth.failed', data as never);
        telemetry.emit('auth.failed', { accountName: 'x', spanId: (() => 1) as never });
        telemetry.emit('auth.failed', { accountName: 'x', spanId: Number.NaN as never });
      }
      const last = `innocent-${n}`;
      innocent.push(last);
      telemetry.emit('auth.success', { accountName: last });
      const received = () =>
        frames.flatMap((data) => {
          const items = JSON.parse(data) as { type: string; data: { accountName?: unknown } }[];
          return items.filter((item) => item.type === 'auth.success').map((item) => item.data.accountName);
        });
      await until(() => received().includes(last), 'the last innocent event');
      expect(received()).toEqual(innocent);
      for (const data of frames) expect(() => JSON.parse(data)).not.toThrow();
      expect(opened.error).toBe(false);
    } finally {
      source.close();
    }
  });
});
