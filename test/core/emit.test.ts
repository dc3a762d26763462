import { describe, expect, it, vi } from 'vitest';
import { BUILTIN_EVENTS, type TelemetryEvent } from '../../src/index.js';
import { make } from '../support/telemetry.js';

/** Emits a name the typed API does not know, as untyped JavaScript could. */
function emitUntyped(telemetry: { emit: unknown }, name: string, data?: unknown): void {
  (telemetry.emit as (name: string, data?: unknown) => void)(name, data);
}

// The default history wants info-level events: with it off, nobody listens.
describe('emit with nobody listening', () => {
  it('counts counter-flagged events with no subscriber', () => {
    const telemetry = make({ history: false });
    expect(telemetry.enabled('auth.success')).toBe(true);
    telemetry.emit('auth.success');
    telemetry.emit('auth.success', { accountName: 'alice' });
    telemetry.emit('auth.success', () => ({ accountName: 'bob' }));
    expect(telemetry.metrics.eventCount('auth.success')).toBe(3);
    expect(telemetry.metrics.eventCounts()['auth.success']).toBe(3);
  });

  it('does not count events without a counter flag', () => {
    const telemetry = make({ history: false });
    expect(telemetry.describe('smtp.ehlo').counter).toBe(false);
    expect(telemetry.enabled('smtp.ehlo')).toBe(false);
    telemetry.emit('smtp.ehlo', { domain: 'example.org' });
    expect(telemetry.metrics.eventCount('smtp.ehlo')).toBe(0);
    expect(Object.hasOwn(telemetry.metrics.eventCounts(), 'smtp.ehlo')).toBe(false);
  });

  it('never calls the data function of an unwanted event', () => {
    const telemetry = make({ history: false });
    const thunk = vi.fn(() => ({ domain: 'example.org' }));
    telemetry.emit('smtp.ehlo', thunk);
    expect(thunk).not.toHaveBeenCalled();
  });

  it('does not call the data function of an event wanted only by its counter', () => {
    const telemetry = make({ history: false });
    const thunk = vi.fn(() => ({ accountName: 'alice' }));
    telemetry.emit('auth.success', thunk);
    expect(thunk).not.toHaveBeenCalled();
    expect(telemetry.metrics.eventCount('auth.success')).toBe(1);
  });
});

