import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { telemetryApp as expressApp } from '../../examples/frameworks/express.js';
import { telemetryApp as fastifyApp, listen as listenFastify } from '../../examples/frameworks/fastify.js';
import { telemetryApp as honoApp, listen as listenHono } from '../../examples/frameworks/hono.js';
import { listen } from '../../examples/frameworks/node-http.js';
import { openPage, useBrowser } from '../dashboard/setup.js';
import { PREFIX, type StartRecipe, startRecipe } from './recipe.js';

useBrowser();

const connected = '[data-state="connected"]';

describe('the dashboard under a framework prefix, in headless Chromium, with no path option', () => {
  it.each<[string, StartRecipe]>([
    ['Express 5 behind compression()', (handlers) => listen(createServer(expressApp(handlers, { compress: true })))],
    ['Fastify 5', (handlers) => listenFastify(fastifyApp(handlers))],
    ['Hono 4 (fetch shape)', (handlers) => listenHono(honoApp(handlers))],
  ])('%s: the page reads both streams beside it and shows a live event', async (_name, start) => {
    const { base, telemetry } = await startRecipe(start);
    const tracing = telemetry.live.issueToken({ scope: 'tracing' });
    const metrics = telemetry.live.issueToken({ scope: 'metrics' });
    const { page, log } = await openPage(`${base}${PREFIX}/dashboard#token=${tracing}&token=${metrics}`);
    await page.locator(`#trace-state${connected}[data-path="${PREFIX}/live/tracing"]`).waitFor();
    await page.locator(`#metrics-state${connected}[data-path="${PREFIX}/live/metrics"]`).waitFor();
    telemetry.emit('auth.success', { accountName: 'postmaster' });
    await page.locator('#rows tr', { hasText: 'accountName=postmaster' }).waitFor();
    expect(log.violations).toEqual([]);
    expect(log.errors).toEqual([]);
  });
});
