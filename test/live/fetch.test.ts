import { describe, expect, it } from 'vitest';
import { make } from '../support/telemetry.js';
import { until } from './server.js';

/** Reads SSE frames from a web stream until `count` frames arrived. */
async function frames(body: ReadableStream<Uint8Array>, count: number): Promise<string[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (text.split('\n\n').length - 1 < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text.split('\n\n').filter((f) => f !== '');
}

describe('the fetch(Request) handlers', () => {
  it('stream trace frames in a ReadableStream body; cancelling frees the stream', async () => {
    const telemetry = make({ live: { batchWindow: 5, pingInterval: 60_000 } });
    const token = telemetry.live.issueToken({ scope: 'tracing' });
    const response = await telemetry.handlers.liveTracing.fetch(
      new Request(`http://mail.example/api/live/tracing?events=auth.*&token=${token}`),
    );
    expect(response.status).toBe(200);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'content-type': 'text/event-stream',
      'cache-control': 'no-store, no-transform',
      'x-accel-buffering': 'no',
    });
    const body = response.body as ReadableStream<Uint8Array>;
    expect(await frames(body, 1)).toEqual(['event: ping\ndata: {"interval":60000}']);
    telemetry.emit('auth.success', { accountName: 'alice' });
    const [trace] = await frames(body, 1);
    expect(trace).toMatch(
      /^event: trace\ndata: \[\{"id":"\d+","createdAt":"[^"]+","type":"auth.success","level":"info","text":"[^"]+","data":\{"accountName":"alice"\}\}\]$/,
    );
    expect(telemetry.live.stats()).toMatchObject({ sse: 1, eventStreams: 1 });
    await body.cancel();
    expect(telemetry.live.stats()).toMatchObject({ sse: 0, eventStreams: 0, subscriptions: 0 });
  });

  it('ends the stream when the request is aborted', async () => {
    const telemetry = make();
    const controller = new AbortController();
    const token = telemetry.live.issueToken({ scope: 'metrics' });
    const response = await telemetry.handlers.liveMetrics.fetch(
      new Request(`http://mail.example/api/live/metrics?token=${token}&metrics=queue.count`, { signal: controller.signal }),
    );
    const body = response.body as ReadableStream<Uint8Array>;
    const [ping, metrics] = await frames(body, 2);
    expect(ping).toBe('event: ping\ndata: {"interval":30000}');
    expect(metrics).toBe('event: metrics\ndata: [{"metric":"queue.count","@type":"Gauge","count":0}]');
    controller.abort();
    await until(() => telemetry.live.stats().metricStreams === 0, 'the stream to end');
    expect(telemetry.live.stats().sse).toBe(0);
  });

  it('refuses without access and opens nothing', async () => {
    const telemetry = make();
    const missing = await telemetry.handlers.liveTracing.fetch(new Request('http://mail.example/api/live/tracing'));
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="live"');
    const token = telemetry.live.issueToken({ scope: 'tracing' });
    const wrong = await telemetry.handlers.liveMetrics.fetch(new Request(`http://mail.example/api/live/metrics?token=${token}`));
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).toBe('forbidden\n');
    expect(telemetry.live.stats()).toMatchObject({ sse: 0, eventStreams: 0, metricStreams: 0 });
  });

  it('flush sends what SSE streams hold without waiting for the window; shutdown ends them', async () => {
    const telemetry = make({ live: { batchWindow: 60_000 } });
    const token = telemetry.live.issueToken({ scope: 'tracing' });
    const response = await telemetry.handlers.liveTracing.fetch(
      new Request(`http://mail.example/?token=${token}&events=smtp.ehlo`),
    );
    const body = response.body as ReadableStream<Uint8Array>;
    await frames(body, 1);
    telemetry.emit('smtp.ehlo', { domain: 'a.example' });
    // Unread, the frame stays pending: flush reports it after its timeout.
    const unread = await telemetry.flush(50);
    expect(unread).toMatchObject({ complete: false, subscribers: [{ id: 'live', pending: 1 }] });
    const reading = frames(body, 1);
    const report = await telemetry.flush(1000);
    expect(report.complete).toBe(true);
    const [trace] = await reading;
    expect(trace).toContain('"domain":"a.example"');
    telemetry.emit('smtp.ehlo', { domain: 'b.example' });
    const reading2 = frames(body, 10);
    await telemetry.shutdown(1000);
    const rest = await reading2;
    expect(rest.join('\n')).toContain('"domain":"b.example"');
    expect(telemetry.live.stats()).toMatchObject({ sse: 0, eventStreams: 0 });
  });
});
