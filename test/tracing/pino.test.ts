import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACTED, type TelemetryEvent } from '../../src/index.js';
import { connection, make } from '../support/telemetry.js';

/** A real pino logger writing JSON lines into memory. */
function memoryLogger(level = 'trace') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe('the pino bridge', () => {
  it('forwards events with levels mapped, description as message, span keys merged and secrets redacted', async () => {
    const { logger, lines } = memoryLogger();
    const telemetry = make({
      sensitiveKeys: ['accountName'],
      tracers: [{ type: 'pino', logger, level: 'debug', events: ['smtp.*', 'auth.*', 'store.*'] }],
    });
    const span = telemetry.span('smtp.connection-start', connection('192.0.2.7', 4000));
    span.emit('smtp.ehlo', { domain: 'client.example.org' });
    telemetry.emit('auth.failed', { remoteIp: '192.0.2.7', accountName: 'alice' });
    telemetry.emit('store.sqlite-error', { reason: 'disk I/O error' });
    span.end({ elapsed: 5 });
    await telemetry.shutdown();
    await new Promise((resolve) => setImmediate(resolve));
    // pino levels: 20 debug, 30 info, 50 error
    expect(lines.map((l) => [l.event, l.level])).toEqual([
      ['smtp.connection-start', 20],
      ['smtp.ehlo', 30],
      ['auth.failed', 20],
      ['store.sqlite-error', 50],
      ['smtp.connection-end', 20],
    ]);
    const ehlo = lines[1];
    expect(ehlo).toMatchObject({
      msg: 'SMTP EHLO received',
      domain: 'client.example.org',
      remoteIp: '192.0.2.7',
      remotePort: 4000,
    });
    expect(ehlo?.spanId).toBe(lines[0]?.spanId);
    expect(lines[2]?.accountName).toBe(REDACTED);
  });

  it('leaves filtering to pino as well, and refuses something that is not a logger', async () => {
    const { logger, lines } = memoryLogger('warn');
    const telemetry = make({ tracers: [{ type: 'pino', logger, level: 'trace' }] });
    const reports: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['telemetry.*'] }, (batch) => {
      reports.push(...batch);
    });
    telemetry.emit('auth.success', { accountName: 'bob' });
    telemetry.emit('store.sqlite-error', { reason: 'locked' });
    await telemetry.shutdown();
    expect(lines.map((l) => l.event)).toEqual(['store.sqlite-error']);
    expect(reports).toEqual([]);
    expect(() => make({ tracers: [{ type: 'pino', logger: { info() {} } } as never] })).toThrow(
      /options\.tracers\[0\]\.logger: expected a pino logger/,
    );
  });
});
