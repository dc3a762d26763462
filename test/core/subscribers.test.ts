import { describe, expect, it, vi } from 'vitest';
import type { TelemetryEvent } from '../../src/index.js';
import { make } from '../support/telemetry.js';

/** Lets a few rounds of immediates run: deliveries happen off the emitter's stack. */
async function ticks(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

function types(events: readonly TelemetryEvent[]): string[] {
  return events.map((e) => e.type);
}

describe('selection', () => {
  it('takes exact names and wildcards, leaves out excluded ones', async () => {
    const telemetry = make();
    const smtp: TelemetryEvent[] = [];
    const errors: TelemetryEvent[] = [];
    const exact: TelemetryEvent[] = [];
    const smtpNoErrors: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['smtp.*'] }, (b) => {
      smtp.push(...b);
    });
    telemetry.subscribe({ events: ['*-error'] }, (b) => {
      errors.push(...b);
    });
    telemetry.subscribe({ events: ['smtp.ehlo', 'auth.success'] }, (b) => {
      exact.push(...b);
    });
    telemetry.subscribe({ events: ['smtp.*'], exclude: ['*-error', 'smtp.quit'] }, (b) => {
      smtpNoErrors.push(...b);
    });
    telemetry.emit('smtp.ehlo', { domain: 'a.example' });
    telemetry.emit('smtp.syntax-error', { details: 'bad' });
    telemetry.emit('smtp.quit');
    telemetry.emit('auth.success');
    telemetry.emit('auth.error');
    telemetry.emit('cluster.publisher-error');
    await telemetry.flush();
    expect(types(smtp)).toEqual(['smtp.ehlo', 'smtp.syntax-error', 'smtp.quit']);
    expect(types(errors)).toEqual(['smtp.syntax-error', 'cluster.publisher-error']);
    expect(types(exact)).toEqual(['smtp.ehlo', 'auth.success']);
    expect(types(smtpNoErrors)).toEqual(['smtp.ehlo']);
  });

  it('filters by level', async () => {
    const telemetry = make();
    const warn: TelemetryEvent[] = [];
    const debug: TelemetryEvent[] = [];
    telemetry.subscribe({ level: 'warn' }, (b) => {
      warn.push(...b);
    });
    telemetry.subscribe({ level: 'debug', events: ['smtp.*', 'auth.*'] }, (b) => {
      debug.push(...b);
    });
    telemetry.emit('smtp.raw-input', { contents: 'EHLO x' }); // trace
    telemetry.emit('smtp.quit'); // debug
    telemetry.emit('smtp.ehlo', { domain: 'a.example' }); // info
    telemetry.emit('auth.error'); // error
    await telemetry.flush();
    expect(types(warn)).toEqual(['auth.error']);
    expect(types(debug)).toEqual(['smtp.quit', 'smtp.ehlo', 'auth.error']);
    expect(telemetry.enabled('smtp.raw-input')).toBe(false);
  });
});

