/**
 * Hostile values through every consumer at once: each run emits innocent events around values that
 * JSON.stringify, String() or a prototype merge choke on. The emitter never throws, the process never
 * sees an uncaught exception or unhandled rejection, every output parses, and every innocent event
 * arrives everywhere.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '../../src/index.js';
import { SqliteHistoryStore } from '../../src/sqlite.js';
import { hostileScalars, hostileValue } from '../support/hostile.js';
import { connection, listenLoopback, make } from '../support/telemetry.js';

const escaped: unknown[] = [];
const onEscape = (error: unknown) => escaped.push(error);
let dir: string;
beforeEach(() => {
  escaped.length = 0;
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  dir = mkdtempSync(join(tmpdir(), 'mail-telemetry-hostile-'));
});
afterEach(() => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
  rmSync(dir, { recursive: true, force: true });
  expect(escaped).toEqual([]);
});

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

async function everyConsumer() {
  const webhookBodies: string[] = [];
  const { origin } = await listenLoopback(async (req, res) => {
    webhookBodies.push(await body(req));
    res.writeHead(200).end();
  });
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const store = new SqliteHistoryStore({ path: ':memory:' });
  const telemetry = make({
    sensitiveKeys: ['accountName'],
    tracers: [
      { type: 'file', path: join(dir, 'text'), format: 'text', level: 'trace', maxQueue: 1_000_000 },
      { type: 'file', path: join(dir, 'json'), format: 'json', level: 'trace', maxQueue: 1_000_000 },
      { type: 'otel', tracerProvider, level: 'trace' },
    ],
    webhooks: [{ id: 'hook', url: `${origin}/hook`, signatureKey: 'k', level: 'trace' }],
    history: { store, level: 'trace', capacity: 100_000 },
  });
  const subscribed: TelemetryEvent[] = [];
  telemetry.subscribe({ events: ['*'], maxQueue: 1_000_000 }, (batch) => {
    subscribed.push(...batch);
  });
  const live = telemetry.live.events({ events: ['smtp.*', 'auth.*'] });
  return { telemetry, webhookBodies, exporter, subscribed, live };
}

function readLines(folder: string): string[] {
  return readdirSync(folder)
    .flatMap((file) => readFileSync(join(folder, file), 'utf8').split('\n'))
    .filter((line) => line.length > 0);
}

describe('hostile values through every consumer', () => {
  it('never throw into the emitter, keep every output valid and lose no innocent event', async () => {
    const { telemetry, webhookBodies, exporter, subscribed, live } = await everyConsumer();
    const emit = (telemetry.emit as (name: string, data?: unknown) => void).bind(telemetry);
    const liveSeen: string[] = [];
    const reading = (async () => {
      for await (const event of live) {
        if (event.type === 'smtp.quit') liveSeen.push(String(event.data.domain));
      }
    })();
    const values = [...hostileScalars(), ...fc.sample(hostileValue(), { numRuns: 60, seed: 42 })];
    let innocent = 0;
    for (const value of values) {
      const marker = `innocent-${innocent++}.example`;
      const span = telemetry.span('smtp.connection-start', connection('192.0.2.1', 1));
      expect(() => {
        emit('smtp.ehlo', { spanId: span.id, domain: value, details: value });
        emit('auth.failed', { spanId: span.id, accountName: value, remoteIp: '192.0.2.1', details: value });
        emit('smtp.ehlo', value);
        emit('smtp.ehlo', () => value);
        emit('smtp.quit', { spanId: span.id, domain: marker });
        span.end();
      }).not.toThrow();
    }
    const report = await telemetry.flush(15_000);
    expect(report.complete).toBe(true);
    const markers = Array.from({ length: innocent }, (_, i) => `innocent-${i}.example`);

    // In-process subscriber: every innocent event.
    expect(subscribed.filter((e) => e.type === 'smtp.quit').map((e) => e.data.domain)).toEqual(markers);

    // Text log: one line per event, every innocent event, no forged line.
    const text = readLines(join(dir, 'text'));
    for (const line of text) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z [A-Z]+ /);
    for (const marker of markers) expect(text.some((line) => line.includes(marker))).toBe(true);

    // JSON lines: each parses, every innocent event.
    const json = readLines(join(dir, 'json')).map((line) => JSON.parse(line) as { event: string; data: { domain?: string } });
    expect(json.filter((e) => e.event === 'smtp.quit').map((e) => e.data.domain)).toEqual(markers);

    // Webhooks: each body parses, every innocent event once at least.
    const hooked = webhookBodies.flatMap(
      (b) => (JSON.parse(b) as { events: { type: string; data: { domain?: string } }[] }).events,
    );
    const hookedQuit = new Set(hooked.filter((e) => e.type === 'smtp.quit').map((e) => e.data.domain));
    for (const marker of markers) expect(hookedQuit.has(marker)).toBe(true);

    // History (sqlite store) and its handler: the answer parses and holds every innocent event.
    const page = await telemetry.history.events({ types: ['smtp.quit'], limit: 1000 });
    expect(page.items.map((e) => e.data.domain).sort()).toEqual([...markers].sort());
    const failedPage = await telemetry.history.events({ types: ['auth.failed'], limit: 1000 });
    expect(failedPage.items).toHaveLength(values.length);
    const response = await telemetry.handlers.history.fetch(
      new Request('http://127.0.0.1/api/telemetry/events?limit=1000', { headers: { authorization: 'Bearer x' } }),
    );
    expect(response.status).toBeLessThan(500);
    JSON.parse(await response.text());

    // OTel: spans were exported, and every attribute is a valid OTel value.
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBe(innocent);
    for (const span of spans) {
      for (const event of span.events) {
        for (const value of Object.values(event.attributes ?? {})) {
          expect(value === null || ['string', 'number', 'boolean'].includes(typeof value) || Array.isArray(value)).toBe(true);
        }
      }
    }

    // Live: every innocent event.
    await telemetry.shutdown(5000);
    await reading;
    expect(liveSeen).toEqual(markers);

    // Redaction held in every output: the sensitive key is written as [redacted], whatever its value.
    const failed = [
      ...json.filter((e) => e.event === 'auth.failed'),
      ...hooked.filter((e) => e.type === 'auth.failed'),
      ...failedPage.items,
    ] as { data: Record<string, unknown> }[];
    for (const event of failed) if (Object.hasOwn(event.data, 'accountName')) expect(event.data.accountName).toBe('[redacted]');
    for (const line of text.filter((l) => l.includes('(auth.failed)'))) {
      if (line.includes('accountName = ')) expect(line).toContain('accountName = "[redacted]"');
    }
  });

  it('keeps a stored hostile event from breaking the sqlite store and its handler', async () => {
    const sqliteTelemetry = make({
      history: { store: new SqliteHistoryStore({ path: ':memory:' }), level: 'trace' },
    });
    const emit = (sqliteTelemetry.emit as (name: string, data?: unknown) => void).bind(sqliteTelemetry);
    let innocent = 0;
    for (const value of hostileScalars()) {
      emit('smtp.ehlo', { domain: value, details: value });
      emit('smtp.quit', { domain: `innocent-${innocent++}.example` });
    }
    await sqliteTelemetry.flush();
    const page = await sqliteTelemetry.history.events({ types: ['smtp.quit'], limit: 1000 });
    expect(page.items).toHaveLength(innocent);
    const all = await sqliteTelemetry.history.events({ limit: 1000 });
    JSON.parse(JSON.stringify(all));
    await sqliteTelemetry.shutdown();
  });
});
