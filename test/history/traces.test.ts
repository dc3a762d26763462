import { describe, expect, it } from 'vitest';
import { TRUNCATED_EVENT, type Trace } from '../../src/index.js';
import { connection, make, session } from '../support/telemetry.js';

const T0 = Date.UTC(2026, 0, 1);
type Telemetry = ReturnType<typeof make>;
type HistoryOption = NonNullable<NonNullable<Parameters<typeof make>[0]>['history']>;

function setup(history: HistoryOption = {}) {
  let now = T0;
  const telemetry = make({ now: () => now, history });
  // The runtime reads its clock once per synchronous run of emits: let that run end after a tick.
  const tick = async (ms: number) => {
    now += ms;
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { telemetry, tick };
}

/** An outbound delivery attempt span. */
function delivery(telemetry: Telemetry, queueId: number, to: string, hostname: string) {
  const span = telemetry.span('delivery.attempt-start', { queueId, from: 'sender@example.org', to: [to], size: 2048 });
  span.emit('delivery.mx-lookup', { domain: to.split('@')[1] as string });
  span.emit('delivery.connect', { hostname, remoteIp: '203.0.113.25' });
  span.emit('delivery.completed', {});
  span.end();
  return span.id;
}

describe('history.traces and trace(id)', () => {
  it('stores a span when it ends, with its events and derived from, to, size and timestamp', async () => {
    const { telemetry } = setup();
    const id = session(telemetry, {
      connection: connection('192.0.2.7'),
      from: 'alice@example.org',
      to: ['bob@example.com', 'carol@example.com'],
      queued: { queueId: 7, size: 1234 },
    }).id;
    await telemetry.flush();
    const trace = (await telemetry.history.trace(id)) as Trace;
    expect(trace).toMatchObject({
      id,
      type: 'smtp.connection-start',
      timestamp: T0,
      queueId: '7',
      from: 'alice@example.org',
      to: ['bob@example.com', 'carol@example.com'],
      size: 1234,
      truncated: 0,
    });
    expect(trace.events.map((e) => e.type)).toEqual([
      'smtp.connection-start',
      'smtp.ehlo',
      'smtp.mail-from',
      'smtp.rcpt-to',
      'smtp.rcpt-to',
      'queue.message-queued',
      'smtp.connection-end',
    ]);
    // Every event carries the span's keys.
    expect(trace.events.every((e) => e.data.remoteIp === '192.0.2.7' && e.spanId === id)).toBe(true);
    const list = await telemetry.history.traces();
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).not.toHaveProperty('events');
    expect(list.items[0]).toMatchObject({ id, queueId: '7' });
  });

  it('records info and above inside spans by default (span starts and ends always); traces.level records more', async () => {
    for (const level of [undefined, 'debug'] as const) {
      const { telemetry } = setup(level === undefined ? {} : { traces: { level } });
      const id = delivery(telemetry, 3, 'bob@example.com', 'mx.example.com');
      await telemetry.flush();
      const types = ((await telemetry.history.trace(id)) as Trace).events.map((e) => e.type);
      expect(types, String(level)).toEqual([
        'delivery.attempt-start',
        ...(level === 'debug' ? ['delivery.mx-lookup'] : []),
        'delivery.connect',
        'delivery.completed',
        'delivery.attempt-end',
      ]);
      await telemetry.shutdown();
    }
  });

  it('by default keeps only spans that carried a queueId or a messageId', async () => {
    // imap.append is a debug event: traces record it at level debug.
    const { telemetry } = setup({ traces: { level: 'debug' } });
    session(telemetry, { connection: connection('192.0.2.1'), from: 'a@x.test', to: ['b@y.test'] });
    const queued = session(telemetry, {
      connection: connection('192.0.2.2'),
      from: 'a@x.test',
      to: ['b@y.test'],
      queued: { queueId: 1, size: 100 },
    }).id;
    const imap = telemetry.span('imap.connection-start', {
      remoteIp: '192.0.2.3',
      remotePort: 1,
      listenerId: 'imap',
      localPort: 993,
    });
    imap.emit('imap.append', { messageId: '<m1@x.test>' } as never);
    imap.end();
    const idle = telemetry.span('imap.connection-start', {
      remoteIp: '192.0.2.4',
      remotePort: 1,
      listenerId: 'imap',
      localPort: 993,
    });
    idle.end();
    await telemetry.flush();
    expect((await telemetry.history.traces()).items.map((t) => t.id)).toEqual([imap.id, queued]);
    expect(telemetry.history.stats()).toMatchObject({ storedTraces: 2, skippedTraces: 2, openSpans: 0 });
  });

  it('uses the keep predicate instead, and keeps the trace when the predicate throws', async () => {
    const { telemetry } = setup({
      traces: {
        keep: (trace) => {
          if (trace.from === 'boom@x.test') throw new Error('predicate failed');
          return trace.to.includes('vip@y.test');
        },
      },
    });
    const errors: unknown[] = [];
    telemetry.on('telemetry.subscriber-error', (e) => errors.push(e.data));
    const vip = session(telemetry, { connection: connection('192.0.2.1'), from: 'a@x.test', to: ['vip@y.test'] }).id;
    session(telemetry, {
      connection: connection('192.0.2.2'),
      from: 'a@x.test',
      to: ['b@y.test'],
      queued: { queueId: 5, size: 100 },
    });
    const boom = session(telemetry, { connection: connection('192.0.2.3'), from: 'boom@x.test', to: ['b@y.test'] }).id;
    await telemetry.flush();
    await telemetry.flush();
    expect((await telemetry.history.traces()).items.map((t) => t.id)).toEqual([boom, vip]);
    expect(errors).toEqual([expect.objectContaining({ id: 'history.traces', reason: 'predicate failed' })]);
  });

  it('keeps at most maxSpanEvents events per span, with a truncation marker before the end event', async () => {
    const { telemetry } = setup({ level: 'warn', traces: { maxSpanEvents: 5 } });
    const span = telemetry.span('delivery.attempt-start', { queueId: 9, from: 'a@x.test', to: ['b@y.test'] });
    for (let i = 0; i < 10; i++) span.emit('delivery.connect', { hostname: `mx${i}.y.test` });
    span.end();
    await telemetry.flush();
    const trace = (await telemetry.history.trace(span.id)) as Trace;
    expect(trace.truncated).toBe(7);
    expect(trace.events.map((e) => e.type)).toEqual([
      'delivery.attempt-start',
      'delivery.connect',
      'delivery.connect',
      'delivery.connect',
      TRUNCATED_EVENT,
      'delivery.attempt-end',
    ]);
    expect(trace.events[4]?.data).toMatchObject({ total: 7 });
  });

  it('the default cap is 2,048 events per span', async () => {
    const { telemetry } = setup({ level: 'error' });
    const span = telemetry.span('delivery.attempt-start', { queueId: 1, from: 'a@x.test', to: ['b@y.test'] });
    for (let i = 0; i < 3000; i++) span.emit('delivery.connect', { hostname: 'mx.y.test' });
    span.end();
    await telemetry.flush();
    const trace = (await telemetry.history.trace(span.id)) as Trace;
    expect(trace.events.filter((e) => e.type !== TRUNCATED_EVENT)).toHaveLength(2048);
    expect(trace.truncated).toBe(3000 + 1 - 2047);
  });

  it('filters by start type, queueId, keywords with quoted phrases, and time range, newest first with paging', async () => {
    const { telemetry, tick } = setup();
    const a = session(telemetry, {
      connection: connection('192.0.2.7'),
      from: 'alice@example.org',
      to: ['bob@example.com'],
      queued: { queueId: 1, size: 100 },
    }).id;
    await tick(1000);
    const b = delivery(telemetry, 1, 'bob@example.com', 'mx.example.com');
    await tick(1000);
    const c = delivery(telemetry, 2, 'carol@other.net', 'mx.other.net');
    await tick(1000);
    const d = session(telemetry, {
      connection: connection('198.51.100.1'),
      from: 'zed@example.org',
      to: ['carol@other.net'],
      queued: { queueId: 2, size: 100 },
    }).id;
    await telemetry.flush();
    const ids = async (q: Parameters<typeof telemetry.history.traces>[0]) =>
      (await telemetry.history.traces(q)).items.map((t) => t.id);
    expect(await ids({})).toEqual([d, c, b, a]);
    expect(await ids({ type: 'delivery.attempt-start' })).toEqual([c, b]);
    expect(await ids({ queueId: 1 })).toEqual([b, a]);
    expect(await ids({ queueId: '2', type: 'smtp.connection-start' })).toEqual([d]);
    expect(await ids({ keywords: 'carol' })).toEqual([d, c]);
    expect(await ids({ keywords: 'CAROL 198.51.100' })).toEqual([d]);
    expect(await ids({ keywords: '"mx.example.com"' })).toEqual([b]);
    expect(await ids({ keywords: '"bob@example.com" alice' })).toEqual([a]);
    expect(await ids({ keywords: '"example.org bob"' })).toEqual([]);
    expect(await ids({ keywords: 'helo.192.0.2.7' })).toEqual([a]); // domain of EHLO
    expect(await ids({ from: T0 + 1000, to: T0 + 2000 })).toEqual([c, b]);
    const first = await telemetry.history.traces({ limit: 3 });
    expect(first.items.map((t) => t.id)).toEqual([d, c, b]);
    const rest = await telemetry.history.traces({ limit: 3, cursor: first.cursor as string });
    expect(rest.items.map((t) => t.id)).toEqual([a]);
    expect(rest.cursor).toBeUndefined();
  });

  it('keeps at most `capacity` traces and drops those older than maxAge', async () => {
    const { telemetry, tick } = setup({ traces: { capacity: 2, maxAge: 10_000 } });
    const ids: number[] = [];
    for (const q of [1, 2, 3]) {
      await tick(1000);
      ids.push(delivery(telemetry, q, 'b@y.test', 'mx.y.test'));
    }
    await telemetry.flush();
    expect((await telemetry.history.traces()).items.map((t) => t.id)).toEqual([ids[2], ids[1]]);
    expect(await telemetry.history.trace(ids[0] as number)).toBeUndefined();
    await tick(9_500);
    await telemetry.history.purge();
    expect((await telemetry.history.traces()).items.map((t) => t.id)).toEqual([ids[2]]);
  });

  it('expires a long span by its start time even when it ended after newer ones', async () => {
    const { telemetry, tick } = setup({ traces: { maxAge: 10_000 } });
    const long = telemetry.span('delivery.attempt-start', { queueId: 1, from: 'a@x.test', to: ['b@y.test'] });
    await tick(5000);
    const short = delivery(telemetry, 2, 'c@y.test', 'mx.y.test');
    await tick(1000);
    long.end();
    await telemetry.flush();
    expect((await telemetry.history.traces()).items.map((t) => t.id)).toEqual([short, long.id]);
    await tick(4500);
    await telemetry.history.purge();
    expect((await telemetry.history.traces()).items.map((t) => t.id)).toEqual([short]);
    expect(await telemetry.history.trace(long.id)).toBeUndefined();
  });

  it('bounds open spans: the oldest is dropped past maxOpenSpans', async () => {
    const { telemetry } = setup({ traces: { maxOpenSpans: 2 } });
    const spans = [1, 2, 3].map((q) =>
      telemetry.span('delivery.attempt-start', { queueId: q, from: 'a@x.test', to: ['b@y.test'] }),
    );
    await telemetry.flush();
    expect(telemetry.history.stats()).toMatchObject({ openSpans: 2, abandonedSpans: 1 });
    for (const s of spans) s.end();
    await telemetry.flush();
    expect((await telemetry.history.traces()).items.map((t) => t.id)).toEqual([spans[2]?.id, spans[1]?.id]);
  });

  it('records nothing when traces are off', async () => {
    const { telemetry } = setup({ traces: false });
    delivery(telemetry, 1, 'b@y.test', 'mx.y.test');
    await telemetry.flush();
    expect((await telemetry.history.traces()).items).toEqual([]);
  });
});