describe('batching and flush', () => {
  it('delivers many emits of one tick in few batches, respecting maxBatch', async () => {
    const telemetry = make();
    const small: number[] = [];
    const large: number[] = [];
    const seen: number[] = [];
    telemetry.subscribe({ events: ['smtp.raw-input'], maxBatch: 10 }, (batch) => {
      small.push(batch.length);
      for (const e of batch) seen.push(Number(e.data.size));
    });
    telemetry.subscribe({ events: ['smtp.raw-input'] }, (batch) => {
      large.push(batch.length);
    });
    for (let i = 0; i < 35; i++) telemetry.emit('smtp.raw-input', { contents: 'EHLO a.example', size: i });
    const report = await telemetry.flush();
    expect(report).toMatchObject({ complete: true, pending: 0, subscribers: [] });
    expect(small).toEqual([10, 10, 10, 5]);
    expect(large).toEqual([35]);
    expect(seen).toEqual(Array.from({ length: 35 }, (_, i) => i));
  });

  it('delivers off the emitter’s stack', async () => {
    const telemetry = make();
    const handler = vi.fn();
    telemetry.subscribe({ events: ['smtp.ehlo'] }, handler);
    telemetry.emit('smtp.ehlo', { domain: 'a.example' });
    expect(handler).not.toHaveBeenCalled();
    await telemetry.flush();
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('flush resolves complete with nothing pending when nothing was emitted', async () => {
    const telemetry = make();
    telemetry.subscribe({}, () => {});
    await expect(telemetry.flush()).resolves.toEqual({ complete: true, pending: 0, subscribers: [] });
  });

  it('holds back the next batch until an async handler settles', async () => {
    const telemetry = make();
    const batches: number[][] = [];
    let release: () => void = () => {};
    const sub = telemetry.subscribe({ events: ['smtp.raw-input'] }, (batch) => {
      batches.push(batch.map((e) => Number(e.data.size)));
      if (batches.length === 1) return new Promise<void>((resolve) => (release = resolve));
      return Promise.resolve();
    });
    for (let i = 0; i < 3; i++) telemetry.emit('smtp.raw-input', { size: i });
    await vi.waitFor(() => expect(batches).toHaveLength(1));
    for (let i = 3; i < 5; i++) telemetry.emit('smtp.raw-input', { size: i });
    await ticks(10);
    expect(batches).toEqual([[0, 1, 2]]);
    expect(sub.stats()).toMatchObject({ inFlight: 3, queued: 2 });
    release();
    const report = await telemetry.flush();
    expect(report).toMatchObject({ complete: true, pending: 0 });
    expect(batches).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    expect(sub.stats()).toMatchObject({ inFlight: 0, queued: 0, delivered: 5, dropped: 0, failures: 0 });
  });

  it('flush(timeout) reports exactly what a never-settling handler holds', async () => {
    const telemetry = make();
    const sub = telemetry.subscribe({ id: 'stuck', events: ['smtp.*'] }, () => new Promise<void>(() => {}));
    const ok = telemetry.subscribe({ id: 'ok', events: ['smtp.*'] }, () => {});
    for (let i = 0; i < 3; i++) telemetry.emit('smtp.raw-input', { size: i });
    await ticks(3);
    for (let i = 0; i < 4; i++) telemetry.emit('smtp.quit');
    const report = await telemetry.flush(30);
    expect(report).toEqual({ complete: false, pending: 7, subscribers: [{ id: 'stuck', pending: 7 }] });
    expect(sub.stats()).toMatchObject({ inFlight: 3, queued: 4 });
    expect(ok.stats()).toMatchObject({ delivered: 7, queued: 0 });
    const final = await telemetry.shutdown(10);
    expect(final).toMatchObject({ complete: false, pending: 7 });
  });
});

describe('bounded queues', () => {
  it('a lossy queue keeps the newest events, counts the drops and reports them to others', async () => {
    const telemetry = make();
    const seen: number[] = [];
    const reports: TelemetryEvent[] = [];
    const lossy = telemetry.subscribe({ id: 'lossy', events: ['smtp.*'], lossy: true, maxQueue: 10 }, (batch) => {
      for (const e of batch) seen.push(Number(e.data.size));
    });
    telemetry.subscribe({ events: ['telemetry.events-dropped'] }, (batch) => {
      reports.push(...batch);
    });
    for (let i = 0; i < 25; i++) telemetry.emit('smtp.raw-input', { size: i });
    await telemetry.flush();
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => i + 15));
    expect(lossy.stats().dropped).toBe(15);
    expect(telemetry.stats().droppedEvents).toBe(15);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.data).toMatchObject({ id: 'lossy', total: 15 });
  });

  it('a full lossless queue refuses the newest events and counts them', async () => {
    const telemetry = make();
    const seen: number[] = [];
    const reports: TelemetryEvent[] = [];
    const lossless = telemetry.subscribe({ id: 'lossless', events: ['smtp.*'], maxQueue: 10 }, (batch) => {
      for (const e of batch) seen.push(Number(e.data.size));
    });
    telemetry.subscribe({ events: ['telemetry.*'] }, (batch) => {
      reports.push(...batch);
    });
    for (let i = 0; i < 25; i++) telemetry.emit('smtp.raw-input', { size: i });
    await telemetry.flush();
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(lossless.stats()).toMatchObject({ lossy: false, dropped: 15, delivered: 10 });
    expect(telemetry.stats().droppedEvents).toBe(15);
    const dropped = reports.filter((e) => e.type === 'telemetry.events-dropped');
    expect(dropped.reduce((sum, e) => sum + Number(e.data.total), 0)).toBe(15);
    expect(dropped[0]!.data).toMatchObject({ id: 'lossless' });
  });
});

