import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { handler } from '../../src/http/handler.js';
import type { RequestHandler } from '../../src/index.js';
import { until } from '../live/server.js';
import { collectUnhandled, settle } from '../support/guards.js';
import { listenLoopback, make } from '../support/telemetry.js';
import { rawRequest, requestText } from './raw.js';

const NAMES = ['prometheus', 'liveTracing', 'liveMetrics', 'history', 'alerts', 'dashboard'] as const;

const unhandled = collectUnhandled();

function instance() {
  const telemetry = make({ live: { batchWindow: 5 }, history: { authorize: () => true } });
  const tracing = telemetry.live.issueToken({ scope: 'tracing', ttlSeconds: 600 });
  const metrics = telemetry.live.issueToken({ scope: 'metrics', ttlSeconds: 600 });
  const target = (name: (typeof NAMES)[number]) =>
    name === 'liveTracing'
      ? `/x?token=${tracing}`
      : name === 'liveMetrics'
        ? `/x?token=${metrics}`
        : name === 'history'
          ? '/api/telemetry/traces'
          : '/x';
  return { telemetry, target };
}

describe('a response someone else answered already', () => {
  it('is left alone by every handler: nothing written, nothing thrown, no rejection', async () => {
    const { telemetry, target } = instance();
    const failures: unknown[] = [];
    const { origin } = await listenLoopback((req, res) => {
      const name = req.headers['x-handler'] as (typeof NAMES)[number];
      res.writeHead(418, { 'content-type': 'text/plain', 'content-length': '21' });
      res.end('answered by the host\n');
      try {
        telemetry.handlers[name].node(req, res);
      } catch (error) {
        failures.push(error);
      }
    });
    const port = Number(new URL(origin).port);
    for (const name of NAMES) {
      const answer = await rawRequest(port, requestText('GET', target(name), [`x-handler: ${name}`]));
      expect(answer.status, name).toBe(418);
      expect(answer.body, name).toBe('answered by the host\n');
    }
    await settle();
    expect(failures).toEqual([]);
    expect(unhandled).toEqual([]);
    expect(telemetry.live.stats()).toMatchObject({ sse: 0, eventStreams: 0, metricStreams: 0 });
  });

  it('is left alone when a timeout middleware answers while the live authorize callback runs', async () => {
    let grant: (verdict: boolean) => void = () => {};
    const telemetry = make({
      live: { authorize: () => new Promise<boolean>((resolve) => (grant = resolve)) },
    });
    const { origin } = await listenLoopback((req, res) => {
      telemetry.handlers.liveTracing.node(req, res);
      // The host's timeout fires before the authorize callback answers.
      setImmediate(() => {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('timed out\n');
      });
    });
    const answer = await rawRequest(Number(new URL(origin).port), requestText('GET', '/x?events=auth.*', []));
    expect(answer.status).toBe(503);
    grant(true);
    await settle();
    expect(unhandled).toEqual([]);
    expect(telemetry.live.stats()).toMatchObject({ sse: 0, eventStreams: 0, subscriptions: 0 });
  });

  it('ends a live stream cleanly when the host ends the response mid-stream', async () => {
    const telemetry = make({ live: { batchWindow: 1, pingInterval: 60_000 } });
    const token = telemetry.live.issueToken({ scope: 'tracing' });
    let response: ServerResponse | undefined;
    const { origin } = await listenLoopback((req: IncomingMessage, res) => {
      response = res;
      telemetry.handlers.liveTracing.node(req, res);
    });
    const controller = new AbortController();
    const stream = await fetch(`${origin}/x?token=${token}`, { signal: controller.signal });
    const reader = stream.body?.getReader();
    await reader?.read();
    expect(telemetry.live.stats().sse).toBe(1);
    // A host timeout ends the response under the stream's feet, then events keep coming.
    response?.end();
    for (let i = 0; i < 20; i++) telemetry.emit('auth.success', { accountName: `user${i}` });
    await until(() => telemetry.live.stats().sse === 0, 'the stream to be released');
    await settle();
    controller.abort();
    expect(telemetry.live.stats()).toMatchObject({ eventStreams: 0, subscriptions: 0 });
    expect(unhandled).toEqual([]);
  });

  it('is left alone under a Fastify async route that answered first', async () => {
    const { telemetry, target } = instance();
    const app = Fastify({ logger: false });
    for (const name of NAMES) {
      app.get(`/${name}/*`, async (request, reply) => {
        // A careless route: hands the raw response on, then answers itself without waiting.
        telemetry.handlers[name].node(request.raw, reply.raw);
        return reply.code(202).send('fastify\n');
      });
    }
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (app.server.address() as { port: number }).port;
      for (const name of NAMES) {
        const answer = await rawRequest(port, requestText('GET', `/${name}${target(name)}`, []));
        expect(answer.status, name).toBeTypeOf('number');
      }
      await settle();
      expect(unhandled).toEqual([]);
      await until(() => telemetry.live.stats().sse === 0, 'every stream to be released');
    } finally {
      await app.close();
    }
  });
});

