import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { connection, listenLoopback, make } from '../support/telemetry.js';

const T0 = Date.UTC(2026, 0, 1);

type Telemetry = ReturnType<typeof make>;

/** Mounts the history handler under /api on a real node:http server on 127.0.0.1. */
async function serve(telemetry: Telemetry): Promise<string> {
  const { origin } = await listenLoopback((req, res) => telemetry.handlers.history.node(req, res));
  return `${origin}/api`;
}

async function populated() {
  let now = T0;
  const telemetry = make({
    now: () => now,
    history: { level: 'debug', series: { metrics: ['queue.count', 'delivery.*'] }, authorize: () => true },
  });
  const inbound = telemetry.span('smtp.connection-start', connection('192.0.2.7', 1, 'mx'));
  inbound.emit('smtp.mail-from', { from: 'alice@example.org' });
  inbound.emit('smtp.rcpt-to', { to: 'bob@example.com' });
  inbound.emit('queue.message-queued', { queueId: 77, size: 900 });
  inbound.end();
  await telemetry.flush();
  now += 5000;
  await new Promise((resolve) => setImmediate(resolve));
  const attempt = telemetry.span('delivery.attempt-start', { queueId: 77, from: 'alice@example.org', to: ['bob@example.com'] });
  attempt.emit('delivery.connect', { hostname: 'mx.example.com', remoteIp: '203.0.113.9' });
  attempt.emit('delivery.completed', {});
  attempt.end();
  await telemetry.flush();
  now += 60_000;
  await telemetry.history.snapshot();
  return { telemetry, inbound: inbound.id, attempt: attempt.id };
}

interface Problem {
  type: string;
  status: number;
  title: string;
  detail: string;
}