describe('failing handlers are isolated', () => {
  const failures = {
    throwing: () => {
      throw new Error('handler blew up');
    },
    rejecting: async () => {
      throw new Error('handler blew up');
    },
  };

  for (const [kind, fail] of Object.entries(failures)) {
    it(`a ${kind} handler: emitters and other subscribers are unaffected; it never sees its own error`, async () => {
      const telemetry = make();
      const failingSeen: TelemetryEvent[] = [];
      const failing = telemetry.subscribe({ id: 'failing', events: ['*'] }, (batch) => {
        failingSeen.push(...batch);
        return fail();
      });
      const healthy: TelemetryEvent[] = [];
      telemetry.subscribe({ id: 'healthy' }, (batch) => {
        healthy.push(...batch);
      });
      for (let round = 0; round < 3; round++) {
        expect(() => {
          telemetry.emit('smtp.raw-input', { size: round });
          telemetry.emit('smtp.quit');
        }).not.toThrow();
        await telemetry.flush();
      }
      expect(types(healthy.filter((e) => e.type.startsWith('smtp.')))).toEqual([
        'smtp.raw-input',
        'smtp.quit',
        'smtp.raw-input',
        'smtp.quit',
        'smtp.raw-input',
        'smtp.quit',
      ]);
      const errors = healthy.filter((e) => e.type === 'telemetry.subscriber-error');
      expect(errors).toHaveLength(3);
      for (const e of errors) expect(e.data).toMatchObject({ id: failing.id, reason: 'handler blew up' });
      expect(failingSeen.filter((e) => e.type.startsWith('smtp.'))).toHaveLength(6);
      expect(failingSeen.filter((e) => e.type === 'telemetry.subscriber-error')).toEqual([]);
      expect(failing.stats().failures).toBe(3);
      expect(telemetry.metrics.eventCount('telemetry.subscriber-error')).toBe(3);
    });
  }

  it('two subscribers that always throw do not ping-pong forever', async () => {
    const telemetry = make();
    let calls = 0;
    const boom = () => {
      calls++;
      throw new Error('always');
    };
    telemetry.subscribe({ id: 'a' }, boom);
    telemetry.subscribe({ id: 'b' }, boom);
    const errors: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['telemetry.subscriber-error'] }, (batch) => {
      errors.push(...batch);
    });
    telemetry.emit('smtp.ehlo', { domain: 'a.example' });
    const report = await telemetry.flush(500);
    expect(report).toMatchObject({ complete: true, pending: 0 });
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.length).toBeLessThanOrEqual(4);
    expect(calls).toBeLessThanOrEqual(6);
  });

  it('two on() listeners that always throw do not ping-pong forever', async () => {
    const telemetry = make();
    const a = vi.fn(() => {
      throw new Error('listener a');
    });
    const b = vi.fn(() => {
      throw new Error('listener b');
    });
    telemetry.on('*', a);
    telemetry.on('*', b);
    telemetry.emit('smtp.ehlo', { domain: 'a.example' });
    const report = await telemetry.flush(200);
    expect(report).toMatchObject({ complete: true, pending: 0 });
    expect(a.mock.calls.length + b.mock.calls.length).toBeLessThanOrEqual(6);
  });
});

describe('unsubscribe', () => {
  it('stops delivery and counts discarded queued events as dropped', async () => {
    const telemetry = make();
    const seen: TelemetryEvent[] = [];
    const sub = telemetry.subscribe({ events: ['smtp.raw-input'] }, (batch) => {
      seen.push(...batch);
    });
    telemetry.emit('smtp.raw-input', { size: 1 });
    await telemetry.flush();
    expect(seen).toHaveLength(1);
    telemetry.emit('smtp.raw-input', { size: 2 });
    telemetry.emit('smtp.raw-input', { size: 3 });
    sub.unsubscribe();
    expect(telemetry.stats().droppedEvents).toBe(2);
    expect(telemetry.enabled('smtp.raw-input')).toBe(false);
    telemetry.emit('smtp.raw-input', { size: 4 });
    await telemetry.flush();
    expect(seen).toHaveLength(1);
    expect(() => sub.unsubscribe()).not.toThrow();
    expect(telemetry.stats().subscribers.map((s) => s.id)).not.toContain(sub.id);
  });
});

