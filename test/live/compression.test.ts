import compression from 'compression';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { listenLoopback, make } from '../support/telemetry.js';
import { listen, traced, until } from './server.js';

/** An Express 5 app that gzips everything it may, as many hosts set it up. */
async function compressedApp(telemetry: ReturnType<typeof make>): Promise<string> {
  const app = express();
  app.use(compression({ threshold: 0 }));
  app.get('/api/live/tracing', (req, res) => telemetry.handlers.liveTracing.node(req, res));
  app.get('/api/live/metrics', (req, res) => telemetry.handlers.liveMetrics.node(req, res));
  app.get('/page', (_req, res) => {
    res.type('text').send('x'.repeat(4096));
  });
  const { origin } = await listenLoopback(app);
  return origin;
}

describe('live streams behind Express compression()', () => {
  it('reach an eventsource client frame by frame, uncompressed', async () => {
    const telemetry = make({ live: { batchWindow: 5, pingInterval: 60_000 } });
    const origin = await compressedApp(telemetry);
    // The middleware is really active: an ordinary response comes back gzipped.
    const page = await fetch(`${origin}/page`, { headers: { 'accept-encoding': 'gzip' } });
    expect(page.headers.get('content-encoding')).toBe('gzip');
    await page.text();

    const token = telemetry.live.issueToken({ scope: 'tracing' });
    const client = listen(`${origin}/api/live/tracing?token=${token}&events=auth.*`);
    await until(() => client.ping.length === 1, 'the first ping through compression');
    telemetry.emit('auth.success', { accountName: 'alice' });
    await until(() => traced(client).length === 1, 'the first trace frame through compression');
    telemetry.emit('auth.failed', { accountName: 'mallory' });
    await until(() => traced(client).length === 2, 'the second trace frame through compression');
    expect(traced(client).map((e) => e.type)).toEqual(['auth.success', 'auth.failed']);
    expect(client.errors).toEqual([]);
  });

  it('mark streams no-transform so that compression leaves them alone', async () => {
    const telemetry = make({ live: { pingInterval: 60_000 } });
    const origin = await compressedApp(telemetry);
    const controller = new AbortController();
    const token = telemetry.live.issueToken({ scope: 'metrics' });
    const response = await fetch(`${origin}/api/live/metrics?token=${token}`, {
      headers: { 'accept-encoding': 'gzip, deflate, br' },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store, no-transform');
    expect(response.headers.get('content-encoding')).toBeNull();
    const reader = response.body?.getReader();
    const first = await reader?.read();
    // Plain text on the wire, not gzip: the ping (and perhaps the first metrics frame) as sent.
    expect(new TextDecoder().decode(first?.value).startsWith('event: ping\ndata: {"interval":60000}\n\n')).toBe(true);
    controller.abort();
    await until(() => telemetry.live.stats().sse === 0, 'the stream to close');
  });
});
