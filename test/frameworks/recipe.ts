import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import type { Started } from '../../examples/frameworks/common.js';
import type { TelemetryHandlers } from '../../src/index.js';
import { make } from '../support/telemetry.js';

export const PREFIX = '/telemetry';
/** The bearer token the test history lets in. */
export const HISTORY_TOKEN = 'a history reader token';

type Telemetry = ReturnType<typeof make>;

/** Starts a recipe's real server on 127.0.0.1, port 0, with the handlers under `PREFIX`. */
export type StartRecipe = (handlers: TelemetryHandlers) => Promise<Started>;

const running: Started[] = [];
const sources: EventSource[] = [];

// After each test: clients, then servers (connections and all); `make` shuts telemetry down after that.
afterEach(async () => {
  for (const source of sources.splice(0)) source.close();
  for (const server of running.splice(0)) await server.close();
});

/** A telemetry instance with fast live frames and a history one bearer token may read; shut down after the test. */
export function recipeTelemetry(): Telemetry {
  return make({
    live: { batchWindow: 20 },
    history: { authorize: (request) => request.header('authorization') === `Bearer ${HISTORY_TOKEN}` },
  });
}

/** Starts `start` for the current test: its base URL and its telemetry. */
export async function startRecipe(start: StartRecipe): Promise<{ base: string; telemetry: Telemetry }> {
  const telemetry = recipeTelemetry();
  const server = await start(telemetry.handlers);
  running.push(server);
  return { base: server.base, telemetry };
}

/** Waits (polling) until `check` holds; fails after `timeout` ms naming `what`. */
export async function until(check: () => boolean, what: string, timeout = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** What an `eventsource` client got: pings, trace frames' events, and errors, in order. */
export interface Listener {
  readonly source: EventSource;
  readonly pings: number[];
  readonly events: { type: string; data: Record<string, unknown> }[];
  readonly errors: string[];
}

/** Opens an `eventsource` client on `url`, closed after the test. */
export function listen(url: string): Listener {
  const source = new EventSource(url);
  sources.push(source);
  const listener: Listener = { source, pings: [], events: [], errors: [] };
  source.addEventListener('ping', () => listener.pings.push(Date.now()));
  source.addEventListener('trace', (event) => listener.events.push(...(JSON.parse(event.data) as Listener['events'])));
  source.addEventListener('error', (event) => {
    listener.errors.push(`${event.code ?? ''} ${event.message ?? ''}`);
    // No reconnection loops in tests: a refused or ended stream stays closed.
    source.close();
  });
  return listener;
}

/**
 * The checks every recipe passes, on its real server: the scrape, a live trace frame read by the
 * `eventsource` client, the history JSON, the dashboard page, and 404 for what it does not route.
 */
export function describeRecipe(name: string, start: StartRecipe, extra: { compressed?: boolean } = {}): void {
  describe(`${name}: the five handlers under ${PREFIX}`, () => {
    it('answers the scrape with Prometheus text holding a counter that was incremented', async () => {
      const { base, telemetry } = await startRecipe(start);
      telemetry.emit('auth.success', { accountName: 'postmaster' });
      telemetry.emit('auth.success', { accountName: 'abuse' });
      const response = await fetch(`${base}${PREFIX}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      // The body is large enough for compression() to compress it: proof the middleware is in the way.
      expect(response.headers.get('content-encoding')).toBe(extra.compressed === true ? 'gzip' : null);
      const text = await response.text();
      expect(text).toMatch(/^# (HELP|TYPE) /);
      expect(text.split('\n')).toContain('mail_auth_success_total 2');
    });

    it('streams a trace frame with an event emitted after the eventsource client connected, and frees the stream', async () => {
      const { base, telemetry } = await startRecipe(start);
      telemetry.emit('auth.success', { accountName: 'before the stream' });
      const token = telemetry.live.issueToken({ scope: 'tracing' });
      const client = listen(`${base}${PREFIX}/live/tracing?token=${token}&events=auth.*`);
      await until(() => client.pings.length > 0 || client.errors.length > 0, 'the first ping');
      expect(client.errors).toEqual([]);
      telemetry.emit('auth.success', { accountName: 'postmaster' });
      await until(() => client.events.length > 0 || client.errors.length > 0, 'a trace frame');
      expect(client.errors).toEqual([]);
      expect(client.events).toEqual([expect.objectContaining({ type: 'auth.success', data: { accountName: 'postmaster' } })]);
      expect(telemetry.live.stats().eventStreams).toBe(1);
      client.source.close();
      await until(() => telemetry.live.stats().eventStreams === 0, 'the server to free the closed stream');
    });

    it('streams metric frames on the metrics stream', async () => {
      const { base, telemetry } = await startRecipe(start);
      const token = telemetry.live.issueToken({ scope: 'metrics' });
      const response = await fetch(`${base}${PREFIX}/live/metrics?token=${token}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      expect(response.headers.get('content-encoding')).toBeNull();
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toMatch(/^event: (ping|metrics)\n/);
      await reader.cancel();
    });

    it('answers the history as JSON to its reader, 401 to anyone else', async () => {
      const { base, telemetry } = await startRecipe(start);
      telemetry.emit('auth.success', { accountName: 'postmaster' });
      await telemetry.flush();
      const url = `${base}${PREFIX}/history/telemetry/events?type=auth.*`;
      const response = await fetch(url, { headers: { authorization: `Bearer ${HISTORY_TOKEN}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await response.json()) as { data: { items: { type: string; data: object }[] } };
      expect(body.data.items).toEqual([expect.objectContaining({ type: 'auth.success', data: { accountName: 'postmaster' } })]);
      const refused = await fetch(url);
      expect(refused.status).toBe(401);
      await refused.body?.cancel();
    });

    it('serves the dashboard page, which finds the streams beside itself', async () => {
      const { base } = await startRecipe(start);
      const response = await fetch(`${base}${PREFIX}/dashboard`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'sha256-/);
      const html = await response.text();
      expect(html).toMatch(/^<!doctype html>/);
      // No stream path in the page: its script looks at live/… beside /telemetry/dashboard.
      expect(html).not.toContain('data-tracing-path');
    });

    it('answers 404 to every path it does not route', async () => {
      const { base } = await startRecipe(start);
      for (const path of [`${PREFIX}/nothing-here`, `${PREFIX}/live`, `${PREFIX}`, '/metrics', '/dashboard', '/']) {
        const response = await fetch(`${base}${path}`);
        await response.body?.cancel();
        expect({ path, status: response.status }).toEqual({ path, status: 404 });
      }
    });
  });
}
