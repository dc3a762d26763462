/**
 * The history is on by default: `createTelemetry()` keeps a bounded in-memory history (events,
 * message-bearing traces, metric series), `history: false` turns it off, and nothing it starts
 * keeps the process alive.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTelemetry, TelemetryConfigError } from '../../src/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mail-telemetry-default-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the default history', () => {
  it('records events, message-bearing traces and series with no options', async () => {
    const telemetry = createTelemetry();
    try {
      expect(telemetry.history.enabled).toBe(true);
      expect(telemetry.history.recordsSeries).toBe(true);
      expect(telemetry.history.seriesInterval).toBe(60_000);
      const session = telemetry.span('smtp.connection-start', {
        remoteIp: '192.0.2.7',
        remotePort: 52_144,
        listenerId: 'mx',
        localPort: 25,
      });
      session.emit('smtp.mail-from', { from: 'alice@example.org' });
      session.emit('smtp.rcpt-to', { to: ['bob@example.net'] });
      session.emit('queue.message-queued', { queueId: 'q1', size: 512 });
      session.end();
      telemetry.metrics.gauge('queue.count').set(3);
      await telemetry.flush();
      const events = await telemetry.history.events({ keys: { remoteIp: '192.0.2.7' } });
      expect(events.items.map((e) => e.type)).toEqual(['queue.message-queued', 'smtp.rcpt-to', 'smtp.mail-from']);
      const traces = await telemetry.history.traces({ queueId: 'q1' });
      expect(traces.items).toEqual([
        expect.objectContaining({ id: session.id, from: 'alice@example.org', to: ['bob@example.net'], size: 512 }),
      ]);
      await telemetry.history.snapshot();
      expect(await telemetry.history.series({ metrics: ['queue.count'] })).toEqual([
        expect.objectContaining({ metric: 'queue.count', kind: 'gauge', value: 3 }),
      ]);
    } finally {
      await telemetry.shutdown();
    }
  });

  it('wants info and above (and span starts and ends), never debug or trace events', async () => {
    const telemetry = createTelemetry();
    let called = 0;
    const data = () => {
      called++;
      return {};
    };
    try {
      expect(telemetry.enabled('smtp.ehlo')).toBe(true); // info
      expect(telemetry.enabled('imap.append')).toBe(false); // debug, and no counter wants it
      expect(telemetry.enabled('smtp.raw-input')).toBe(false); // raw I/O is never kept
      telemetry.emit('imap.append', data);
      expect(called).toBe(0);
      telemetry.emit('smtp.ehlo', data);
      expect(called).toBe(1);
    } finally {
      await telemetry.shutdown();
    }
  });

  it('is off with history: false', async () => {
    const telemetry = createTelemetry({ history: false });
    expect(telemetry.history.enabled).toBe(false);
    expect(telemetry.enabled('smtp.ehlo')).toBe(false);
    telemetry.emit('smtp.ehlo', { domain: 'x.test' });
    await telemetry.flush();
    expect(await telemetry.history.events()).toEqual({ items: [] });
    await telemetry.shutdown();
  });

  it('refuses anything but an object or false', () => {
    for (const value of [true, null, 'on', 1, ['events']]) {
      let error: unknown;
      try {
        createTelemetry({ history: value as never });
      } catch (e) {
        error = e;
      }
      expect(error, String(value)).toBeInstanceOf(TelemetryConfigError);
      expect((error as TelemetryConfigError).path).toBe('options.history');
      expect((error as Error).message).toMatch(/an object of history options, or false/);
    }
  });

  it('keeps no process alive: a host that never shuts down exits on its own', () => {
    const script = join(dir, 'exits.mts');
    writeFileSync(
      script,
      `
import { createTelemetry } from ${JSON.stringify(join(root, 'src/index.ts'))};
const telemetry = createTelemetry();
const span = telemetry.span('smtp.connection-start', { remoteIp: '192.0.2.7', remotePort: 1, listenerId: 'mx', localPort: 25 });
span.emit('queue.message-queued', { queueId: 'q1', size: 1 });
span.end();
const page = await telemetry.history.events();
console.log(JSON.stringify({ events: page.items.length }));
// No shutdown: the series and retention timer, the span sweep and the intake windows must not hold the process.
`,
    );
    const started = Date.now();
    const out = execFileSync(process.execPath, [tsx, script], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(out)).toEqual({ events: 1 });
    // Far below the 60 s series interval: only the 100 ms intake window may run to its end.
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
