import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '../../src/index.js';
import { hostileValue } from '../support/hostile.js';
import { connection, make } from '../support/telemetry.js';

async function ticks(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

// Any uncaught exception or unhandled rejection during a test fails it.
const escaped: unknown[] = [];
const onEscape = (error: unknown) => escaped.push(error);
beforeEach(() => {
  escaped.length = 0;
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
});
afterEach(() => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
  expect(escaped).toEqual([]);
});

function throwing(): Record<string, unknown> {
  return Object.defineProperty({}, 'spanId', {
    enumerable: true,
    get() {
      throw new Error('getter');
    },
  });
}

describe('emit never throws', () => {
  it('takes a Symbol, a throwing valueOf or a throwing getter as spanId', async () => {
    const telemetry = make();
    const seen: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['smtp.*'] }, (batch) => {
      seen.push(...batch);
    });
    const emit = (telemetry.emit as (name: string, data?: unknown) => void).bind(telemetry);
    emit('smtp.ehlo', { spanId: Symbol('s') });
    emit('smtp.ehlo', {
      spanId: {
        valueOf() {
          throw new Error('valueOf');
        },
      },
    });
    emit('smtp.ehlo', throwing());
    emit('smtp.ehlo', { spanId: () => 1 });
    emit('smtp.quit', { domain: 'innocent.example' });
    await telemetry.flush();
    expect(seen.map((e) => e.type)).toContain('smtp.quit');
    // A spanId that is neither a number nor a string is no span: the event carries none.
    for (const event of seen) expect(['number', 'string', 'undefined']).toContain(typeof event.spanId);
    expect(telemetry.stats().failedPayloads).toBe(1);
  });

  it('takes a throwing size getter on a metered event', async () => {
    const telemetry = make();
    const data = Object.defineProperty({}, 'size', {
      enumerable: true,
      get() {
        throw new Error('size');
      },
    });
    const emit = (telemetry.emit as (name: string, data?: unknown) => void).bind(telemetry);
    const elapsed = Object.defineProperty({}, 'elapsed', {
      enumerable: true,
      get() {
        throw new Error('elapsed');
      },
    });
    expect(() => emit('queue.message-queued', data)).not.toThrow();
    expect(() => emit('delivery.completed', elapsed)).not.toThrow();
    await telemetry.flush();
  });

  it('takes any value as data, in and out of spans, and every innocent event arrives', async () => {
    const telemetry = make();
    const seen: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['*'], exclude: ['telemetry.*'], maxQueue: 1_000_000 }, (batch) => {
      for (const event of batch) if (event.type === 'smtp.quit') seen.push(event);
    });
    const emit = (telemetry.emit as (name: string, data?: unknown) => void).bind(telemetry);
    let innocent = 0;
    fc.assert(
      fc.property(hostileValue(), hostileValue(), (value, key) => {
        emit('smtp.ehlo', { domain: value, details: { key } });
        emit('smtp.ehlo', () => ({ details: value }));
        emit('smtp.ehlo', value);
        const span = telemetry.span('smtp.connection-start', {
          remoteIp: '192.0.2.1',
          remotePort: 1,
          listenerId: 'smtp',
          localPort: 25,
          details: value,
        } as never);
        (span.emit as (name: string, data?: unknown) => void).call(span, 'smtp.rcpt-to', value);
        (span.end as (data?: unknown) => void).call(span, value);
        emit('smtp.quit', { domain: 'innocent.example' });
        innocent++;
      }),
      { numRuns: 150 },
    );
    await telemetry.flush();
    expect(seen).toHaveLength(innocent);
    for (const event of seen) expect(event.data.domain).toBe('innocent.example');
  });

  it('counts a throwing data function and a throwing span key, and reports them', async () => {
    const telemetry = make();
    const reports: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['telemetry.events-dropped', 'smtp.ehlo'] }, (batch) => {
      reports.push(...batch.filter((event) => event.type === 'telemetry.events-dropped'));
    });
    const emit = (telemetry.emit as (name: string, data?: unknown) => void).bind(telemetry);
    emit('smtp.ehlo', () => {
      throw Object.create(null);
    });
    const span = telemetry.span('smtp.connection-start', throwing() as never);
    span.end();
    await telemetry.flush();
    expect(telemetry.stats().failedPayloads).toBe(2);
    expect(reports).toHaveLength(2);
  });
});