describe('emit to subscribers', () => {
  it('calls the data function of a wanted event exactly once, however many subscribers', async () => {
    const telemetry = make();
    const a: TelemetryEvent[] = [];
    const b: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['smtp.ehlo'] }, (batch) => {
      a.push(...batch);
    });
    telemetry.subscribe({ events: ['smtp.*'] }, (batch) => {
      b.push(...batch);
    });
    expect(telemetry.enabled('smtp.ehlo')).toBe(true);
    const thunk = vi.fn(() => ({ domain: 'example.org' }));
    telemetry.emit('smtp.ehlo', thunk);
    await telemetry.flush();
    expect(thunk).toHaveBeenCalledTimes(1);
    expect(a.map((e) => e.data)).toEqual([{ domain: 'example.org' }]);
    expect(b.map((e) => e.data)).toEqual([{ domain: 'example.org' }]);
  });

  it('delivers events with the documented shape', async () => {
    const telemetry = make();
    const got: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['smtp.ehlo'] }, (batch) => {
      got.push(...batch);
    });
    telemetry.emit('smtp.ehlo', { domain: 'example.org' });
    await telemetry.flush();
    expect(got).toHaveLength(1);
    const event = got[0]!;
    expect(event.type).toBe('smtp.ehlo');
    expect(event.typeId).toBe(telemetry.describe('smtp.ehlo').id);
    expect(event.level).toBe('info');
    expect(Number.isSafeInteger(event.id)).toBe(true);
    expect(typeof event.timestamp).toBe('number');
    expect(event.spanId).toBeUndefined();
    expect(event.data).toEqual({ domain: 'example.org' });
    expect(event.toJSON()).toEqual({
      id: event.id,
      type: 'smtp.ehlo',
      level: 'info',
      timestamp: event.timestamp,
      data: { domain: 'example.org' },
    });
    expect(JSON.parse(JSON.stringify(event))).toEqual(event.toJSON());
  });

  it('gives an event without data an empty data object', async () => {
    const telemetry = make();
    const got: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['smtp.quit'] }, (batch) => {
      got.push(...batch);
    });
    telemetry.emit('smtp.quit');
    await telemetry.flush();
    expect(got.map((e) => e.data)).toEqual([{}]);
  });

  it('gives events unique, strictly increasing, safe-integer ids, also in bursts', async () => {
    const telemetry = make();
    const ids: number[] = [];
    telemetry.subscribe({ events: ['smtp.*'] }, (batch) => {
      for (const event of batch) ids.push(event.id);
    });
    for (let i = 0; i < 5000; i++) telemetry.emit('smtp.ehlo', { domain: `d${i}.example` });
    await telemetry.flush();
    telemetry.emit('smtp.quit');
    await telemetry.flush();
    expect(ids).toHaveLength(5001);
    for (let i = 0; i < ids.length; i++) {
      expect(Number.isSafeInteger(ids[i])).toBe(true);
      if (i > 0) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);
    }
  });

  it('stamps events with the injected clock', async () => {
    let clock = Date.UTC(2025, 5, 1, 12, 0, 0);
    const telemetry = make({ now: () => clock });
    const got: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['smtp.*'] }, (batch) => {
      got.push(...batch);
    });
    telemetry.emit('smtp.ehlo', { domain: 'a.example' });
    await telemetry.flush();
    clock += 1234;
    telemetry.emit('smtp.quit');
    await telemetry.flush();
    expect(got.map((e) => e.timestamp)).toEqual([Date.UTC(2025, 5, 1, 12, 0, 0), Date.UTC(2025, 5, 1, 12, 0, 1, 234)]);
  });
});

describe('level overrides', () => {
  it('changes the level events carry and what level filters let through', async () => {
    const telemetry = make({ levels: { 'auth.success': 'debug' } });
    const info: TelemetryEvent[] = [];
    const debug: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['auth.*'], level: 'info' }, (batch) => {
      info.push(...batch);
    });
    telemetry.subscribe({ events: ['auth.*'], level: 'debug' }, (batch) => {
      debug.push(...batch);
    });
    telemetry.emit('auth.success', { accountName: 'alice' });
    telemetry.emit('auth.error', { reason: 'backend down' });
    await telemetry.flush();
    expect(info.map((e) => e.type)).toEqual(['auth.error']);
    expect(debug.map((e) => [e.type, e.level])).toEqual([
      ['auth.success', 'debug'],
      ['auth.error', 'error'],
    ]);
    expect(telemetry.describe('auth.success')).toMatchObject({ level: 'debug', defaultLevel: 'info' });
  });

  it('raises a level so that a stricter subscriber sees the event', async () => {
    const telemetry = make({ levels: { 'smtp.ehlo': 'error' } });
    const got: TelemetryEvent[] = [];
    telemetry.subscribe({ level: 'error', events: ['smtp.*'] }, (batch) => {
      got.push(...batch);
    });
    telemetry.emit('smtp.ehlo', { domain: 'example.org' });
    telemetry.emit('smtp.quit');
    await telemetry.flush();
    expect(got.map((e) => [e.type, e.level])).toEqual([['smtp.ehlo', 'error']]);
  });

  it("'disable' removes an event everywhere, its counter included", async () => {
    const telemetry = make({ levels: { 'auth.success': 'disable' } });
    const got: TelemetryEvent[] = [];
    telemetry.subscribe({}, (batch) => {
      got.push(...batch);
    });
    const exact: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['auth.success'] }, (batch) => {
      exact.push(...batch);
    });
    const listener = vi.fn();
    telemetry.on('auth.*', listener);
    expect(telemetry.enabled('auth.success')).toBe(false);
    const thunk = vi.fn(() => ({ accountName: 'alice' }));
    telemetry.emit('auth.success', thunk);
    telemetry.emit('auth.success');
    telemetry.emit('auth.failed');
    await telemetry.flush();
    expect(thunk).not.toHaveBeenCalled();
    expect(telemetry.metrics.eventCount('auth.success')).toBe(0);
    expect(got.map((e) => e.type)).toEqual(['auth.failed']);
    expect(exact).toEqual([]);
    expect(listener.mock.calls.map(([e]) => (e as TelemetryEvent).type)).toEqual(['auth.failed']);
    expect(telemetry.describe('auth.success').level).toBe('disable');
  });
});

