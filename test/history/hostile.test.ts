import { connect } from 'node:net';
import fc from 'fast-check';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventRing } from '../../src/history/event-ring.js';
import { resolveEventQuery } from '../../src/history/query.js';
import {
  defineEvents,
  type HistoryEvent,
  type HistoryRecords,
  type HistoryStore,
  MemoryHistoryStore,
  TelemetryConfigError,
  type TelemetryEvent,
} from '../../src/index.js';
import { SqliteHistoryStore } from '../../src/sqlite.js';
import { connection, listenLoopback, make, makeWithEvents } from '../support/telemetry.js';

type Telemetry = ReturnType<typeof make>;

// Every test here also proves that nothing escaped as an unhandled rejection or exception.
const escaped: unknown[] = [];
const onEscape = (error: unknown) => escaped.push(error);
beforeAll(() => {
  process.on('unhandledRejection', onEscape);
  process.on('uncaughtException', onEscape);
});
afterAll(() => {
  process.off('unhandledRejection', onEscape);
  process.off('uncaughtException', onEscape);
  expect(escaped).toEqual([]);
});

/** Lets pending callbacks, promise jobs and socket events run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** The values a host may put in event data that JSON cannot hold or that throw when read. */
function hostileValues(): Record<string, unknown> {
  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;
  let deep: Record<string, unknown> = { bottom: true };
  for (let i = 0; i < 20_000; i++) deep = { next: deep };
  const getter = Object.defineProperty({}, 'secret', {
    enumerable: true,
    get() {
      throw new Error('getter exploded');
    },
  });
  const toJSON = {
    toJSON() {
      throw new Error('toJSON exploded');
    },
  };
  const circularArray: unknown[] = ['a'];
  circularArray.push(circularArray);
  return {
    circular,
    deep,
    getter,
    toJSON,
    bigint: 12345678901234567890n,
    invalidDate: new Date(Number.NaN),
    circularArray,
  };
}

/** Untyped emit: the hostile values are not what the typed API accepts. */
function emit(telemetry: Telemetry, data: Readonly<Record<string, unknown>>): void {
  (telemetry.emit as (name: string, data: unknown) => void)('queue.message-queued', data);
}

/** Innocent events framing one hostile event per kind, each kind in `details` and in an indexed key. */
function emitFramed(telemetry: Telemetry): { innocent: string[]; hostile: string[] } {
  const innocent: string[] = [];
  const hostile: string[] = [];
  let n = 0;
  const innocentOne = () => {
    const queueId = `innocent-${n++}`;
    innocent.push(queueId);
    emit(telemetry, { queueId, from: 'alice@example.org' });
  };
  innocentOne();
  for (const [kind, value] of Object.entries(hostileValues())) {
    hostile.push(`hostile-${kind}`);
    emit(telemetry, { queueId: `hostile-${kind}`, details: value, to: value });
    innocentOne();
  }
  return { innocent, hostile };
}

/** Raw bytes on a socket, so no client library tidies the request target first. */
function rawRequest(origin: string, target: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      resolve({ status, body });
    });
  });
}

/** The body of a chunked or plain HTTP/1.1 response. */
function dechunk(body: string): string {
  if (!/^[0-9a-f]+\r\n/i.test(body)) return body;
  let out = '';
  let rest = body;
  for (let m = /^([0-9a-f]+)\r\n/i.exec(rest); m !== null && m[1] !== '0'; m = /^([0-9a-f]+)\r\n/i.exec(rest)) {
    const size = Number.parseInt(m[1] as string, 16);
    out += rest.slice(m[0].length, m[0].length + size);
    rest = rest.slice(m[0].length + size + 2);
  }
  return out;
}

interface EventsBody {
  data: { items: { type: string; data: Record<string, unknown> }[]; cursor?: string };
}

