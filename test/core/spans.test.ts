import { describe, expect, it, vi } from 'vitest';
import type { TelemetryEvent } from '../../src/index.js';
import { CONNECTION, make } from '../support/telemetry.js';

function collect(telemetry: ReturnType<typeof make>) {
  const got: TelemetryEvent[] = [];
  telemetry.subscribe({}, (batch) => {
    got.push(...batch);
  });
  return got;
}

describe('span handles', () => {
  it('returns { id, emit, end } with unique, increasing, safe-integer ids', () => {
    const telemetry = make();
    const spans = Array.from({ length: 50 }, () => telemetry.span('smtp.connection-start', CONNECTION));
    for (const span of spans) {
      expect(typeof span.emit).toBe('function');
      expect(typeof span.end).toBe('function');
      expect(span.ended).toBe(false);
      expect(Number.isSafeInteger(span.id)).toBe(true);
    }
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.id).toBeGreaterThan(spans[i - 1]!.id);
    expect(telemetry.stats().openSpans).toBe(50);
  });

  it('emits the start event with the span id and its keys', async () => {
    const telemetry = make();
    const got = collect(telemetry);
    const span = telemetry.span('smtp.connection-start', CONNECTION);
    await telemetry.flush();
    expect(got).toHaveLength(1);
    expect(got[0]!.type).toBe('smtp.connection-start');
    expect(got[0]!.spanId).toBe(span.id);
    expect(got[0]!.data).toEqual({ ...CONNECTION, spanId: span.id });
  });
});

describe('events in a span', () => {
  it('span.emit attaches the span id and merges the span keys, the event’s own keys winning', async () => {
    const telemetry = make();
    const got = collect(telemetry);
    const span = telemetry.span('smtp.connection-start', CONNECTION);
    span.emit('smtp.ehlo', { domain: 'client.example' });
    span.emit('smtp.rcpt-to', () => ({ to: 'bob@example.org' }));
    span.emit('smtp.error', { remoteIp: '198.51.100.7', details: 'own key wins' });
    await telemetry.flush();
    const [, ehlo, rcpt, error] = got;
    expect(ehlo!.spanId).toBe(span.id);
    expect(ehlo!.data).toEqual({ ...CONNECTION, spanId: span.id, domain: 'client.example' });
    expect(rcpt!.data).toEqual({ ...CONNECTION, spanId: span.id, to: 'bob@example.org' });
    expect(error!.data).toEqual({ ...CONNECTION, spanId: span.id, remoteIp: '198.51.100.7', details: 'own key wins' });
  });

  it('emit(name, { spanId }) joins an open span', async () => {
    const telemetry = make();
    const got = collect(telemetry);
    const span = telemetry.span('smtp.connection-start', CONNECTION);
    telemetry.emit('smtp.mail-from', { spanId: span.id, from: 'alice@example.org' });
    telemetry.emit('smtp.mail-from', { spanId: String(span.id), from: 'carol@example.org' });
    await telemetry.flush();
    expect(got[1]!.spanId).toBe(span.id);
    expect(got[1]!.data).toEqual({ ...CONNECTION, spanId: span.id, from: 'alice@example.org' });
    expect(got[2]!.data).toMatchObject({ ...CONNECTION, from: 'carol@example.org' });
  });

  it('withSpan makes a span current, also across awaits', async () => {
    const telemetry = make();
    const got = collect(telemetry);
    const span = telemetry.span('smtp.connection-start', CONNECTION);
    expect(telemetry.currentSpanId()).toBeUndefined();
    const result = await telemetry.withSpan(span, async () => {
      expect(telemetry.currentSpanId()).toBe(span.id);
      telemetry.emit('smtp.ehlo', { domain: 'client.example' });
      await Promise.resolve();
      await new Promise((resolve) => setImmediate(resolve));
      telemetry.emit('smtp.error', { to: 'bob@example.org', remoteIp: '203.0.113.5' });
      return 42;
    });
    expect(result).toBe(42);
    expect(telemetry.currentSpanId()).toBeUndefined();
    telemetry.emit('smtp.quit');
    await telemetry.flush();
    expect(got.map((e) => e.spanId)).toEqual([span.id, span.id, span.id, undefined]);
    expect(got[1]!.data).toEqual({ ...CONNECTION, spanId: span.id, domain: 'client.example' });
    expect(got[2]!.data).toEqual({ ...CONNECTION, spanId: span.id, to: 'bob@example.org', remoteIp: '203.0.113.5' });
    expect(got[3]!.data).toEqual({});
  });

  it('an explicit spanId wins over the current span', async () => {
    const telemetry = make();
    const got = collect(telemetry);
    const outer = telemetry.span('smtp.connection-start', CONNECTION);
    const other = telemetry.span('delivery.attempt-start', { queueId: 77, to: 'x@example.net' });
    telemetry.withSpan(outer, () => telemetry.emit('delivery.delivered', { spanId: other.id, to: 'y@example.net' }));
    await telemetry.flush();
    const delivered = got.find((e) => e.type === 'delivery.delivered')!;
    expect(delivered.spanId).toBe(other.id);
    expect(delivered.data).toEqual({ spanId: other.id, queueId: 77, to: 'y@example.net' });
  });

  it('withSpan rejects something that is not a span', () => {
    const telemetry = make();
    expect(() => telemetry.withSpan({ id: 1 } as unknown as Parameters<typeof telemetry.withSpan>[0], () => 1)).toThrow(
      TypeError,
    );
  });
});