describe('own keys only', () => {
  it('never turns a __proto__ key into the prototype of merged span data', async () => {
    const telemetry = make();
    const seen: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['auth.*'] }, (batch) => {
      seen.push(...batch);
    });
    const span = telemetry.span('smtp.connection-start', connection('192.0.2.1', 1));
    (span.emit as (name: string, data?: unknown) => void).call(
      span,
      'auth.failed',
      JSON.parse('{"__proto__":{"accountName":"SECRET"}}'),
    );
    span.end();
    await telemetry.flush();
    const data = seen[0]?.data as Record<string, unknown>;
    expect(data.accountName).toBeUndefined();
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(Object.hasOwn(data, '__proto__')).toBe(true);
  });
});

describe('a failing consumer costs that consumer alone', () => {
  const nasty: [string, () => unknown][] = [
    ['Object.create(null)', () => Object.create(null)],
    [
      'a value whose toString throws',
      () => ({
        toString() {
          throw new Error('no');
        },
      }),
    ],
    [
      'an Error whose message getter throws',
      () =>
        Object.defineProperty(new Error('x'), 'message', {
          get() {
            throw new Error('no');
          },
        }),
    ],
  ];

  for (const [name, value] of nasty) {
    it(`throwing ${name} from a subscriber, a rejecting subscriber and a listener`, async () => {
      const telemetry = make();
      const healthy: TelemetryEvent[] = [];
      const errors: TelemetryEvent[] = [];
      telemetry.subscribe({ events: ['smtp.ehlo'] }, () => {
        throw value();
      });
      let rejected = 0;
      telemetry.subscribe({ events: ['smtp.ehlo'], maxBatch: 1 }, () => {
        rejected++;
        return Promise.reject(value());
      });
      telemetry.on('smtp.ehlo', () => {
        throw value();
      });
      telemetry.on('smtp.ehlo', (event) => {
        healthy.push(event);
      });
      telemetry.subscribe({ events: ['telemetry.subscriber-error'] }, (batch) => {
        errors.push(...batch);
      });
      for (let i = 0; i < 30; i++) telemetry.emit('smtp.ehlo', { domain: `d${i}.example` });
      await telemetry.flush();
      await ticks();
      expect(healthy).toHaveLength(30);
      // The rejecting subscriber is not stuck: it got every event, one batch at a time.
      expect(rejected).toBe(30);
      expect(errors.length).toBeGreaterThan(0);
      for (const error of errors) expect(typeof error.data.reason).toBe('string');
    });
  }
});

describe('shutdown accounts for every event', () => {
  it('reports what it discards, including events emitted while it runs', async () => {
    const telemetry = make();
    const subscription = telemetry.subscribe({ events: ['smtp.ehlo'], maxQueue: 1_000_000 }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    let emitted = 0;
    let storming = true;
    const storm = (async () => {
      while (storming) {
        for (let i = 0; i < 2000; i++) telemetry.emit('smtp.ehlo', { domain: 'storm.example' });
        emitted += 2000;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await ticks(3);
    const [first, second] = await Promise.all([telemetry.shutdown(50), telemetry.shutdown(50)]);
    storming = false;
    await storm;
    expect(second).toBe(first);
    const stats = subscription.stats();
    // Every event discarded at close is in the report; besides those, at most one batch was in flight.
    expect(first?.complete).toBe(false);
    expect(first?.pending).toBeGreaterThanOrEqual(stats.dropped);
    expect(first?.pending).toBeLessThanOrEqual(stats.dropped + 1024);
    expect(stats.dropped).toBeGreaterThan(0);
    expect(emitted).toBeGreaterThanOrEqual(stats.delivered + stats.dropped);
  });

  it('a second call after the first finished gets the same report', async () => {
    const telemetry = make();
    const a = await telemetry.shutdown();
    const b = await telemetry.shutdown();
    expect(b).toBe(a);
    expect(a.complete).toBe(true);
  });
});
