/**
 * The history handler under `stalwart: '0.15'`, at Stalwart's paths, against the bodies of
 * `v0.15.5:crates/http/src/management/enterprise/telemetry.rs` (`"traces"`: `{"data":{"items",
 * "total"}}`, with `values` one event per span, the first `delivery.attempt-start` or
 * `queue.queue-message[-authenticated]`, `JsonEventSerializer::with_spans()`; `"trace"`: the span's
 * events `with_description().with_explanation()`; `"metrics"`: `{type, id, timestamp RFC 3339,
 * value | count, sum}`) and `v0.15.5:crates/http/src/management/log.rs` (`LogEntry`), each parsed
 * with the 0.15 admin's structs (test/stalwart/parsers.ts).
 */
import { describe, expect, it } from 'vitest';
import { connection, listenLoopback, make, type Options } from '../support/telemetry.js';
import { dataOf, parseEvent015, parseList015, parseLogEntry015, parseMetric015 } from './parsers.js';

const T0 = Date.UTC(2026, 0, 1);

async function populated(options: Partial<Options> = {}) {
  let now = T0;
  const telemetry = make({
    now: () => now,
    stalwart: '0.15',
    history: { level: 'debug', series: { metrics: ['queue.count', 'delivery.*', 'queue.*'] }, authorize: () => true },
    ...options,
  });
  const inbound = telemetry.span('smtp.connection-start', connection('192.0.2.7', 1, 'mx'));
  inbound.emit('smtp.mail-from', { from: 'alice@example.org' });
  inbound.emit('smtp.rcpt-to', { to: 'bob@example.com' });
  inbound.emit('queue.message-queued', { queueId: 77, size: 900, from: 'alice@example.org', to: ['bob@example.com'] });
  inbound.end();
  await telemetry.flush();
  now += 5000;
  await new Promise((resolve) => setImmediate(resolve));
  const attempt = telemetry.span('delivery.attempt-start', { queueId: 77, from: 'alice@example.org', to: ['bob@example.com'] });
  attempt.emit('delivery.connect', { hostname: 'mx.example.com', remoteIp: '203.0.113.9' });
  attempt.emit('delivery.completed', { elapsed: 1500 });
  attempt.end();
  await telemetry.flush();
  now += 60_000;
  await telemetry.history.snapshot();
  const { origin } = await listenLoopback((req, res) => telemetry.handlers.history.node(req, res));
  const get = async (path: string): Promise<unknown> => {
    const response = await fetch(`${origin}${path}`);
    expect(response.status, path).toBe(200);
    return dataOf(await response.json());
  };
  return { telemetry, inbound: inbound.id, attempt: attempt.id, get };
}

describe('history bodies under stalwart 0.15', () => {
  it('lists span ids with total, and with values one summary event per span under 0.15 names', async () => {
    const { get, inbound, attempt } = await populated();
    // The 0.15 admin's received/delivery pages (`tracing/list.rs`): List<Event> with total.
    expect(await get('/api/telemetry/traces?page=0&limit=0')).toEqual({ items: [attempt, inbound], total: 2 });
    expect(await get('/api/telemetry/traces?limit=1&page=2')).toEqual({ items: [inbound], total: 2 });
    const received = parseList015(
      await get('/api/telemetry/traces?type=smtp.connection-start&page=1&limit=10&values=1'),
      parseEvent015,
    );
    expect(received.total).toBe(1);
    // Golden: the first queue.queue-message of the session span, with span keys and spanId.
    expect(received.items).toEqual([
      {
        createdAt: '2026-01-01T00:00:00Z',
        type: 'queue.queue-message',
        data: {
          queueId: 77,
          size: 900,
          from: 'alice@example.org',
          to: ['bob@example.com'],
          spanId: inbound,
          remoteIp: '192.0.2.7',
          remotePort: 1,
          listenerId: 'mx',
          localPort: 25,
        },
      },
    ]);
    const delivery = parseList015(await get('/api/telemetry/traces?type=delivery.attempt-start&values=1'), parseEvent015);
    expect(delivery.items.map((e) => [e.type, e.data.spanId, e.data.queueId])).toEqual([['delivery.attempt-start', attempt, 77]]);
    // A 0.15 name selects the renamed events.
    expect(await get('/api/telemetry/traces?type=queue.queue-message')).toMatchObject({ total: 0 });
  });

  it('answers trace/{id} as an array of {text, details, createdAt, type, data}, [] for an unknown span', async () => {
    const { get, inbound } = await populated();
    const events = (await get(`/api/telemetry/trace/${inbound}`)) as unknown[];
    const parsed = events.map((e, i) => parseEvent015(e, `events[${i}]`));
    // The span view (`tracing/display.rs`) needs at least two events.
    expect(parsed.map((e) => e.type)).toEqual([
      'smtp.connection-start',
      'smtp.mail-from',
      'smtp.rcpt-to',
      'queue.queue-message',
      'smtp.connection-end',
    ]);
    expect(events[1]).toEqual({
      text: 'SMTP MAIL FROM received',
      details: 'SMTP MAIL FROM received',
      createdAt: '2026-01-01T00:00:00Z',
      type: 'smtp.mail-from',
      data: { from: 'alice@example.org', remoteIp: '192.0.2.7', remotePort: 1, listenerId: 'mx', localPort: 25 },
    });
    expect(await get('/api/telemetry/trace/123456')).toEqual([]);
    expect(((await get(`/api/telemetry/trace?id=${inbound},9`)) as unknown[][]).map((a) => a.length)).toEqual([5, 0]);
  });

  it('answers metrics as {type, id, timestamp, value} and histograms as {…, count, sum}', async () => {
    const { get } = await populated();
    const points = (await get(`/api/telemetry/metrics?after=${T0 / 1000}`)) as unknown[];
    const parsed = points.map((p, i) => parseMetric015(p, `metrics[${i}]`));
    expect(parsed.length).toBeGreaterThan(0);
    expect(points).toContainEqual({ type: 'counter', id: 'queue.queue-message', timestamp: '2026-01-01T00:01:05Z', value: 1 });
    expect(points).toContainEqual({
      type: 'histogram',
      id: 'delivery.total-time',
      timestamp: '2026-01-01T00:01:05Z',
      count: 1,
      sum: 1500,
    });
  });

  it('answers /api/logs from the event ring as {items:[{timestamp, level, event, event_id, details}], total}', async () => {
    const { get } = await populated();
    const logs = parseList015(await get('/api/logs?page=1&limit=3'), parseLogEntry015);
    expect(logs.items.length).toBe(3);
    expect(logs.total).toBeGreaterThanOrEqual(3);
    const body = await get('/api/logs?filter=mx.example.com');
    parseList015(body, parseLogEntry015);
    const filtered = body as { items: unknown[] };
    // Golden: log.rs's LogEntry for the delivery.connect line.
    expect(filtered.items).toContainEqual({
      timestamp: '2026-01-01T00:00:05Z',
      level: 'INFO',
      event: 'Connected to the remote mail server',
      event_id: 'delivery.connect',
      details: expect.stringContaining('hostname = "mx.example.com"'),
    });
  });

  it('history.stalwart: false keeps the library bodies under a top-level setting', async () => {
    const { get, inbound } = await populated({
      history: { level: 'debug', authorize: () => true, stalwart: false },
    });
    const trace = (await get(`/api/telemetry/trace/${inbound}`)) as { id: unknown; events: unknown[] };
    expect(trace.id).toBe(inbound);
    expect(Array.isArray(trace.events)).toBe(true);
  });
});
