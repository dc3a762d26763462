import { describe, expect, it } from 'vitest';
import { listen, telemetryApp } from '../../examples/frameworks/hono.js';
import { describeRecipe, PREFIX, recipeTelemetry } from './recipe.js';

describeRecipe('Hono 4, fetch shape on @hono/node-server', (handlers) => listen(telemetryApp(handlers, 'fetch')));
describeRecipe('Hono 4, node shape on @hono/node-server', (handlers) => listen(telemetryApp(handlers, 'node')));

describe('Hono 4, fetch shape without a server (app.fetch, as on Bun or Deno)', () => {
  it('answers the scrape, the dashboard and 404 from app.fetch(request)', async () => {
    const telemetry = recipeTelemetry();
    const app = telemetryApp(telemetry.handlers, 'fetch');
    telemetry.emit('auth.success', { accountName: 'postmaster' });
    const scrape = await app.fetch(new Request(`http://127.0.0.1${PREFIX}/metrics`));
    expect(scrape.status).toBe(200);
    expect((await scrape.text()).split('\n')).toContain('mail_auth_success_total 1');
    const page = await app.fetch(new Request(`http://127.0.0.1${PREFIX}/dashboard`));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect((await app.fetch(new Request('http://127.0.0.1/elsewhere'))).status).toBe(404);
  });
});
