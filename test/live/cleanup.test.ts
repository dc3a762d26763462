import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { make } from '../support/telemetry.js';
import { serve, until } from './server.js';

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after full collections. */
async function heap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await yieldToLoop();
  }
  return process.memoryUsage().heapUsed;
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** Opens a stream over a raw socket, waits for its first bytes, then drops the connection. */
function connectOnce(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
    socket.once('data', (chunk: Buffer) => {
      socket.destroy();
      if (chunk.toString('latin1').startsWith('HTTP/1.1 200')) resolve();
      else reject(new Error(chunk.toString('latin1').split('\r\n')[0]));
    });
    socket.on('error', reject);
  });
}

describe('clean-up', () => {
  it('10,000 connects and disconnects leave no stream, subscription, listener, timer or memory behind', async () => {
    // No default history: its intake windows are timers of its own, which this count would see.
    const telemetry = make({ history: false, live: { batchWindow: 5 } });
    const { base, server } = await serve(telemetry);
    const token = telemetry.live.issueToken({ scope: 'tracing', ttlSeconds: 3600 });
    const port = Number(new URL(base).port);
    const paths = [
      `/api/live/tracing?token=${token}`,
      `/api/live/tracing?token=${token}&events=smtp.*&level=info&remoteIp=10.0.`,
      `/api/live/tracing?token=${token}&filter=alice&level=trace`,
    ];
    const round = async (count: number) => {
      let next = 0;
      const worker = async () => {
        while (next < count) {
          const i = next++;
          telemetry.emit('smtp.ehlo', { domain: `d${i}.alice` });
          await connectOnce(port, paths[i % paths.length] as string);
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      await until(() => telemetry.live.stats().sse === 0, 'every stream to close', 10_000);
    };
    await round(300); // warm-up: lazily built caches and pools settle
    const before = { heap: await heap(), timers: timers(), listeners: server.listenerCount('request') };
    await round(10_000);
    expect(telemetry.live.stats()).toEqual({
      eventStreams: 0,
      metricStreams: 0,
      sse: 0,
      subscriptions: 0,
      buffered: 0,
      dropped: 0,
    });
    expect(telemetry.stats().subscribers.filter((s) => s.id.startsWith('live:'))).toEqual([]);
    expect(server.listenerCount('request')).toBe(before.listeners);
    expect(timers()).toBeLessThanOrEqual(before.timers);
    const growth = (await heap()) - before.heap;
    // A leaked stream costs its buffer (10,000 slots, 80 kB): 10,000 of them would be 800 MB.
    expect(growth).toBeLessThan(8 * 1024 * 1024);
  }, 60_000);

  it('a slow SSE client loses the oldest events, the server holds at most its buffer, and the client is told', async () => {
    const telemetry = make({ live: { bufferSize: 1000, batchWindow: 10 } });
    const { base } = await serve(telemetry);
    const token = telemetry.live.issueToken({ scope: 'tracing' });
    const { port } = new URL(base);
    // A raw socket that stops reading after the request: the kernel buffers fill, then ours.
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET /api/live/tracing?token=${token}&events=smtp.ehlo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    socket.pause();
    await until(() => telemetry.live.stats().sse === 1, 'the stream to open');
    const padding = 'x'.repeat(400);
    let emitted = 0;
    let maxBuffered = 0;
    while (telemetry.live.stats().dropped < 5000 && emitted < 2_000_000) {
      for (let i = 0; i < 1000; i++) telemetry.emit('smtp.ehlo', { domain: `${emitted++}.${padding}` });
      await yieldToLoop();
      maxBuffered = Math.max(maxBuffered, telemetry.live.stats().buffered);
    }
    const { dropped } = telemetry.live.stats();
    expect(dropped).toBeGreaterThanOrEqual(5000);
    expect(maxBuffered).toBeLessThanOrEqual(1000);
    // The client reads again: it gets what was kept, told how much was lost.
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text = text.length > 1_000_000 ? text.slice(-1000) + chunk : text + chunk;
    });
    socket.resume();
    telemetry.emit('smtp.ehlo', { domain: 'after' });
    await until(
      () => /event: dropped\ndata: \{"dropped":\d+,"total":\d+\}/.test(text) || text.includes('"total"'),
      'a dropped frame',
    );
    const match = /event: dropped\ndata: (\{[^\n]+\})/.exec(text);
    expect(match).not.toBeNull();
    const reported = JSON.parse(match?.[1] ?? '{}') as { dropped: number; total: number };
    expect(reported.dropped).toBeGreaterThan(0);
    expect(reported.total).toBeGreaterThanOrEqual(reported.dropped);
    socket.destroy();
    await until(() => telemetry.live.stats().sse === 0, 'the stream to close');
    expect(telemetry.live.stats().subscriptions).toBe(0);
  }, 30_000);
});