describe('handlers.history over node:http (Stalwart paths and parameters)', () => {
  it('lists trace ids, or whole traces with values=1, filtered by type, queue_id, filter, before and after', async () => {
    const { telemetry, inbound, attempt } = await populated();
    const base = await serve(telemetry);
    const get = async (query: string) => {
      const response = await fetch(`${base}/telemetry/traces${query}`);
      expect(response.status, query).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      return ((await response.json()) as { data: { items: unknown[]; cursor?: string; total?: number } }).data;
    };
    // No filter: the last 24 h of the history's clock, newest first.
    expect((await get('')).items).toEqual([attempt, inbound]);
    expect((await get('?type=delivery.attempt-start')).items).toEqual([attempt]);
    expect((await get('?queue_id=77')).items).toEqual([attempt, inbound]);
    expect((await get('?filter=%22mx.example.com%22')).items).toEqual([attempt]);
    expect((await get('?filter=192.0.2.7+alice')).items).toEqual([inbound]);
    expect((await get(`?after=${(T0 + 1000) / 1000}`)).items).toEqual([attempt]);
    expect((await get(`?before=${new Date(T0 + 1000).toISOString()}`)).items).toEqual([inbound]);
    const paged = await get('?limit=1');
    expect(paged.items).toEqual([attempt]);
    // `total` (Stalwart's) counts every match, whatever the page.
    expect(paged.total).toBe(2);
    const second = await get(`?limit=1&cursor=${paged.cursor}`);
    expect(second).toMatchObject({ items: [inbound], total: 2 });
    expect((await get('?limit=1&page=2')).items).toEqual([inbound]);
    expect(await get('?limit=1&page=3')).toEqual({ items: [], total: 2 });
    expect((await get('?type=delivery.attempt-start&values=1')).total).toBe(1);
    const full = (await get('?values=1&type=delivery.attempt-start')).items as { id: number; to: string[]; events: unknown[] }[];
    expect(full[0]).toMatchObject({ id: attempt, queueId: '77', from: 'alice@example.org', to: ['bob@example.com'] });
    expect(full[0]?.events).toHaveLength(4);
    expect(full[0]).not.toHaveProperty('keywords');
  });

  it('returns one trace by id, and 404 for an unknown id', async () => {
    const { telemetry, inbound } = await populated();
    const base = await serve(telemetry);
    const response = await fetch(`${base}/telemetry/trace/${inbound}`);
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { id: number; size: number; events: { type: string }[] } };
    expect(data).toMatchObject({ id: inbound, size: 900, timestamp: T0 });
    expect(data.events.map((e) => e.type)).toEqual([
      'smtp.connection-start',
      'smtp.mail-from',
      'smtp.rcpt-to',
      'queue.message-queued',
      'smtp.connection-end',
    ]);
    const missing = await fetch(`${base}/telemetry/trace/12345`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
  });

  it('serves metric series with after, before and metrics', async () => {
    const { telemetry } = await populated();
    const base = await serve(telemetry);
    const response = await fetch(`${base}/telemetry/metrics?metrics=delivery.attempt-start,queue.count&after=${T0 / 1000}`);
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { metric: string; value: number }[] };
    const node = `${hostname()}:${process.pid}`;
    expect(data).toEqual([
      { metric: 'delivery.attempt-start', kind: 'counter', labels: {}, timestamp: T0 + 65_000, value: 1, node },
      { metric: 'queue.count', kind: 'gauge', labels: {}, timestamp: T0 + 65_000, value: 0, node },
    ]);
    const none = await fetch(`${base}/telemetry/metrics?before=${T0 / 1000}`);
    expect(((await none.json()) as { data: unknown[] }).data).toEqual([]);
    const mine = await fetch(`${base}/telemetry/metrics?metrics=queue.count&node=${encodeURIComponent(node)}`);
    expect(((await mine.json()) as { data: unknown[] }).data).toHaveLength(1);
    const other = await fetch(`${base}/telemetry/metrics?node=mx9`);
    expect(((await other.json()) as { data: unknown[] }).data).toEqual([]);
  });

  it('queries events by type, level, text, span and keys (exact key=, substring key~=)', async () => {
    const { telemetry, inbound } = await populated();
    const base = await serve(telemetry);
    const items = async (query: string) => {
      const response = await fetch(`${base}/telemetry/events${query}`);
      expect(response.status, query).toBe(200);
      return ((await response.json()) as { data: { items: { type: string; data: Record<string, unknown> }[] } }).data.items;
    };
    expect((await items('?type=smtp.mail-from,smtp.rcpt-to')).map((e) => e.type)).toEqual(['smtp.rcpt-to', 'smtp.mail-from']);
    expect((await items('?remoteIp=203.0.113.9')).map((e) => e.type)).toEqual(['delivery.connect']);
    expect((await items('?hostname~=EXAMPLE.com')).map((e) => e.type)).toEqual(['delivery.connect']);
    expect((await items(`?span_id=${inbound}&level=info`)).map((e) => e.type)).toEqual([
      'queue.message-queued',
      'smtp.rcpt-to',
      'smtp.mail-from',
    ]);
    expect((await items('?filter=bob@')).length).toBeGreaterThan(0);
    expect(await items('?limit=2')).toHaveLength(2);
    // Every event names its node (the in-memory store's: this host and process), and `node` filters by it.
    const node = `${hostname()}:${process.pid}`;
    const all = await items('');
    expect(all.every((e) => (e as { node?: string }).node === node)).toBe(true);
    expect(await items(`?node=${encodeURIComponent(node)}`)).toHaveLength(all.length);
    expect(await items('?node=mx9')).toEqual([]);
    const traces = async (query: string) =>
      ((await (await fetch(`${base}/telemetry/traces${query}`)).json()) as { data: { items: unknown[]; total: number } }).data;
    const listed = await traces(`?values=1&after=0&node=${encodeURIComponent(node)}`);
    expect(listed.total).toBeGreaterThan(0);
    expect(listed.items.every((t) => (t as { node?: string }).node === node)).toBe(true);
    expect(await traces('?after=0&node=mx9')).toEqual({ items: [], total: 0 });
  });

  it('answers bad parameters with 400 and a problem document that says what is wrong', async () => {
    const { telemetry } = await populated();
    const base = await serve(telemetry);
    const cases: [string, RegExp][] = [
      ['/telemetry/traces?limit=0', /limit: expected an integer from 1 to 10000, got "0"/],
      ['/telemetry/traces?limit=abc', /limit/],
      ['/telemetry/traces?page=0', /page/],
      ['/telemetry/traces?before=yesterday', /before: expected Unix seconds or an RFC 3339 date-time/],
      ['/telemetry/traces?values=maybe', /values/],
      ['/telemetry/traces?colour=red', /colour: unknown parameter; known: type, queue_id, filter/],
      ['/telemetry/traces?type=smtp.*', /type/],
      ['/telemetry/traces?limit=1&limit=2', /limit: given more than once/],
      ['/telemetry/traces?cursor=zzz', /cursor/],
      ['/telemetry/traces?cursor=x&page=2', /page/],
      ['/telemetry/traces?after=2000000000&before=1000000000', /from: must not be after/],
      ['/telemetry/events?level=loud', /level/],
      ['/telemetry/events?type=SMTP', /types/],
      ['/telemetry/events?remote-ip=1', /remote-ip: unknown parameter/],
      ['/telemetry/metrics?page=1', /page: unknown parameter/],
    ];
    for (const [path, detail] of cases) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      const body = (await response.json()) as Problem;
      expect(body).toMatchObject({ type: 'about:blank', status: 400, title: 'Invalid parameters' });
      expect(body.detail, path).toMatch(detail);
    }
    expect((await fetch(`${base}/telemetry/nothing`)).status).toBe(404);
    expect((await fetch(`${base}/telemetry/traces`, { method: 'POST' })).status).toBe(405);
  });

  it('works as a fetch handler too, and says when series are off', async () => {
    const telemetry = make({ history: { series: false, authorize: async () => true } });
    const handler = telemetry.handlers.history;
    const ok = await handler.fetch(new Request('http://localhost/api/telemetry/traces?filter=x'));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: { items: [], total: 0 } });
    const off = await handler.fetch(new Request('http://localhost/api/telemetry/metrics'));
    expect(off.status).toBe(404);
    expect(((await off.json()) as Problem).detail).toMatch(/series are not recorded/);
    const head = await handler.fetch(new Request('http://localhost/api/telemetry/traces?filter=x', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const disabled = make({ history: { traces: false, series: false, events: [], authorize: () => true } });
    const response = await disabled.handlers.history.fetch(new Request('http://localhost/telemetry/traces?limit=5'));
    expect(await response.json()).toEqual({ data: { items: [], total: 0 } });
  });

  it('is closed until authorize is set, and asks authorize with the request', async () => {
    const closed = make({ history: {} });
    const refused = await closed.handlers.history.fetch(new Request('http://localhost/api/telemetry/traces'));
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as Problem).detail).toMatch(/set options\.history\.authorize/);
    const off = make();
    expect((await off.handlers.history.fetch(new Request('http://localhost/api/telemetry/traces'))).status).toBe(401);

    const seen: string[] = [];
    const telemetry = make({
      history: {
        authorize: async (request) => {
          seen.push(`${request.method} ${request.url.pathname} ${request.raw instanceof Request ? 'fetch' : 'node'}`);
          const header = request.header('Authorization');
          if (header === undefined) return 401;
          return header === 'Bearer admin' ? true : 403;
        },
      },
    });
    const base = await serve(telemetry);
    expect((await fetch(`${base}/telemetry/traces`)).status).toBe(401);
    const forbidden = await fetch(`${base}/telemetry/traces`, { headers: { authorization: 'Bearer guest' } });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as Problem).title).toBe('Forbidden');
    expect((await fetch(`${base}/telemetry/traces`, { headers: { authorization: 'Bearer admin' } })).status).toBe(200);
    const viaFetch = await telemetry.handlers.history.fetch(
      new Request('http://localhost/api/telemetry/events', { headers: { authorization: 'Bearer admin' } }),
    );
    expect(viaFetch.status).toBe(200);
    expect(seen).toEqual([
      'GET /api/telemetry/traces node',
      'GET /api/telemetry/traces node',
      'GET /api/telemetry/traces node',
      'GET /api/telemetry/events fetch',
    ]);
  });
});