describe('on(pattern, listener)', () => {
  it('receives matching events; the returned function removes it', async () => {
    const telemetry = make();
    const got: string[] = [];
    const off = telemetry.on('delivery.*', (event) => {
      got.push(event.type);
    });
    const exact = vi.fn();
    telemetry.on('smtp.ehlo', exact);
    telemetry.emit('delivery.delivered', { to: 'bob@example.org' });
    telemetry.emit('smtp.ehlo', { domain: 'a.example' });
    telemetry.emit('smtp.quit');
    expect(got).toEqual([]);
    await telemetry.flush();
    expect(got).toEqual(['delivery.delivered']);
    expect(exact).toHaveBeenCalledTimes(1);
    off();
    off();
    telemetry.emit('delivery.delivered', { to: 'carol@example.org' });
    telemetry.emit('smtp.ehlo', { domain: 'b.example' });
    await telemetry.flush();
    expect(got).toEqual(['delivery.delivered']);
    expect(exact).toHaveBeenCalledTimes(2);
  });

  it('a throwing listener is reported and does not break other listeners', async () => {
    const telemetry = make();
    const bad = vi.fn(() => {
      throw new Error('listener failed');
    });
    const good = vi.fn();
    const errors: TelemetryEvent[] = [];
    telemetry.on('smtp.*', bad);
    telemetry.on('smtp.*', good);
    telemetry.on('telemetry.subscriber-error', (event) => {
      errors.push(event);
    });
    telemetry.emit('smtp.ehlo', { domain: 'a.example' });
    telemetry.emit('smtp.quit');
    await telemetry.flush();
    expect(bad).toHaveBeenCalledTimes(2);
    expect(good).toHaveBeenCalledTimes(2);
    expect(errors).toHaveLength(2);
    expect(errors[0]!.data).toMatchObject({ reason: 'listener failed' });
    expect(String(errors[0]!.data.id)).toContain('smtp.*');
  });

  it('a throwing listener on * never receives its own error event', async () => {
    const telemetry = make();
    const seen: string[] = [];
    telemetry.on('*', (event) => {
      seen.push(event.type);
      throw new Error('nope');
    });
    const others: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['telemetry.subscriber-error'] }, (batch) => {
      others.push(...batch);
    });
    telemetry.emit('smtp.ehlo', { domain: 'a.example' });
    await telemetry.flush();
    expect(seen).toEqual(['smtp.ehlo']);
    expect(others).toHaveLength(1);
  });
});

describe('shutdown', () => {
  it('delivers pending events, then emits do nothing and subscribe throws', async () => {
    const telemetry = make();
    const seen: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['smtp.*', 'auth.*'] }, (batch) => {
      seen.push(...batch);
    });
    telemetry.emit('smtp.ehlo', { domain: 'a.example' });
    telemetry.emit('auth.success');
    const report = await telemetry.shutdown();
    expect(report).toMatchObject({ complete: true, pending: 0 });
    expect(types(seen)).toEqual(['smtp.ehlo', 'auth.success']);
    expect(() => telemetry.emit('smtp.ehlo', { domain: 'b.example' })).not.toThrow();
    telemetry.emit('auth.success');
    expect(telemetry.enabled('auth.success')).toBe(false);
    expect(telemetry.metrics.eventCount('auth.success')).toBe(1);
    await telemetry.flush();
    expect(seen).toHaveLength(2);
    expect(() => telemetry.subscribe({}, () => {})).toThrow(/shut down/);
    expect(() => telemetry.on('*', () => {})).toThrow(/shut down/);
    await expect(telemetry.shutdown()).resolves.toMatchObject({ complete: true, pending: 0 });
  });
});
