import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { listen, telemetryApp, telemetryPlugin } from '../../examples/frameworks/fastify.js';
import { describeRecipe, HISTORY_TOKEN, listen as listenEvents, PREFIX, startRecipe, until } from './recipe.js';

describeRecipe('Fastify 5, reply.hijack() in async routes', (handlers) => listen(telemetryApp(handlers, 'hijack')));
describeRecipe('Fastify 5, synchronous routes', (handlers) => listen(telemetryApp(handlers, 'sync')));

describe('Fastify 5, the wrong way: async routes without reply.hijack()', () => {
  it('never crashes the process nor leaks a stream (the late handlers leave answered responses alone); the right routes keep working', async () => {
    const failures: unknown[] = [];
    const record = (error: unknown) => failures.push(error);
    process.on('uncaughtException', record);
    process.on('unhandledRejection', record);
    try {
      const { base, telemetry } = await startRecipe(async (handlers) => {
        const app = Fastify();
        // Fastify answers as soon as each promise resolves, before the async handlers write.
        app.get('/wrong/live/tracing', async (request, reply) => handlers.liveTracing.node(request.raw, reply.raw));
        app.get('/wrong/history/*', async (request, reply) => handlers.history.node(request.raw, reply.raw));
        app.get('/wrong/metrics', async (request, reply) => handlers.prometheus.node(request.raw, reply.raw));
        app.register(telemetryPlugin(handlers), { prefix: PREFIX });
        return listen(app);
      });
      telemetry.emit('auth.success', { accountName: 'postmaster' });
      await telemetry.flush();
      const token = telemetry.live.issueToken({ scope: 'tracing' });
      for (const path of [`/wrong/live/tracing?token=${token}`, '/wrong/history/telemetry/events', '/wrong/metrics']) {
        const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${HISTORY_TOKEN}` } });
        await response.text();
      }
      // The late writers found their responses answered and left them alone: no stream stays open.
      await until(() => telemetry.live.stats().eventStreams === 0, 'no live stream left open');

      // The same process still serves the hijacked routes.
      const client = listenEvents(`${base}${PREFIX}/live/tracing?token=${token}`);
      await until(() => client.pings.length > 0 || client.errors.length > 0, 'the first ping');
      telemetry.emit('auth.success', { accountName: 'after' });
      await until(() => client.events.some((e) => e.data.accountName === 'after') || client.errors.length > 0, 'a trace frame');
      expect(client.errors).toEqual([]);
      const history = await fetch(`${base}${PREFIX}/history/telemetry/events`, {
        headers: { authorization: `Bearer ${HISTORY_TOKEN}` },
      });
      expect(history.status).toBe(200);
      await history.text();
      expect(failures).toEqual([]);
    } finally {
      process.off('uncaughtException', record);
      process.off('unhandledRejection', record);
    }
  });
});