describe('describe() and events()', () => {
  it('describes a built-in event', () => {
    const telemetry = make();
    const info = telemetry.describe('auth.success');
    expect(info).toMatchObject({
      name: 'auth.success',
      id: 37,
      level: 'info',
      defaultLevel: 'info',
      counter: true,
      origin: 'builtin',
    });
    expect(typeof info.description).toBe('string');
    expect(info.description.length).toBeGreaterThan(0);
    expect(Array.isArray(info.keys)).toBe(true);
    expect(info.spanEnd).toBeUndefined();
  });

  it('describes span starts and the library’s own events', () => {
    const telemetry = make();
    expect(telemetry.describe('smtp.connection-start').spanEnd).toBe('smtp.connection-end');
    expect(telemetry.describe('delivery.attempt-start').spanEnd).toBe('delivery.attempt-end');
    expect(telemetry.describe('telemetry.subscriber-error').origin).toBe('library');
    expect(telemetry.describe('smtp.ehlo').keys).toContain('domain');
  });

  it('throws for an unknown name given from untyped code', () => {
    const telemetry = make();
    expect(() => telemetry.describe('nosuch.event' as unknown as 'smtp.ehlo')).toThrow(/nosuch\.event/);
  });

  it('lists every event once, with unique names and ids', () => {
    const telemetry = make();
    const all = telemetry.events();
    expect(all).toHaveLength(BUILTIN_EVENTS.length);
    expect(new Set(all.map((e) => e.name)).size).toBe(all.length);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(all.find((e) => e.name === 'auth.success')).toEqual(telemetry.describe('auth.success'));
  });
});

describe('emit never throws', () => {
  it('ignores and counts an unknown event name from untyped code', () => {
    const telemetry = make();
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      expect(() => emitUntyped(telemetry, 'nosuch.event', { details: 'x' })).not.toThrow();
      expect(() => emitUntyped(telemetry, 'constructor')).not.toThrow();
      expect(() => emitUntyped(telemetry, '__proto__')).not.toThrow();
      expect(telemetry.stats().unknownEvents).toBe(3);
      expect(telemetry.enabled('nosuch.event' as unknown as 'smtp.ehlo')).toBe(false);
      expect(telemetry.metrics.eventCount('constructor' as unknown as 'smtp.ehlo')).toBe(0);
    } finally {
      warnings.mockRestore();
    }
  });

  it('isolates a throwing data function: counted, reported as telemetry.events-dropped, not delivered', async () => {
    const telemetry = make();
    const got: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['smtp.ehlo', 'telemetry.events-dropped'] }, (batch) => {
      got.push(...batch);
    });
    const failure = new Error('payload exploded');
    expect(() =>
      telemetry.emit('smtp.ehlo', () => {
        throw failure;
      }),
    ).not.toThrow();
    telemetry.emit('smtp.ehlo', { domain: 'fine.example' });
    await telemetry.flush();
    expect(telemetry.stats().failedPayloads).toBe(1);
    expect(got.map((e) => e.type)).toEqual(['telemetry.events-dropped', 'smtp.ehlo']);
    const report = got[0]!;
    expect(report.data).toMatchObject({ total: 1, causedBy: failure });
    expect(String(report.data.reason)).toContain('smtp.ehlo');
    expect(got[1]!.data).toEqual({ domain: 'fine.example' });
  });
});
