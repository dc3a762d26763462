/**
 * `attributes: 'catalogue' | 'semconv' | 'both'`: the names of the otel tracer's span, span event
 * and log record attributes, through a real SDK (in-memory exporters).
 */
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OtelAttributeNames } from '../../src/otel.js';
import { CONNECTION, make } from '../support/telemetry.js';

async function run(attributes: OtelAttributeNames | undefined) {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const logs = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: logs })] });
  const telemetry = make({
    tracers: [
      { type: 'otel', level: 'debug', tracerProvider, loggerProvider, ...(attributes === undefined ? {} : { attributes }) },
    ],
  });
  const session = telemetry.span('smtp.connection-start', { ...CONNECTION, localIp: '198.51.100.25' });
  session.emit('smtp.ehlo', { domain: 'client.example.org' });
  session.end();
  const attempt = telemetry.span('delivery.attempt-start', { queueId: 7 });
  attempt.emit('delivery.connect', {
    hostname: 'mx.example.net',
    remoteIp: '203.0.113.5',
    remotePort: 25,
    localIp: '198.51.100.25',
  });
  attempt.emit('delivery.connect', { remoteIp: '203.0.113.6' });
  attempt.end();
  telemetry.emit('auth.failed', { remoteIp: '192.0.2.99' }); // outside any span: a connection in
  telemetry.emit('acme.auth-start', { hostname: 'mx.example.org', url: 'https://acme.example/authz/1' });
  await telemetry.flush();
  const span = (name: string) => spans.getFinishedSpans().find((s) => s.name === name);
  const record = (name: string) => logs.getFinishedLogRecords().find((r) => r.eventName === name);
  const result = {
    smtp: span('smtp.connection-start')?.attributes,
    connect: span('delivery.attempt-start')?.events[0]?.attributes,
    connectByIp: span('delivery.attempt-start')?.events[1]?.attributes,
    ehloLog: record('smtp.ehlo')?.attributes,
    connectLog: record('delivery.connect')?.attributes,
    authLog: record('auth.failed')?.attributes,
    acmeLog: record('acme.auth-start')?.attributes,
  };
  await tracerProvider.shutdown();
  await loggerProvider.shutdown();
  return result;
}

const SERVER = {
  'client.address': '192.0.2.10',
  'client.port': CONNECTION.remotePort,
  'server.port': 25,
  'network.peer.address': '192.0.2.10',
  'network.peer.port': CONNECTION.remotePort,
  'network.local.address': '198.51.100.25',
  'network.local.port': 25,
};
const CLIENT = {
  'server.address': 'mx.example.net',
  'server.port': 25,
  'network.peer.address': '203.0.113.5',
  'network.peer.port': 25,
  'network.local.address': '198.51.100.25',
};
const CATALOGUE_NETWORK = ['remoteIp', 'remotePort', 'localIp', 'localPort', 'hostname', 'url'];

const keys = (attributes: object | undefined) => Object.keys(attributes ?? {});

describe('the otel tracer’s attribute names', () => {
  it('are the catalogue’s by default', async () => {
    const out = await run(undefined);
    expect(out.smtp).toMatchObject({ ...CONNECTION, localIp: '198.51.100.25' });
    expect(keys(out.smtp).some((k) => k.includes('.'))).toBe(false);
    expect(out.connect).toEqual({
      hostname: 'mx.example.net',
      remoteIp: '203.0.113.5',
      remotePort: 25,
      localIp: '198.51.100.25',
    });
    expect(keys(out.ehloLog)).not.toContain('client.address');
  });

  it('semconv: semantic-convention names in place of the catalogue’s, by span kind', async () => {
    const out = await run('semconv');
    // A connection in: the remote end is the client, the local port the server's.
    expect(out.smtp).toEqual({ ...SERVER, listenerId: 'smtp', spanId: expect.any(Number), elapsed: 0 });
    // A delivery attempt out: the remote end is the server, named by the MX host name.
    expect(out.connect).toEqual(CLIENT);
    // No host name: the server is named by its address.
    expect(out.connectByIp).toEqual({ 'server.address': '203.0.113.6', 'network.peer.address': '203.0.113.6' });
    // Outside a delivery, a host name is not the peer's: it stays as it is; a URL is url.full.
    expect(out.acmeLog).toEqual({
      hostname: 'mx.example.org',
      'url.full': 'https://acme.example/authz/1',
      'event.name': 'acme.auth-start',
    });
    // Log records carry the event's keys merged with its span's, under the same names.
    expect(out.ehloLog).toEqual({
      ...SERVER,
      listenerId: 'smtp',
      spanId: expect.any(Number),
      domain: 'client.example.org',
      'event.name': 'smtp.ehlo',
    });
    expect(out.connectLog).toMatchObject({ ...CLIENT, queueId: 7, 'event.name': 'delivery.connect' });
    expect(out.authLog).toEqual({
      'client.address': '192.0.2.99',
      'network.peer.address': '192.0.2.99',
      'event.name': 'auth.failed',
    });
    for (const attributes of Object.values(out)) {
      for (const key of CATALOGUE_NETWORK) if (attributes !== out.acmeLog) expect(keys(attributes)).not.toContain(key);
    }
  });

  it('both: the catalogue’s names and the semantic-convention names side by side', async () => {
    const out = await run('both');
    expect(out.smtp).toEqual({ ...CONNECTION, localIp: '198.51.100.25', ...SERVER, spanId: expect.any(Number), elapsed: 0 });
    expect(out.connect).toEqual({
      hostname: 'mx.example.net',
      remoteIp: '203.0.113.5',
      remotePort: 25,
      localIp: '198.51.100.25',
      ...CLIENT,
    });
    expect(out.authLog).toMatchObject({ remoteIp: '192.0.2.99', 'client.address': '192.0.2.99' });
  });

  it('semconv: hostile values keep their names and never throw into emit', async () => {
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const telemetry = make({ tracers: [{ type: 'otel', tracerProvider, attributes: 'semconv' }] });
    await fc.assert(
      fc.asyncProperty(fc.anything({ withBigInt: true, withDate: true, withMap: true, withTypedArray: true }), async (value) => {
        spans.reset();
        const getter = Object.defineProperty({ ...CONNECTION }, 'localIp', {
          enumerable: true,
          get() {
            throw new Error('no');
          },
        });
        const session = telemetry.span('smtp.connection-start', { ...CONNECTION, remoteIp: value } as never);
        session.emit('smtp.ehlo', { domain: value, remotePort: value } as never);
        session.end();
        const other = telemetry.span('smtp.connection-start', getter as never);
        other.end();
        const [first, second] = spans.getFinishedSpans();
        expect(first?.attributes.remoteIp).toBeUndefined();
        expect(first?.attributes['server.port']).toBe(25);
        expect(second?.attributes['network.local.address']).toBe('[Unreadable]');
      }),
      { numRuns: 100 },
    );
    await tracerProvider.shutdown();
  });

  it('refuses a name set it does not know, naming the option', () => {
    expect(() => make({ tracers: [{ type: 'otel', attributes: 'otel' as never }] })).toThrow(
      /tracers\[0\]\.attributes: expected "catalogue", "semconv" or "both", got "otel"/,
    );
  });
});
