import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { settingsFromIni } from '../../../src/adapters/haraka/config.js';
import { harakaTelemetry, plugin } from '../../../src/haraka.js';
import { TelemetryConfigError } from '../../../src/index.js';
import { collectUnhandled, settle } from '../../support/guards.js';
import { hostileValue } from '../../support/hostile.js';

const unhandled = collectUnhandled();

describe('telemetry.ini', () => {
  it('turns sections into telemetry options', () => {
    const settings = settingsFromIni({
      main: { service: 'mx1', listener_id: 'inbound', flush_timeout: '2000', sensitive_keys: 'contents, accountName' },
      levels: { 'smtp.rcpt-to': 'debug' },
      tracer: { type: 'console', format: 'json', level: 'info' },
      'tracer.file': { type: 'file', path: '/var/log/haraka', rotate: 'daily', max_files: '14' },
      webhook: { url: 'https://hooks.example/mail', signature_key: 'k'.repeat(32), events: 'delivery.*, queue.*' },
      history: { capacity: '5000' },
      admin: { listen: '127.0.0.1:9466' },
    });
    expect(settings.listenerId).toBe('inbound');
    expect(settings.flushTimeout).toBe(2000);
    expect(settings.admin).toEqual({ host: '127.0.0.1', port: 9466 });
    expect(settings.telemetry).toMatchObject({
      service: 'mx1',
      sensitiveKeys: ['contents', 'accountName'],
      levels: { 'smtp.rcpt-to': 'debug', 'smtp.connection-start': 'info' },
      tracers: [
        { type: 'console', format: 'json', level: 'info' },
        { type: 'file', id: 'file', path: '/var/log/haraka', rotate: 'daily', maxFiles: 14 },
      ],
      webhooks: [{ id: 'webhook', url: 'https://hooks.example/mail', events: ['delivery.*', 'queue.*'] }],
      history: { capacity: 5000 },
    });
  });

  it('names the file, section and key of a bad setting', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ admin: { lisen: '127.0.0.1:9466' } }, 'telemetry.ini [admin] lisen'],
      [{ tracers: { type: 'console' } }, 'telemetry.ini [tracers]'],
      [{ tracer: { type: 'syslog' } }, 'telemetry.ini [tracer] type'],
      [{ admin: { listen: 'localhost' } }, 'telemetry.ini [admin] listen'],
      [{ admin: { listen: '0.0.0.0:9466' } }, 'telemetry.ini [admin] listen'],
      [{ admin: { listen: '127.0.0.1:9466', username: 'ops' } }, 'telemetry.ini [admin] password'],
      [{ main: { flush_timeout: '-1' } }, 'telemetry.ini [main] flush_timeout'],
      [{ history: { enabled: 'maybe' } }, 'telemetry.ini [history] enabled'],
    ];
    for (const [ini, path] of cases) {
      let error: unknown;
      try {
        settingsFromIni(ini);
      } catch (e) {
        error = e;
      }
      expect(error, path).toBeInstanceOf(TelemetryConfigError);
      expect((error as TelemetryConfigError).message, path).toContain(path);
    }
  });

  it('keeps the admin password out of errors', () => {
    try {
      settingsFromIni({ admin: { listen: '127.0.0.1:1', password: 'pw-Zq8#never-in-errors' } });
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('pw-Zq8');
    }
  });

  it('throws nothing but a TelemetryConfigError, whatever the file holds', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('main', 'admin', 'tracer', 'webhook.x', 'history', 'levels', 'other'), hostileValue()),
        (ini) => {
          try {
            settingsFromIni(ini);
          } catch (error) {
            expect(error).toBeInstanceOf(TelemetryConfigError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the hooks, given anything Haraka or another plugin may hand them', () => {
  const target: Record<string, unknown> = {
    register_hook: () => undefined,
  };
  plugin(target, { flushOnExit: false, telemetry: { history: { capacity: 100 } } });
  const methods = Object.keys(target).filter((name) => name.startsWith('telemetry_') && !name.startsWith('telemetry_init'));

  it('rejects bad plugin options by name', () => {
    expect(() => plugin({}, { configFile: '../etc/passwd' })).toThrow(/configFile/);
    expect(() => plugin({}, { flushOnExit: 'yes' } as never)).toThrow(/flushOnExit/);
    expect(() => plugin({}, { colour: true } as never)).toThrow(/colour/);
  });

  it('always answers CONT exactly once and never throws, for hostile connections and parameters', async () => {
    const realm = runInNewContext('({ Error, Date })') as { Error: ErrorConstructor };
    const connection = fc.record({
      uuid: fc.oneof(fc.uuid(), hostileValue()),
      remote: fc.oneof(fc.record({ ip: fc.ipV4(), port: fc.integer() }), hostileValue()),
      local: hostileValue(),
      hello: fc.oneof(fc.record({ verb: fc.constantFrom('EHLO', 'HELO'), host: fc.domain() }), hostileValue()),
      tls: fc.oneof(fc.record({ enabled: fc.boolean(), cipher: hostileValue() }), hostileValue()),
      transaction: fc.oneof(
        fc.record({
          uuid: fc.uuid(),
          mail_from: hostileValue(),
          rcpt_to: hostileValue(),
          header: hostileValue(),
          data_bytes: hostileValue(),
        }),
        hostileValue(),
      ),
      relaying: hostileValue(),
      results: hostileValue(),
      hook: hostileValue(),
    });
    await fc.assert(
      fc.asyncProperty(
        connection,
        fc.array(fc.tuple(fc.constantFrom(...methods), hostileValue()), { maxLength: 12 }),
        async (conn, calls) => {
          const object = conn as object;
          const run = (method: string, params: unknown): void => {
            let answers = 0;
            let retval: unknown = 'none';
            (target[method] as (next: (r?: unknown) => void, c: unknown, p: unknown) => void)(
              (r) => {
                answers++;
                retval = r;
              },
              object,
              params,
            );
            expect(answers, method).toBe(1);
            expect(retval, method).toBeUndefined();
          };
          run('telemetry_connect_init', undefined);
          for (const [method, params] of calls) run(method, params);
          // The deny hook's own shape, with a refusal made in another realm.
          run('telemetry_deny', [902, new realm.Error('refused'), 'policy', 'hook_rcpt', [conn.transaction], 'rcpt']);
          run('telemetry_disconnect', undefined);
        },
      ),
      { numRuns: 200 },
    );
    await harakaTelemetry()?.flush();
    await settle();
    expect(unhandled).toEqual([]);
  });
});
