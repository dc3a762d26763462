/**
 * Live streams under `stalwart`, read by a real `eventsource` client over 127.0.0.1 and parsed
 * with the admins' structs (test/stalwart/parsers.ts):
 * - 0.15 (`v0.15.5:crates/http/src/management/enterprise/telemetry.rs`): trace items
 *   `JsonEventSerializer::with_description().with_explanation()` = `{text, details, createdAt, type,
 *   data}`, span keys merged, `spanId` left out; metric items written by hand as
 *   `{"id","type":"counter","value"}` / `{"id","type":"histogram","count","sum"}`; tokens from
 *   `live/{tracing,metrics}-token` as `{"data": token}`.
 * - 0.16 (`crates/http/src/api/telemetry.rs`, `crates/common/src/telemetry/tracers/mod.rs`):
 *   `Trace::build_trace_events` = `{event, timestamp, keyValues:[{key, value:{"@type", value}}]}`,
 *   own keys only; tokens from `/api/token/{tracing,metrics}` as text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '../../src/index.js';
import { joinItems, traceFrameOf, traceItemWriter } from '../../src/live/frames.js';
import { listen, until } from '../live/server.js';
import { CONNECTION, listenLoopback, make, type Options, type Telemetry } from '../support/telemetry.js';
import { dataOf, KEYS_015, parseEvent015, parseLiveMetric015, parseLiveMetric016, parseTraceEvent016 } from './parsers.js';

const T0 = Date.UTC(2026, 0, 31, 12, 0, 20, 456);

/** The handlers at Stalwart 0.15's and 0.16's paths on one real server. */
async function serveStalwart(telemetry: Telemetry): Promise<string> {
  const { origin } = await listenLoopback((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '';
    const h = telemetry.handlers;
    if (path.endsWith('/traces/live') || path === '/api/live/tracing') h.liveTracing.node(req, res);
    else if (path.endsWith('/metrics/live') || path === '/api/live/metrics') h.liveMetrics.node(req, res);
    else if (path.includes('token')) h.liveToken.node(req, res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  return origin;
}

function live(stalwart: '0.15' | '0.16', extra: Options = {}): Telemetry {
  let clock = T0;
  return make({
    stalwart,
    now: () => clock++,
    live: { batchWindow: 0, authorize: (req) => req.header('authorization') === 'Bearer admin' },
    ...extra,
  });
}

async function token(origin: string, path: string): Promise<{ status: number; type: string | null; body: string }> {
  const response = await fetch(`${origin}${path}`, { headers: { authorization: 'Bearer admin' } });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

function emitSession(telemetry: Telemetry): void {
  const span = telemetry.span('smtp.connection-start', CONNECTION);
  span.emit('smtp.mail-from', { from: 'alice@example.org' });
  span.emit('smtp.rcpt-to', { to: ['bob@example.net'] });
  span.emit('auth.error', { causedBy: new Error('ldap down'), reason: 'backend', nextRetry: T0 + 60_000 });
}

describe('live under stalwart 0.15', () => {
  it('issues tokens as {"data": token} behind authorize, and streams items the 0.15 admin parses', async () => {
    const telemetry = live('0.15');
    const origin = await serveStalwart(telemetry);
    expect((await fetch(`${origin}/api/telemetry/live/tracing-token`)).status).toBe(401);
    const answer = await token(origin, '/api/telemetry/live/tracing-token');
    expect(answer.type).toContain('application/json');
    const tok = dataOf(JSON.parse(answer.body));
    expect(telemetry.live.verifyToken(tok as string, 'tracing')).toBeDefined();
    const received = listen(`${origin}/api/telemetry/traces/live?token=${encodeURIComponent(tok as string)}`);
    await until(() => received.ping.length > 0, 'the first ping');
    emitSession(telemetry);
    await until(() => received.trace.flat().length >= 3, 'the trace items');
    const items = received.trace.flat().map((item, i) => parseEvent015(item, `trace[${i}]`));
    const from = received.trace.flat()[1] as Record<string, unknown>;
    // Golden: Stalwart 0.15's item for smtp.mail-from in this span (times to the second).
    expect(from).toEqual({
      text: 'SMTP MAIL FROM received',
      details: 'SMTP MAIL FROM received',
      createdAt: expect.stringMatching(/^2026-01-31T12:00:2\dZ$/),
      type: 'smtp.mail-from',
      data: { from: 'alice@example.org', ...CONNECTION },
    });
    const error = items.find((e) => e.type === 'auth.error');
    expect(error?.data).toEqual({
      causedBy: { type: 'auth.error', data: { reason: 'ldap down' } },
      reason: 'backend',
      nextRetry: '2026-01-31T12:01:20Z',
      ...CONNECTION,
    });
  });

  it('writes metric items as {id, type, value} and {id, type, count, sum}, u64, under 0.15 names', async () => {
    const telemetry = live('0.15');
    telemetry.emit('queue.message-queued', { size: 1500 });
    telemetry.metrics.histogram('delivery.total-time').observe(12.6);
    const origin = await serveStalwart(telemetry);
    const tok = dataOf(JSON.parse((await token(origin, '/api/telemetry/live/metrics-token')).body)) as string;
    const received = listen(
      `${origin}/api/telemetry/metrics/live?token=${encodeURIComponent(tok)}&interval=30&metrics=queue.queue-message,queue.count,delivery.total-time`,
    );
    await until(() => received.metrics.length > 0, 'a metrics frame');
    const items = (received.metrics[0] ?? []).map((m, i) => parseLiveMetric015(m, `metrics[${i}]`));
    expect(items.map((m) => m.id).sort()).toEqual(['delivery.total-time', 'queue.count', 'queue.queue-message']);
    expect(received.metrics[0]).toContainEqual({ id: 'queue.queue-message', type: 'counter', value: 1 });
    expect(received.metrics[0]).toContainEqual({ id: 'delivery.total-time', type: 'histogram', count: 1, sum: 13 });
  });

  it('never breaks either admin parse: host keys, nulls, errors, odd objects, hostile values (fast-check)', () => {
    const describeType = (type: string) => `about ${type}`;
    const writer015 = traceItemWriter('0.15', describeType);
    const writer016 = traceItemWriter('0.16', describeType);
    const write015 = (events: readonly TelemetryEvent[]) => traceFrameOf(joinItems(events, writer015));
    const write016 = (events: readonly TelemetryEvent[]) => traceFrameOf(joinItems(events, writer016));
    const frameItems = (frame: string): unknown[] => {
      expect(frame.startsWith('event: trace\ndata: ')).toBe(true);
      expect(frame.endsWith('\n\n')).toBe(true);
      return JSON.parse(frame.slice('event: trace\ndata: '.length, -2)) as unknown[];
    };
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string(),
          fc.anything({ withDate: true, withTypedArray: true, withBigInt: true, withNullPrototype: true }),
        ),
        fc.constantFrom(...KEYS_015),
        fc.anything(),
        (data, key, value) => {
          const hostile: Record<string, unknown> = { ...data, [key]: value, causedBy: new Error('x'), nothing: null };
          const cyclic: Record<string, unknown> = { from: 'a' };
          cyclic.self = cyclic;
          const events = [hostile, cyclic].map(
            (d, i) => ({ id: i + 1, type: 'auth.error', level: 'warn', timestamp: T0, data: d }) as unknown as TelemetryEvent,
          );
          const items015 = frameItems(write015(events));
          items015.forEach((item, i) => {
            parseEvent015(item, `item[${i}]`);
          });
          frameItems(write016(events)).forEach((item, i) => {
            parseTraceEvent016(item, `item[${i}]`);
          });
          return items015.length === 2;
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('live under stalwart 0.16', () => {
  it('issues tokens as text at /api/token/{scope}, and streams keyValues items with own keys only', async () => {
    const telemetry = live('0.16');
    const origin = await serveStalwart(telemetry);
    const answer = await token(origin, '/api/token/tracing');
    expect(answer.type).toContain('text/plain');
    const received = listen(`${origin}/api/live/tracing?token=${encodeURIComponent(answer.body)}`);
    await until(() => received.ping.length > 0, 'the first ping');
    emitSession(telemetry);
    await until(() => received.trace.flat().length >= 4, 'the trace items');
    const items = received.trace.flat().map((item, i) => parseTraceEvent016(item, `trace[${i}]`));
    // Golden: Stalwart 0.16's items (map_value): IpAddr, UnsignedInt, String, List, Event, UTCDateTime.
    expect(received.trace.flat()[0]).toEqual({
      event: 'smtp.connection-start',
      timestamp: expect.stringMatching(/^2026-01-31T12:00:2\dZ$/),
      keyValues: [
        { key: 'remoteIp', value: { '@type': 'IpAddr', value: CONNECTION.remoteIp } },
        { key: 'remotePort', value: { '@type': 'UnsignedInt', value: CONNECTION.remotePort } },
        { key: 'listenerId', value: { '@type': 'String', value: CONNECTION.listenerId } },
        { key: 'localPort', value: { '@type': 'UnsignedInt', value: CONNECTION.localPort } },
      ],
    });
    expect(items[2]?.keyValues).toEqual([
      { key: 'to', value: { '@type': 'List', value: [{ '@type': 'String', value: 'bob@example.net' }] } },
    ]);
    expect(items[3]?.keyValues).toEqual([
      {
        key: 'causedBy',
        value: {
          '@type': 'Event',
          event: 'auth.error',
          value: [{ key: 'reason', value: { '@type': 'String', value: 'ldap down' } }],
        },
      },
      { key: 'reason', value: { '@type': 'String', value: 'backend' } },
      { key: 'nextRetry', value: { '@type': 'UTCDateTime', value: '2026-01-31T12:01:20Z' } },
    ]);
  });

  it('keeps 0.16 metric items', async () => {
    const telemetry = live('0.16');
    const origin = await serveStalwart(telemetry);
    const tok = (await token(origin, '/api/token/metrics')).body;
    const received = listen(`${origin}/api/live/metrics?token=${encodeURIComponent(tok)}&metrics=queue.count`);
    await until(() => received.metrics.length > 0, 'a metrics frame');
    for (const [i, m] of (received.metrics[0] ?? []).entries()) parseLiveMetric016(m, `metrics[${i}]`);
  });

  it('live.stalwart: false keeps the library items under a top-level setting', async () => {
    const telemetry = live('0.16', { live: { stalwart: false, batchWindow: 0, authorize: () => true } });
    const origin = await serveStalwart(telemetry);
    const received = listen(`${origin}/api/live/tracing`);
    await until(() => received.ping.length > 0, 'the first ping');
    emitSession(telemetry);
    await until(() => received.trace.flat().length >= 1, 'the trace items');
    // The library's item: id, level and the span id beside Stalwart's fields.
    expect(Object.keys(received.trace.flat()[0] ?? {})).toEqual(
      expect.arrayContaining(['id', 'createdAt', 'type', 'level', 'text', 'data']),
    );
  });
});