describe('ending spans', () => {
  it('smtp.connection-start ends with smtp.connection-end, elapsed from the injected clock', async () => {
    let clock = Date.UTC(2025, 0, 1);
    const telemetry = make({ now: () => clock });
    const got = collect(telemetry);
    const span = telemetry.span('smtp.connection-start', CONNECTION);
    clock += 2500;
    span.end();
    expect(span.ended).toBe(true);
    await telemetry.flush();
    const end = got.at(-1)!;
    expect(end.type).toBe('smtp.connection-end');
    expect(end.spanId).toBe(span.id);
    expect(end.data).toEqual({ ...CONNECTION, spanId: span.id, elapsed: 2500 });
    expect(telemetry.stats().openSpans).toBe(0);
    expect(telemetry.metrics.eventCount('smtp.connection-end')).toBe(1);
  });

  it('delivery.attempt-start ends with delivery.attempt-end, keeping a given elapsed', async () => {
    let clock = Date.UTC(2025, 0, 1);
    const telemetry = make({ now: () => clock });
    const got = collect(telemetry);
    const span = telemetry.span('delivery.attempt-start', { queueId: 'q-1', queueName: 'default' });
    clock += 999;
    span.end({ elapsed: 17 });
    await telemetry.flush();
    expect(got.map((e) => e.type)).toEqual(['delivery.attempt-start', 'delivery.attempt-end']);
    expect(got[1]!.data).toEqual({ queueId: 'q-1', queueName: 'default', spanId: span.id, elapsed: 17 });
  });

  it('a second end() does nothing', async () => {
    const telemetry = make();
    const got = collect(telemetry);
    const span = telemetry.span('smtp.connection-start', CONNECTION);
    span.end();
    span.end();
    span.end({ elapsed: 5 });
    await telemetry.flush();
    expect(got.map((e) => e.type)).toEqual(['smtp.connection-start', 'smtp.connection-end']);
    expect(telemetry.metrics.eventCount('smtp.connection-end')).toBe(1);
  });

  it('emit with the id of an ended span no longer merges its keys', async () => {
    const telemetry = make();
    const got = collect(telemetry);
    const span = telemetry.span('smtp.connection-start', CONNECTION);
    span.end();
    telemetry.emit('smtp.quit', { spanId: span.id });
    await telemetry.flush();
    expect(got.at(-1)!.data).toEqual({ spanId: span.id });
  });
});

describe('sweeping spans that are never ended', () => {
  it('sweeps the oldest spans beyond spans.maxOpen and reports it', async () => {
    const telemetry = make({ spans: { maxOpen: 3 } });
    const reports: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['telemetry.*'] }, (batch) => {
      reports.push(...batch);
    });
    const spans = Array.from({ length: 5 }, (_, i) =>
      telemetry.span('smtp.connection-start', { ...CONNECTION, remotePort: i + 1 }),
    );
    expect(telemetry.stats().sweptSpans).toBe(2);
    expect(telemetry.stats().openSpans).toBe(3);
    // The table forgot the two oldest: their id no longer brings their keys along.
    const joined: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['smtp.ehlo', 'smtp.connection-end'] }, (batch) => {
      joined.push(...batch);
    });
    for (const span of spans) telemetry.emit('smtp.ehlo', { spanId: span.id, domain: 'client.example.org' });
    // A late end() through a swept span's handle still emits its end event.
    spans[0]?.end();
    await telemetry.flush();
    const merged = joined.filter((e) => e.type === 'smtp.ehlo').map((e) => e.data.remotePort);
    expect(merged).toEqual([undefined, undefined, 3, 4, 5]);
    expect(joined.filter((e) => e.type === 'smtp.connection-end').map((e) => e.spanId)).toEqual([spans[0]?.id]);
    const swept = reports.filter((e) => e.type === 'telemetry.spans-swept');
    expect(swept.length).toBeGreaterThan(0);
    expect(swept.reduce((sum, e) => sum + Number(e.data.total), 0)).toBe(2);
    expect(telemetry.metrics.eventCount('telemetry.spans-swept')).toBe(swept.length);
  });

  it('sweeps spans older than spans.maxAge on the sweep timer', async () => {
    let clock = Date.UTC(2025, 0, 1);
    const telemetry = make({ now: () => clock, spans: { maxAge: 1000, sweepInterval: 10 } });
    const reports: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['telemetry.*'] }, (batch) => {
      reports.push(...batch);
    });
    const old1 = telemetry.span('smtp.connection-start', CONNECTION);
    const old2 = telemetry.span('smtp.connection-start', CONNECTION);
    clock += 500;
    const young = telemetry.span('smtp.connection-start', CONNECTION);
    clock += 1000; // old spans are 1500 ms old, the young one exactly maxAge
    await vi.waitFor(() => expect(telemetry.stats().sweptSpans).toBe(2), { timeout: 900, interval: 5 });
    expect(telemetry.stats().openSpans).toBe(1);
    expect([old1.ended, old2.ended, young.ended]).toEqual([false, false, false]);
    await telemetry.flush();
    const swept = reports.filter((e) => e.type === 'telemetry.spans-swept');
    expect(swept.reduce((sum, e) => sum + Number(e.data.total), 0)).toBe(2);
  });
});