describe('the history handler against malformed requests', () => {
  it('answers 400 to targets that are no URL or hold a broken escape, and the server stays up', async () => {
    const telemetry = make({ history: { authorize: () => true } });
    emit(telemetry, { queueId: 'q1' });
    await telemetry.flush();
    const { origin } = await listenLoopback((req, res) => telemetry.handlers.history.node(req, res));
    const targets = [
      'http://a:99999/x',
      '//[',
      'http://[zz]/',
      '/api/telemetry/trace/%E0%A4%A',
      '/api/telemetry/events?filter=%E0%A4%A',
      '/api/telemetry/events?%zz=1',
      '/api/telemetry/traces?type=%',
    ];
    for (const target of targets) {
      const { status, body } = await rawRequest(origin, target);
      expect(status, target).toBe(400);
      const problem = JSON.parse(dechunk(body)) as { status: number; detail: string };
      expect(problem.status, target).toBe(400);
    }
    const response = await fetch(`${origin}/api/telemetry/events`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as EventsBody).data.items).toHaveLength(1);
    await settle();
    expect(escaped).toEqual([]);
  });

  it('answers 400 in the fetch shape too, even for a request object that throws when read', async () => {
    const telemetry = make({ history: { authorize: () => true } });
    const broken = await telemetry.handlers.history.fetch(new Request('http://x/api/telemetry/trace/%E0%A4%A'));
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { detail: string }).detail).toContain('percent-encoding');
    const hostile = {
      get url(): string {
        throw new Error('no url');
      },
      method: 'GET',
    } as unknown as Request;
    const response = await telemetry.handlers.history.fetch(hostile);
    expect(response.status).toBe(400);
    expect(JSON.parse(await response.text())).toMatchObject({ status: 400 });
  });

  it('answers 500 without cause or stack when authorize or the store fails, and reports the cause', async () => {
    const failing: HistoryStore = {
      append: () => undefined,
      events: () => {
        throw new Error('SQLITE_CORRUPT at /srv/secret/path password=hunter2');
      },
      traces: () => ({ items: [] }),
      trace: () => undefined,
      series: () => [],
      purge: () => undefined,
    };
    let calls = 0;
    const telemetry = make({
      history: {
        store: failing,
        authorize: () => {
          calls++;
          if (calls === 1) throw new Error('session store down, token=abc');
          return true;
        },
      },
    });
    const reports: TelemetryEvent[] = [];
    telemetry.on('telemetry.subscriber-error', (event) => reports.push(event));
    for (let i = 0; i < 2; i++) {
      const response = await telemetry.handlers.history.fetch(new Request('http://x/api/telemetry/events'));
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(text).not.toMatch(/hunter2|secret|token|session|at .*:\d+/);
      expect(JSON.parse(text)).toMatchObject({ status: 500, title: 'Internal error' });
    }
    await telemetry.flush();
    expect(reports.map((e) => e.data.reason)).toEqual([
      'session store down, token=abc',
      'SQLITE_CORRUPT at /srv/secret/path password=hunter2',
    ]);
  });
});

