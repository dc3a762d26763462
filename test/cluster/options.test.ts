import { describe, expect, it } from 'vitest';
import { createClusterMetrics, shareMetricsWithPrimary } from '../../src/cluster.js';
import { TelemetryConfigError } from '../../src/index.js';

describe('createClusterMetrics options', () => {
  it.each([
    [{ timeout: 0 }, 'options.timeout: expected milliseconds from 1 to 2147483647, got 0'],
    [{ timeout: '1s' }, 'options.timeout'],
    [{ gauges: 'max' }, 'options.gauges: expected "sum" or "per-worker", got "max"'],
    [{ workerLabel: 'le' }, 'options.workerLabel'],
    [{ workerLabel: '__worker' }, 'options.workerLabel'],
    [{ auth: { username: 'a:b', password: 'x' } }, 'options.auth.username'],
    [{ auth: { username: 'prometheus', password: '' } }, 'options.auth.password'],
    [{ cluster: {} }, 'options.cluster'],
    [{ timout: 5 }, 'options.timout'],
  ])('refuses %j', (options, message) => {
    expect(() => createClusterMetrics(options as never)).toThrow(TelemetryConfigError);
    expect(() => createClusterMetrics(options as never)).toThrow(message);
  });

  it('never quotes the password it refuses', () => {
    expect(() => createClusterMetrics({ auth: { username: 'p', password: 'bad\nsecret' } })).not.toThrow(/secret/);
  });

  it('answers at once, with zero workers, when the process has none', async () => {
    const metrics = createClusterMetrics({ timeout: 10_000 });
    try {
      const text = await metrics.prometheus();
      expect(text).toContain('mail_telemetry_cluster_workers 0\n');
      expect(text).toContain('mail_telemetry_cluster_workers_missing 0\n');
      const open = await metrics.prometheus('openmetrics');
      expect(open.endsWith('# EOF\n')).toBe(true);
    } finally {
      metrics.close();
      metrics.close();
    }
  });

  it('serves Basic auth like a worker scrape', async () => {
    const metrics = createClusterMetrics({ auth: { username: 'prometheus', password: 'change-me' } });
    try {
      const refused = await metrics.handlers.prometheus.fetch(new Request('http://127.0.0.1/metrics'));
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Basic realm="metrics", charset="UTF-8"');
      const authorization = `Basic ${Buffer.from('prometheus:change-me').toString('base64')}`;
      const ok = await metrics.handlers.prometheus.fetch(new Request('http://127.0.0.1/metrics', { headers: { authorization } }));
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('# TYPE mail_telemetry_cluster_workers gauge');
    } finally {
      metrics.close();
    }
  });
});

describe('shareMetricsWithPrimary arguments', () => {
  it('refuses what is not a telemetry instance, and unknown options', () => {
    expect(() => shareMetricsWithPrimary({} as never)).toThrow('telemetry: expected a telemetry instance from createTelemetry()');
    expect(() => shareMetricsWithPrimary(undefined as never)).toThrow(TelemetryConfigError);
    const telemetry = { metrics: { collect: () => [] } };
    expect(() => shareMetricsWithPrimary(telemetry, { final: true } as never)).toThrow('options.final');
    expect(() => shareMetricsWithPrimary(telemetry, { finalSnapshot: 'yes' } as never)).toThrow('options.finalSnapshot');
  });
});
