import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import type { LiveBatch, TelemetryEvent } from '../../src/index.js';
import { compileFilter, keyIndex, Probe } from '../../src/live/filter.js';
import { EventStream } from '../../src/live/stream.js';
import { connection, make } from '../support/telemetry.js';
import { buffered } from './helpers.js';

const liveSubscribers = (telemetry: ReturnType<typeof make>) =>
  telemetry.stats().subscribers.filter((s) => s.id.startsWith('live:')).length;

describe('bounded buffers', () => {
  it('a slow reader loses the oldest events, never memory, and is told how many', async () => {
    const telemetry = make();
    const stream = telemetry.live.events({ events: ['smtp.ehlo'], bufferSize: 100 });
    for (let i = 0; i < 1000; i++) telemetry.emit('smtp.ehlo', { domain: `d${i}` });
    await telemetry.flush();
    expect(stream.buffered).toBe(100);
    expect(stream.dropped).toBe(900);
    expect(telemetry.live.stats()).toMatchObject({ buffered: 100, dropped: 900 });
    const events = await buffered(stream);
    expect(events.map((e) => e.data.domain)).toEqual(Array.from({ length: 100 }, (_, i) => `d${900 + i}`));
    stream.close();
  });

  it('batches() hands out what is buffered with the loss since the last batch', async () => {
    const telemetry = make();
    const stream = telemetry.live.events({ events: ['smtp.ehlo'], bufferSize: 10 });
    const batches = stream.batches();
    for (let i = 0; i < 25; i++) telemetry.emit('smtp.ehlo', { domain: `d${i}` });
    await telemetry.flush();
    const first = await batches.next();
    expect(first.done).toBe(false);
    const batch = first.value as LiveBatch;
    expect(batch.dropped).toBe(15);
    expect(batch.events.map((e) => e.data.domain)).toEqual(Array.from({ length: 10 }, (_, i) => `d${15 + i}`));
    telemetry.emit('smtp.ehlo', { domain: 'late' });
    await telemetry.flush();
    const second = await batches.next();
    expect(second.value).toMatchObject({ dropped: 0, events: [expect.objectContaining({ type: 'smtp.ehlo' })] });
    await batches.return?.();
    expect(stream.closed).toBe(true);
  });

  it('reports drops as telemetry.events-dropped, which other streams can see', async () => {
    const telemetry = make();
    const watcher = telemetry.live.events({ events: ['telemetry.events-dropped'], level: 'warn' });
    const slow = telemetry.live.events({ events: ['smtp.ehlo'], bufferSize: 2 });
    for (let i = 0; i < 5; i++) telemetry.emit('smtp.ehlo', { domain: 'x' });
    await telemetry.flush();
    await telemetry.flush();
    const reports = await buffered(watcher);
    expect(reports.map((e) => e.data)).toEqual([expect.objectContaining({ id: 'live:debug', total: 3 })]);
    slow.close();
    watcher.close();
  });

  it('property: whatever the pushes and reads, the buffer holds at most its size, in order, and counts every loss', () => {
    const catalog = new Catalog();
    const filter = compileFilter(catalog, keyIndex(catalog), {}, 'f');
    const probe = new Probe();
    const id = catalog.get('smtp.ehlo')?.id ?? 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 50 }),
        fc.array(fc.oneof(fc.nat(120), fc.constant(-1)), { maxLength: 40 }),
        (size, ops) => {
          const stream = new EventStream(filter, size, 8, new Set(), undefined, () => {});
          let pushed = 0;
          const read: number[] = [];
          for (const op of ops) {
            if (op === -1) read.push(...stream.take(Math.ceil(size / 2)).map((e) => e.id));
            else
              for (let i = 0; i < op; i++) {
                const event = {
                  id: pushed++,
                  type: 'smtp.ehlo',
                  typeId: id,
                  level: 'info',
                  timestamp: 0,
                  spanId: undefined,
                  data: {},
                };
                probe.reset(event as unknown as TelemetryEvent);
                stream.accept(event as unknown as TelemetryEvent, probe);
                expect(stream.buffered).toBeLessThanOrEqual(size);
              }
          }
          read.push(...stream.take(size).map((e) => e.id));
          expect(read.length + stream.dropped).toBe(pushed);
          expect([...read].sort((a, b) => a - b)).toEqual(read);
        },
      ),
    );
  });
});