describe('the history handler and a response the host already answered', () => {
  it('writes nothing and throws nothing when called after the response ended', async () => {
    const telemetry = make({ history: { authorize: () => true } });
    emit(telemetry, { queueId: 'q1' });
    const thrown: unknown[] = [];
    const { origin } = await listenLoopback((req, res) => {
      res.end('answered by the host');
      try {
        telemetry.handlers.history.node(req, res);
      } catch (error) {
        thrown.push(error);
      }
    });
    const response = await fetch(`${origin}/api/telemetry/events`);
    expect(await response.text()).toBe('answered by the host');
    await settle();
    expect(thrown).toEqual([]);
    expect(escaped).toEqual([]);
  });

  it('writes nothing when a timeout middleware answers while the history is still reading', async () => {
    const telemetry = make({
      history: { authorize: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 10)) },
    });
    const { origin } = await listenLoopback((req, res) => {
      telemetry.handlers.history.node(req, res);
      res.writeHead(503).end('timed out');
    });
    const response = await fetch(`${origin}/api/telemetry/events`);
    expect(response.status).toBe(503);
    await settle();
    expect(escaped).toEqual([]);
  });
  it('writes nothing after a Fastify async route already replied', async () => {
    const telemetry = make({ history: { authorize: () => true } });
    const app = Fastify();
    app.get('/api/*', async (request, reply) => {
      telemetry.handlers.history.node(request.raw, reply.raw);
      return { answeredBy: 'fastify' };
    });
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const response = await fetch(`${origin}/api/telemetry/events`);
      expect(await response.json()).toEqual({ answeredBy: 'fastify' });
      await settle();
      expect(escaped).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describe('hostile event data in the history', () => {
  it('memory store: every answer parses, every innocent event is there, the hostile ones carry markers', async () => {
    const telemetry = make({ history: { authorize: () => true } });
    const { innocent, hostile } = emitFramed(telemetry);
    await telemetry.flush();
    const { origin } = await listenLoopback((req, res) => telemetry.handlers.history.node(req, res));
    for (const query of ['', '?filter=alice', '?filter=zzz', '?to~=a', '?queueId=innocent-3', '?details~=loop']) {
      for (let i = 0; i < 2; i++) {
        const response = await fetch(`${origin}/api/telemetry/events${query}`);
        expect(response.status, query).toBe(200);
        const body = JSON.parse(await response.text()) as EventsBody;
        const ids = body.data.items.map((e) => e.data.queueId);
        if (query === '') expect(ids.sort()).toEqual([...innocent, ...hostile].sort());
        if (query === '?filter=alice') expect(ids.sort()).toEqual([...innocent].sort());
        if (query === '?queueId=innocent-3') expect(ids).toEqual(['innocent-3']);
      }
    }
    const all = (await (await fetch(`${origin}/api/telemetry/events`)).json()) as EventsBody;
    const byId = new Map(all.data.items.map((e) => [e.data.queueId, e.data]));
    expect(byId.get('hostile-circular')?.details).toEqual({ name: 'loop', self: '[Circular]' });
    expect(byId.get('hostile-getter')?.details).toEqual({ secret: '[Unreadable]' });
    expect(byId.get('hostile-toJSON')?.details).toBe('[Unreadable]');
    expect(byId.get('hostile-bigint')?.details).toBe('12345678901234567890');
    expect(JSON.stringify(byId.get('hostile-deep'))).toContain('[TooDeep]');
    expect(telemetry.history.stats().rejectedEvents).toBe(0);
    expect(escaped).toEqual([]);
  });

  it('sqlite store through the history: the batch survives, every innocent event is stored', async () => {
    const store = new SqliteHistoryStore(':memory:');
    const telemetry = make({ history: { store, authorize: () => true } });
    const { innocent, hostile } = emitFramed(telemetry);
    emit(telemetry, { queueId: 'retry', nextRetry: new Date(Number.NaN), causedBy: 5n });
    await telemetry.flush();
    const response = await telemetry.handlers.history.fetch(new Request('http://x/api/telemetry/events?limit=1000'));
    expect(response.status).toBe(200);
    const body = JSON.parse(await response.text()) as EventsBody;
    const ids = body.data.items.map((e) => e.data.queueId);
    expect(ids.sort()).toEqual([...innocent, ...hostile, 'retry'].sort());
    expect(body.data.items.find((e) => e.data.queueId === 'retry')?.data).toMatchObject({
      nextRetry: '[InvalidDate]',
      causedBy: '5',
    });
    const text = await telemetry.history.events({ text: 'loop' });
    expect(text.items.map((e) => e.data.queueId)).toEqual(['hostile-circular']);
    expect(store.rejected).toBe(0);
  });

  it('sqlite store: an event that cannot be read costs itself alone, counted in the result', () => {
    const store = new SqliteHistoryStore(':memory:');
    try {
      const events = [...framedRecords(), unreadableEvent(9_999)];
      const result = store.append({ events });
      expect(result).toMatchObject({ rejected: 1, reason: 'data exploded' });
      expect(store.rejected).toBe(1);
      const page = store.events(resolveEventQuery({ limit: 1000 }));
      expect(page.items.map((e) => e.data.queueId).sort()).toEqual(innocentIds(events).sort());
      const indexed = store.events(resolveEventQuery({ keys: { queueId: 'hostile-indexed-date' } }));
      expect(indexed.items).toHaveLength(1);
    } finally {
      store.close();
    }
  });

  it('memory store: an event that cannot be read costs itself alone, counted in the result', () => {
    const store = new MemoryHistoryStore({ events: 100, indexKeys: ['queueId', 'to'] });
    const events = [...framedRecords(), unreadableEvent(9_999)];
    expect(store.append({ events })).toMatchObject({ rejected: 1, reason: 'data exploded' });
    expect(store.rejected).toBe(1);
    const page = store.events(resolveEventQuery({ limit: 1000 }));
    expect(page.items.map((e) => e.data.queueId).sort()).toEqual(innocentIds(events).sort());
    expect(store.events(resolveEventQuery({ text: 'nothing-matches' })).items).toEqual([]);
    expect(store.events(resolveEventQuery({ keys: { to: { contains: 'a' } } })).items.length).toBeGreaterThan(0);
  });

  it('the history counts a refused event and reports it, and keeps the rest of the batch', async () => {
    const inner = new SqliteHistoryStore(':memory:');
    // Swaps one event for an unreadable one on its way in, as a host object with a throwing getter would be.
    const store: HistoryStore = {
      append: (records: HistoryRecords) =>
        inner.append({
          ...records,
          events: (records.events ?? []).map((e) => (e.data.queueId === 'poison' ? unreadableEvent(e.id) : e)),
        }),
      events: (q) => inner.events(q),
      traces: (q) => inner.traces(q),
      trace: (id) => inner.trace(id),
      series: (q) => inner.series(q),
      purge: (r, now) => inner.purge(r, now),
      close: () => inner.close(),
    };
    const telemetry = make({ history: { store } });
    const reports: TelemetryEvent[] = [];
    telemetry.on('telemetry.subscriber-error', (event) => reports.push(event));
    emit(telemetry, { queueId: 'before' });
    emit(telemetry, { queueId: 'poison' });
    emit(telemetry, { queueId: 'after' });
    await telemetry.flush();
    const page = await telemetry.history.events({ types: ['queue.*'] });
    expect(page.items.map((e) => e.data.queueId)).toEqual(['after', 'before']);
    expect(telemetry.history.stats().rejectedEvents).toBe(1);
    await telemetry.flush();
    expect(reports).toHaveLength(1);
    expect(reports[0]?.data).toMatchObject({ id: 'history', reason: 'data exploded', total: 1 });
  });

  it('span traces with hostile events are stored and served as valid JSON (memory and sqlite)', async () => {
    for (const store of [undefined, new SqliteHistoryStore(':memory:')]) {
      const telemetry = make({ history: { ...(store === undefined ? {} : { store }), authorize: () => true } });
      const span = telemetry.span('delivery.attempt-start', { queueId: 5, from: 'a@example.org', to: ['b@example.org'] });
      for (const value of Object.values(hostileValues()))
        (span.emit as (name: string, data: unknown) => void)('delivery.connect', { details: value, hostname: 'mx.example' });
      span.end();
      await telemetry.flush();
      const response = await telemetry.handlers.history.fetch(new Request(`http://x/api/telemetry/trace/${span.id}`));
      expect(response.status).toBe(200);
      const trace = (JSON.parse(await response.text()) as { data: { events: unknown[]; queueId: string } }).data;
      expect(trace.queueId).toBe('5');
      expect(trace.events).toHaveLength(9);
      const list = await telemetry.handlers.history.fetch(
        new Request('http://x/api/telemetry/traces?values=1&filter=mx.example'),
      );
      expect(list.status).toBe(200);
      expect((JSON.parse(await list.text()) as { data: { items: unknown[] } }).data.items).toHaveLength(1);
      await telemetry.shutdown();
    }
  });
});

/** Innocent events framing hostile ones, as a store receives them. */
function framedRecords(): HistoryEvent[] {
  const out: HistoryEvent[] = [];
  let id = 1;
  const at = (queueId: string, extra: Record<string, unknown> = {}): HistoryEvent => ({
    id: id++,
    type: 'queue.message-queued',
    level: 'info',
    timestamp: 1000 + id,
    data: { queueId, to: 'a@example.org', ...extra },
  });
  out.push(at('innocent-0'));
  for (const [kind, value] of Object.entries(hostileValues())) {
    out.push(at(`hostile-${kind}`, { details: value, from: value }));
    out.push(at(`innocent-${id}`));
  }
  // An indexed key holding an invalid date, and a getter on the data object itself.
  out.push(at('hostile-indexed-date', { to: new Date(Number.NaN) }));
  const getterData = Object.defineProperty({ queueId: 'hostile-own-getter' }, 'to', {
    enumerable: true,
    get() {
      throw new Error('to exploded');
    },
  });
  out.push({ id: id++, type: 'queue.message-queued', level: 'info', timestamp: 1000 + id, data: getterData });
  out.push(at(`innocent-${id}`));
  return out;
}

function innocentIds(events: readonly HistoryEvent[]): string[] {
  return events.flatMap((e) => {
    try {
      return [e.data.queueId as string];
    } catch {
      return [];
    }
  });
}

/** An event whose data cannot be read at all. */
function unreadableEvent(id: number): HistoryEvent {
  return {
    id,
    type: 'queue.message-queued',
    level: 'info',
    timestamp: 5000,
    get data(): Readonly<Record<string, unknown>> {
      throw new Error('data exploded');
    },
  };
}

describe('own keys only', () => {
  const polluted = () => JSON.parse('{"__proto__":{"accountName":"SECRET"},"queueId":"p1"}') as Record<string, unknown>;
  const inherited = () => Object.assign(Object.create({ accountName: 'SECRET' }) as object, { queueId: 'p2' });

  it('never indexes an inherited key, in the ring or in sqlite', () => {
    const ring = new EventRing(10, ['accountName', 'queueId']);
    const sqlite = new SqliteHistoryStore({ path: ':memory:', indexKeys: ['accountName', 'queueId'] });
    try {
      const events: HistoryEvent[] = [polluted(), inherited()].map((data, i) => ({
        id: i + 1,
        type: 'auth.success',
        level: 'info',
        timestamp: 1,
        data,
      }));
      for (const e of events) ring.append(e);
      sqlite.append({ events });
      for (const keys of [{ accountName: 'SECRET' }, { accountName: { contains: 'sec' } }]) {
        expect(ring.query(resolveEventQuery({ keys })).items).toEqual([]);
        expect(sqlite.events(resolveEventQuery({ keys })).items).toEqual([]);
      }
      // Not indexed either: the scan reads own keys only.
      const memory = new MemoryHistoryStore({ events: 10, indexKeys: [] });
      memory.append({ events });
      expect(memory.events(resolveEventQuery({ keys: { accountName: 'SECRET' } })).items).toEqual([]);
      expect(memory.events(resolveEventQuery({ keys: { constructor: { contains: 'function' } } })).items).toEqual([]);
      expect(ring.query(resolveEventQuery({ keys: { queueId: 'p1' } })).items).toHaveLength(1);
    } finally {
      sqlite.close();
    }
  });

  it('through the telemetry, __proto__ stays a plain data key of the served JSON', async () => {
    const telemetry = make({ sensitiveKeys: ['accountName'], history: { authorize: () => true } });
    emit(telemetry, polluted());
    // In a span, the core merges the event's keys with the span's into a new object.
    const span = telemetry.span('smtp.connection-start', connection('192.0.2.1', 1, 'mx'));
    (span.emit as (name: string, data: unknown) => void)('smtp.mail-from', polluted());
    span.end();
    await telemetry.flush();
    expect((await telemetry.history.events({ types: ['queue.*', 'smtp.mail-from'] })).items).toHaveLength(2);
    const page = await telemetry.history.events({ keys: { accountName: 'SECRET' } });
    expect(page.items).toEqual([]);
    expect((await telemetry.history.events({ keys: { accountName: { contains: 'secret' } } })).items).toEqual([]);
    const response = await telemetry.handlers.history.fetch(
      new Request('http://x/api/telemetry/events?accountName=SECRET&constructor=x&toString=y'),
    );
    expect(response.status).toBe(200);
    expect(((await response.json()) as EventsBody).data.items).toEqual([]);
  });
});

describe('options.history.indexKeys', () => {
  it('refuses an unknown key, naming the path, the value and the likely key', () => {
    let error: unknown;
    try {
      make({ history: { indexKeys: ['queueId', 'remoteIP'] } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TelemetryConfigError);
    const message = (error as Error).message;
    expect((error as TelemetryConfigError).path).toBe('options.history.indexKeys[1]');
    expect(message).toContain('"remoteIP"');
    expect(message).toContain('did you mean "remoteIp"?');
  });

  it('accepts vocabulary keys, common keys and keys a host event declares', async () => {
    const events = defineEvents({
      'billing.invoice-sent': { id: 1000, description: 'Invoice mailed', keys: { accountId: true, amount: 'number' } },
    });
    const telemetry = makeWithEvents({ events, history: { indexKeys: ['remoteIp', 'reason', 'amount'] } });
    telemetry.emit('billing.invoice-sent', { accountId: 1, amount: 12 });
    await telemetry.flush();
    const page = await telemetry.history.events({ keys: { amount: 12 } });
    expect(page.items).toHaveLength(1);
    await telemetry.shutdown();
  });
});

/** Hostile values for the property: anything, plus the shapes JSON.stringify dies on. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }),
  fc.constantFrom(...Object.values(hostileValues())),
  fc.anything().map((inner) => {
    const loop: Record<string, unknown> = { inner };
    loop.again = [loop, inner];
    return loop;
  }),
  fc.string().map((text) =>
    Object.defineProperty({ text }, 'boom', {
      enumerable: true,
      get() {
        throw new Error(text);
      },
    }),
  ),
);

describe('property: hostile values through the stores and the handler', () => {
  it('every page parses, every innocent event is there, nothing escapes', async () => {
    const sqlite = new SqliteHistoryStore(':memory:');
    const memory = new MemoryHistoryStore({ events: 100_000, indexKeys: ['queueId', 'to', 'details'] });
    const stores = [memory, sqlite].map((store) => ({ store, handler: handlerOver(store) }));
    let nextId = 1;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(hostile, { minLength: 1, maxLength: 6 }), fc.string({ maxLength: 5 }), async (values, text) => {
          const events: HistoryEvent[] = [];
          const innocent: string[] = [];
          for (const value of values) {
            const queueId = `innocent-${nextId}`;
            innocent.push(queueId);
            events.push({ id: nextId++, type: 'queue.message-queued', level: 'info', timestamp: nextId, data: { queueId } });
            events.push({
              id: nextId++,
              type: 'queue.message-queued',
              level: 'info',
              timestamp: nextId,
              data: { queueId: `hostile-${nextId}`, details: value, to: value },
            });
          }
          for (const { store, handler } of stores) {
            expect(store.append({ events })).toBeUndefined();
            for (const query of ['limit=10000', `filter=${encodeURIComponent(text || 'x')}`, 'details~=a', 'to=b']) {
              const response = await handler.fetch(new Request(`http://x/api/telemetry/events?${query}`));
              expect(response.status).toBe(200);
              const body = JSON.parse(await response.text()) as EventsBody;
              if (query === 'limit=10000') {
                const ids = new Set(body.data.items.map((e) => e.data.queueId));
                for (const id of innocent) expect(ids.has(id)).toBe(true);
              }
            }
          }
        }),
        { numRuns: 25 },
      );
    } finally {
      sqlite.close();
    }
    await settle();
    expect(escaped).toEqual([]);
  });
});

/** The history handler of a telemetry instance over `store`. */
function handlerOver(store: HistoryStore) {
  const telemetry = make({ history: { store: { ...bind(store), close: () => undefined }, authorize: () => true } });
  return telemetry.handlers.history;
}

function bind(store: HistoryStore): HistoryStore {
  return {
    append: () => undefined,
    events: (q) => store.events(q),
    traces: (q) => store.traces(q),
    trace: (id) => store.trace(id),
    series: (q) => store.series(q),
    purge: () => undefined,
  };
}
