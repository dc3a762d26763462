import { describe, expect, it } from 'vitest';
import { connection, make } from '../support/telemetry.js';
import { listen, serve, traced, until } from './server.js';

describe('handlers.liveTracing over node:http, read by the eventsource client', () => {
  it('answers with the SSE headers and a ping first', async () => {
    const telemetry = make({ live: { pingInterval: 25_000 } });
    const { base } = await serve(telemetry);
    const token = telemetry.live.issueToken({ scope: 'tracing' });
    const controller = new AbortController();
    const response = await fetch(`${base}/api/live/tracing?token=${token}`, { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-store, no-transform');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    const reader = response.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toBe('event: ping\ndata: {"interval":25000}\n\n');
    controller.abort();
    await until(() => telemetry.live.stats().eventStreams === 0, 'the stream to close');
  });

  it('streams events matching the query as trace frames, span keys merged in', async () => {
    const telemetry = make({ live: { batchWindow: 20 } });
    const { base } = await serve(telemetry);
    const token = telemetry.live.issueToken({ scope: 'tracing', subject: 'admin' });
    const client = listen(`${base}/api/live/tracing?token=${token}&events=smtp.*&level=info&remote-ip=192.0.2.1`);
    await until(() => client.ping.length === 1, 'the first ping');
    const wanted = telemetry.span('smtp.connection-start', connection('192.0.2.1', 40_000));
    const other = telemetry.span('smtp.connection-start', connection('198.51.100.9'));
    wanted.emit('smtp.ehlo', { domain: 'mx.example.org' });
    other.emit('smtp.ehlo', { domain: 'spam.example' });
    telemetry.emit('auth.success', { remoteIp: '192.0.2.1' }); // not selected by events
    await until(() => traced(client).length === 1, 'one traced event');
    const [event] = traced(client);
    expect(event).toMatchObject({
      type: 'smtp.ehlo',
      level: 'info',
      text: 'SMTP EHLO received',
      spanId: wanted.id,
      data: { domain: 'mx.example.org', remoteIp: '192.0.2.1', remotePort: 40_000, listenerId: 'smtp', localPort: 25 },
    });
    expect(event?.id).toMatch(/^\d+$/);
    expect(event?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(client.order[0]).toBe('ping');
  });

  it('keeps streaming a span after a match (stickiness) and matches free text', async () => {
    const telemetry = make({ live: { batchWindow: 10 } });
    const { base } = await serve(telemetry);
    const token = telemetry.live.issueToken({ scope: 'tracing' });
    const sticky = listen(`${base}/api/live/tracing?token=${token}&level=info&from=alice%40`);
    const text = listen(`${base}/api/live/tracing?token=${token}&filter=CAROL`);
    await until(() => sticky.ping.length + text.ping.length === 2, 'both pings');
    const span = telemetry.span('smtp.connection-start', connection('10.1.1.1'));
    span.emit('smtp.ehlo', { domain: 'early.example' });
    span.emit('smtp.mail-from', { from: 'alice@example.org' });
    span.emit('smtp.rcpt-to', { to: 'carol@example.org' });
    span.end();
    await until(() => traced(sticky).length === 2 && traced(text).length === 2, 'the traced events');
    expect(traced(sticky).map((e) => e.type)).toEqual(['smtp.mail-from', 'smtp.rcpt-to']);
    // The free-text stream is at the default level, debug: the span's end streams too.
    expect(traced(text).map((e) => e.type)).toEqual(['smtp.rcpt-to', 'smtp.connection-end']);
  });

  it('batches the events of one window into one frame', async () => {
    const telemetry = make({ live: { batchWindow: 200 } });
    const { base } = await serve(telemetry);
    const client = listen(`${base}/api/live/tracing?token=${telemetry.live.issueToken({ scope: 'tracing' })}&events=smtp.ehlo`);
    await until(() => client.ping.length === 1, 'the first ping');
    for (let i = 0; i < 100; i++) telemetry.emit('smtp.ehlo', { domain: `d${i}` });
    await until(() => traced(client).length === 100, '100 events');
    expect(client.trace.length).toBe(1);
    expect(traced(client).map((e) => (e.data as { domain: string }).domain)).toEqual(
      Array.from({ length: 100 }, (_, i) => `d${i}`),
    );
  });

  it('sends a ping as heartbeat while idle', async () => {
    const telemetry = make({ live: { pingInterval: 20 } });
    const { base } = await serve(telemetry);
    const client = listen(`${base}/api/live/tracing?token=${telemetry.live.issueToken({ scope: 'tracing' })}`);
    await until(() => client.ping.length >= 4, 'four pings');
    expect(client.ping.every((p) => JSON.stringify(p) === '{"interval":20}')).toBe(true);
    expect(client.trace).toEqual([]);
  });

  it('answers 400 for an unknown parameter, naming it, without echoing the token', async () => {
    const telemetry = make();
    const { base } = await serve(telemetry);
    const token = telemetry.live.issueToken({ scope: 'tracing' });
    const response = await fetch(`${base}/api/live/tracing?token=${token}&remoteipp=1`);
    expect(response.status).toBe(400);
    const body = await response.text();
    expect(body).toMatch(/query\.remoteipp.*did you mean "remoteIp"/);
    expect(body).not.toContain(token);
    const level = await fetch(`${base}/api/live/tracing?token=${token}&level=loud`);
    expect(level.status).toBe(400);
    await level.text();
    expect(telemetry.live.stats().eventStreams).toBe(0);
  });

  it('answers 503 past maxStreams and 405 to other methods', async () => {
    const telemetry = make({ live: { maxStreams: 1 } });
    const { base } = await serve(telemetry);
    const url = `${base}/api/live/tracing?token=${telemetry.live.issueToken({ scope: 'tracing' })}`;
    const client = listen(url);
    await until(() => client.ping.length === 1, 'the first ping');
    const second = await fetch(url);
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('5');
    await second.text();
    const post = await fetch(url, { method: 'POST' });
    expect(post.status).toBe(405);
    await post.text();
  });
});

describe('handlers.liveMetrics', () => {
  it('sends a ping, then Stalwart metric frames at once and every interval', async () => {
    const telemetry = make({ live: { minMetricsInterval: 10 } });
    const { base } = await serve(telemetry);
    telemetry.emit('smtp.connection-start', connection('10.0.0.1'));
    telemetry.metrics.histogram('smtp.request-time').observe(40);
    telemetry.metrics.gauge('queue.count').set(3);
    const token = telemetry.live.issueToken({ scope: 'metrics' });
    const client = listen(
      `${base}/api/live/metrics?token=${token}&metrics=smtp.connection-start,queue.count,smtp.request-time&interval=0.02`,
    );
    await until(() => client.metrics.length >= 3, 'three metric frames');
    expect(client.order.slice(0, 2)).toEqual(['ping', 'metrics']);
    expect(client.metrics[0]).toEqual([
      { metric: 'smtp.connection-start', '@type': 'Counter', count: 1 },
      { metric: 'queue.count', '@type': 'Gauge', count: 3 },
      { metric: 'smtp.request-time', '@type': 'Histogram', count: 1, sum: 40 },
    ]);
  });

  it('refuses an interval below the minimum and unknown parameters', async () => {
    const telemetry = make();
    const { base } = await serve(telemetry);
    const token = telemetry.live.issueToken({ scope: 'metrics' });
    const messages: string[] = [];
    for (const query of ['interval=0.5', 'interval=abc', 'colour=red', 'metrics=Bad%20Name']) {
      const response = await fetch(`${base}/api/live/metrics?token=${token}&${query}`);
      expect(response.status).toBe(400);
      messages.push(await response.text());
    }
    expect(messages[0]).toBe('query.interval: expected seconds, from 1 to 86400, got "0.5"\n');
    expect(messages[2]).toMatch(/query\.colour/);
    expect(telemetry.live.stats().metricStreams).toBe(0);
  });
});