describe('a client that leaves', () => {
  it('before the handler runs opens nothing (its close event has passed already)', async () => {
    const telemetry = make();
    const token = telemetry.live.issueToken({ scope: 'tracing' });
    const { origin } = await listenLoopback((req, res) => {
      // The host's own async middleware outlives the client; the handler runs after the close.
      req.socket.once('close', () => setImmediate(() => telemetry.handlers.liveTracing.node(req, res)));
    });
    const port = Number(new URL(origin).port);
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(requestText('GET', `/x?token=${token}`));
      setTimeout(() => socket.destroy(), 20);
    });
    await new Promise((resolve) => socket.once('close', resolve));
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await settle();
    expect(telemetry.live.stats()).toMatchObject({ sse: 0, eventStreams: 0, subscriptions: 0 });
  });

  it('while the authorize callback runs opens nothing once it grants access', async () => {
    let grant: (verdict: boolean) => void = () => {};
    let asked = false;
    const telemetry = make({
      live: {
        authorize: () => {
          asked = true;
          return new Promise<boolean>((resolve) => (grant = resolve));
        },
      },
    });
    const { origin } = await listenLoopback((req, res) => telemetry.handlers.liveMetrics.node(req, res));
    const socket = connect(Number(new URL(origin).port), '127.0.0.1', () => socket.write(requestText('GET', '/x')));
    await until(() => asked, 'the authorize callback');
    socket.destroy();
    await settle();
    grant(true);
    await settle();
    expect(telemetry.live.stats()).toMatchObject({ sse: 0, metricStreams: 0 });
    expect(unhandled).toEqual([]);
  });
});

describe('the request/reply adapter', () => {
  it('answers a failure inside with a bare 500: no message, no stack, no secret', async () => {
    const secret = 'adapter-secret-3b9f';
    const failing: RequestHandler = handler(() => {
      throw new Error(`database password ${secret} rejected`);
    });
    const { origin } = await listenLoopback((req, res) => failing.node(req, res));
    const response = await fetch(`${origin}/x`);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('internal error\n');
    const web = await failing.fetch(new Request('http://mail.example/x'));
    expect(web.status).toBe(500);
    expect(await web.text()).toBe('internal error\n');
  });

  it('answers HEAD like GET without a body, and a malformed target with 400', async () => {
    const page = handler(() => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'hello\n' }));
    const { origin } = await listenLoopback((req, res) => page.node(req, res));
    const port = Number(new URL(origin).port);
    const head = await rawRequest(port, requestText('HEAD', '/x'));
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect((await page.fetch(new Request('http://mail.example/x', { method: 'HEAD' }))).body).toBeNull();
    for (const target of ['http://a:99999/x', '//[', 'http://[zz]/']) {
      expect((await rawRequest(port, requestText('GET', target))).status, target).toBe(400);
    }
  });
});
