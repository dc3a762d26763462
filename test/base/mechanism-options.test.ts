import { describe, expect, it } from 'vitest';
import { resolveAlerts } from '../../src/alerts/options.js';
import { MAX_TIMER } from '../../src/base/validate.js';
import { resolveDashboard } from '../../src/dashboard/options.js';
import { resolveHistory } from '../../src/history/options.js';
import { createTelemetry } from '../../src/index.js';
import { resolveLive } from '../../src/live/options.js';
import { resolveMetricsOptions } from '../../src/metrics/options.js';
import { resolveTracers } from '../../src/tracing/tracers.js';
import { resolveWebhooks } from '../../src/webhooks/options.js';
import { thrown } from '../support/guards.js';

describe("every mechanism's options: resolveX(value, path, shared)", () => {
  it.each([
    ['webhooks', () => resolveWebhooks([{ id: 'a', url: 'http://127.0.0.1:9/', bogus: 1 }], 'cfg.x'), 'cfg.x[0].bogus'],
    ['history', () => resolveHistory({ bogus: 1 }, 'cfg.x'), 'cfg.x.bogus'],
    ['live', () => resolveLive({ bogus: 1 }, 'cfg.x', []), 'cfg.x.bogus'],
    ['dashboard', () => resolveDashboard({ bogus: 1 }, 'cfg.x', 1000), 'cfg.x.bogus'],
    ['alerts', () => resolveAlerts({ rules: [], bogus: 1 }, 'cfg.x', undefined), 'cfg.x.bogus'],
    ['metrics', () => resolveMetricsOptions({ bogus: 1 }, 'cfg.x'), 'cfg.x.bogus'],
    ['tracers', () => resolveTracers([{ type: 'console', bogus: 1 }], 'cfg.x', []), 'cfg.x[0].bogus'],
  ])('%s reports errors at the path it is given', (_name, resolve, path) => {
    const error = thrown(resolve);
    expect(error.path).toBe(path);
    expect(error.message).toContain('expected one of the known options');
  });

  it('takes what the composition root shares: sendMail for alerts, sensitiveKeys for tracers', () => {
    const sendMail = async () => {};
    const rule = { id: 'r', condition: '1 > 0', email: { from: 'a@example.org', to: 'b@example.org', subject: 's', body: 'b' } };
    expect(resolveAlerts([rule], 'cfg.alerts', sendMail).sendMail).toBe(sendMail);
    expect(thrown(() => resolveAlerts([rule], 'cfg.alerts', undefined)).path).toBe('cfg.alerts[0].email');
    expect(thrown(() => resolveAlerts([], 'cfg.alerts', 'smtp://x')).message).toBe(
      'options.sendMail: expected a function (message) => Promise<void>, got "smtp://x"',
    );
    const [tracer] = resolveTracers([{ type: 'console', redact: ['from'] }], 'cfg.tracers', ['password']);
    expect([...(tracer?.redact ?? [])]).toEqual(['password', 'from']);
    expect(thrown(() => resolveTracers([], 'cfg.tracers', 'password')).path).toBe('options.sensitiveKeys');
  });
});

describe('timer options stay within what a Node.js timer takes', () => {
  // A longer delay makes Node fire the timer after 1 ms: a snapshot or memory sample every millisecond.
  it('history series.interval and metrics.memoryInterval are at most 2147483647 ms', () => {
    expect(resolveHistory({ series: { interval: MAX_TIMER } }, 'options.history')?.series?.interval).toBe(MAX_TIMER);
    expect(thrown(() => resolveHistory({ series: { interval: 2 ** 31 } }, 'options.history')).message).toBe(
      `options.history.series.interval: expected an integer from 10 to ${MAX_TIMER}, got ${2 ** 31}`,
    );
    expect(resolveMetricsOptions({ memoryInterval: MAX_TIMER }).memoryInterval).toBe(MAX_TIMER);
    expect(thrown(() => resolveMetricsOptions({ memoryInterval: 2 ** 31 })).message).toBe(
      `options.metrics.memoryInterval: expected milliseconds from 1 to ${MAX_TIMER}, got ${2 ** 31}`,
    );
  });

  it('retention ages are not timers: a year is fine', async () => {
    const year = 365 * 86_400_000;
    const telemetry = createTelemetry({ history: { maxAge: year, traces: { maxAge: year }, series: { maxAge: year } } });
    await telemetry.shutdown();
  });

  it('an options section given as null is an error, never taken as the defaults', () => {
    expect(thrown(() => resolveHistory({ traces: null }, 'options.history')).message).toBe(
      'options.history.traces: expected an object, got null',
    );
    expect(thrown(() => resolveWebhooks([{ id: 'a', url: 'http://127.0.0.1:9/', retry: null }], 'options.webhooks')).path).toBe(
      'options.webhooks[0].retry',
    );
  });
});