describe('ending a stream frees its subscription at once', () => {
  it('on break', async () => {
    const telemetry = make();
    const stream = telemetry.live.events({ events: ['smtp.ehlo'] });
    expect(liveSubscribers(telemetry)).toBe(1);
    telemetry.emit('smtp.ehlo', { domain: 'a' });
    telemetry.emit('smtp.ehlo', { domain: 'b' });
    for await (const event of stream) {
      expect(event.data.domain).toBe('a');
      break;
    }
    expect(stream.closed).toBe(true);
    expect(stream.buffered).toBe(0);
    expect(liveSubscribers(telemetry)).toBe(0);
    expect(telemetry.live.stats()).toMatchObject({ eventStreams: 0, subscriptions: 0 });
  });

  it('on an AbortSignal, also while the reader waits', async () => {
    const telemetry = make();
    const controller = new AbortController();
    const stream = telemetry.live.events({ signal: controller.signal });
    const read = stream.next();
    controller.abort();
    expect(await read).toEqual({ done: true, value: undefined });
    expect(liveSubscribers(telemetry)).toBe(0);
    const already = telemetry.live.events({ signal: AbortSignal.abort() });
    expect(already.closed).toBe(true);
    expect(telemetry.live.stats().eventStreams).toBe(0);
  });

  it('on shutdown, after the reader got what was buffered', async () => {
    const telemetry = make();
    const stream = telemetry.live.events({ events: ['smtp.ehlo'] });
    const others = [telemetry.live.events({ events: ['auth.*'] }), telemetry.live.events({ events: ['queue.*'] })];
    telemetry.emit('smtp.ehlo', { domain: 'last' });
    const report = await telemetry.shutdown();
    expect(report.complete).toBe(true);
    expect(others.every((s) => s.closed)).toBe(true);
    expect(telemetry.live.stats()).toMatchObject({ eventStreams: 0, subscriptions: 0 });
    const events: TelemetryEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.data.domain)).toEqual(['last']);
    expect(() => telemetry.live.events()).toThrow(/shut down/);
  });

  it('past maxStreams, opening one more throws', () => {
    const telemetry = make({ live: { maxStreams: 2 } });
    const a = telemetry.live.events();
    const b = telemetry.live.metrics();
    expect(() => telemetry.live.events()).toThrow(/maxStreams = 2/);
    a.close();
    b.close();
    telemetry.live.events().close();
  });
});

describe('metric streams', () => {
  it('yield registry frames, the first at once, filtered by name', async () => {
    const telemetry = make({ live: { minMetricsInterval: 10 } });
    telemetry.emit('smtp.connection-start', connection('10.0.0.1', 1));
    telemetry.metrics.histogram('smtp.request-time').observe(12);
    const stream = telemetry.live.metrics({ metrics: ['smtp.connection-start', 'smtp.request-time'], interval: 20 });
    const first = await stream.next();
    expect(first.value?.metrics.map((m) => m.name)).toEqual(['smtp.connection-start', 'smtp.request-time']);
    expect(first.value?.metrics[0]?.series[0]).toEqual({ labels: {}, value: 1 });
    telemetry.emit('smtp.connection-start', connection('10.0.0.1', 1));
    const second = await stream.next();
    expect(second.value?.metrics[0]?.series[0]).toEqual({ labels: {}, value: 2 });
    let frames = 0;
    for await (const _ of stream) if (++frames === 1) break;
    expect(stream.closed).toBe(true);
    expect(telemetry.live.stats().metricStreams).toBe(0);
  });

  it('end on an AbortSignal, also while waiting for the next frame', async () => {
    const telemetry = make();
    const controller = new AbortController();
    const stream = telemetry.live.metrics({ interval: 60_000, signal: controller.signal });
    expect((await stream.next()).done).toBe(false);
    const waiting = stream.next();
    controller.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(telemetry.live.stats().metricStreams).toBe(0);
  });

  it('reject bad options', () => {
    const telemetry = make();
    expect(() => telemetry.live.metrics({ interval: 5 })).toThrow(/interval.*1000/);
    expect(() => telemetry.live.metrics({ metrics: ['Bad Name'] })).toThrow(/metrics\[0\]/);
  });
});

describe('sensitive keys', () => {
  it('are redacted in live output and never matched by filters', async () => {
    const runtime = make({ sensitiveKeys: ['contents'] });
    const live = runtime.live;
    const all = live.events({ events: ['smtp.raw-input'], level: 'trace' });
    const probing = live.events({ events: ['smtp.raw-input'], level: 'trace', text: 'secret' });
    runtime.emit('smtp.raw-input', { contents: 'AUTH PLAIN secret', size: 17 });
    await runtime.flush();
    const events = await buffered(all);
    expect(events.map((e) => e.data)).toEqual([{ contents: '[redacted]', size: 17 }]);
    expect(probing.buffered).toBe(0);
    all.close();
    probing.close();
    await runtime.shutdown(100);
  });
});
