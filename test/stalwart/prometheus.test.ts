/**
 * The Prometheus scrape under `stalwart`, against Stalwart's: `crates/common/src/telemetry/metrics/
 * prometheus.rs` (`export_prometheus_metrics`: counters from `collect_counters` with `value > 0`
 * only, names by `metric_name`, non-alphanumerics to `_`, no `_total`), written by the `prometheus`
 * crate's `TextEncoder` as `text/plain; version=0.0.4` whatever the scraper asks for.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TelemetryConfigError } from '../../src/index.js';
import { needsProgram } from '../support/needs-program.js';
import { CONNECTION, listenLoopback, make, type Options, type Telemetry } from '../support/telemetry.js';

/** What Prometheus sends (scrape_protocols' default order): OpenMetrics first. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

async function scrape(telemetry: Telemetry): Promise<{ type: string | null; text: string }> {
  const { server, origin } = await listenLoopback((req, res) => telemetry.handlers.prometheus.node(req, res));
  try {
    const response = await fetch(`${origin}/metrics/prometheus`, { headers: { accept: PROMETHEUS_ACCEPT } });
    return { type: response.headers.get('content-type'), text: await response.text() };
  } finally {
    server.close();
  }
}

function busy(options: Options): Telemetry {
  const telemetry = make(options);
  telemetry.span('smtp.connection-start', CONNECTION);
  telemetry.emit('queue.message-queued', { size: 2048 });
  telemetry.emit('auth.failed', {});
  telemetry.emit('auth.failed', {});
  return telemetry;
}

describe('Prometheus under stalwart', () => {
  it('0.15: text 0.0.4 for an OpenMetrics scraper, Stalwart names, 0.15 names of renamed events, no zero counters', async () => {
    const { type, text } = await scrape(busy({ stalwart: '0.15' }));
    expect(type).toBe('text/plain; version=0.0.4; charset=utf-8');
    // Golden: the TextEncoder's lines for these counters in a Stalwart 0.15 scrape.
    expect(text).toContain(
      '# HELP queue_queue_message Message queued for delivery\n# TYPE queue_queue_message counter\nqueue_queue_message 1\n',
    );
    expect(text).toContain('# TYPE smtp_connection_start counter\nsmtp_connection_start 1\n');
    expect(text).toContain('\nauth_failed 2\n');
    expect(text).not.toMatch(/_total[ {]/);
    expect(text).not.toContain('# EOF');
    // collect_counters keeps value > 0 only; histograms without samples are left out too.
    for (const line of text.split('\n').filter((l) => /^[a-z]/.test(l))) {
      const [name, value] = line.split(' ');
      if (text.includes(`# TYPE ${name} counter`)) expect(Number(value), name).toBeGreaterThan(0);
    }
    expect(text).not.toMatch(/^auth_success /m);
    expect(text).not.toMatch(/^delivery_total_time_count /m);
    expect(text).toMatch(/^message_size_count 1$/m);
    // Gauges stay, zero or not.
    expect(text).toMatch(/^imap_active_connections 0$/m);
  });

  it('0.16: the 0.16 names', async () => {
    const { text } = await scrape(busy({ stalwart: '0.16' }));
    expect(text).toMatch(/^queue_message_queued 1$/m);
    expect(text).not.toContain('queue_queue_message');
  });

  it('naming: "stalwart" alone answers text 0.0.4 too, as OpenMetrics would add _total; zero counters stay', async () => {
    const { type, text } = await scrape(busy({ metrics: { naming: 'stalwart' } }));
    expect(type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text).toMatch(/^smtp_connection_start 1$/m);
    expect(text).toMatch(/^auth_success 0$/m);
  });

  it('metrics.stalwart: false keeps the library scrape under a top-level setting', async () => {
    const { type, text } = await scrape(busy({ stalwart: '0.15', metrics: { stalwart: false } }));
    expect(type).toContain('application/openmetrics-text');
    expect(text).toMatch(/^mail_queue_message_queued_total 1$/m);
  });

  it('refuses Prometheus naming under a Stalwart setting, naming the option', () => {
    expect(() => make({ stalwart: '0.15', metrics: { naming: 'prometheus' } })).toThrow(TelemetryConfigError);
    expect(() => make({ stalwart: '0.15', metrics: { naming: 'prometheus' } })).toThrow(/options\.metrics\.naming/);
  });
});

describe('per-metric exported names', () => {
  function dashboards(options: Options): Telemetry {
    const telemetry = busy({
      ...options,
      metrics: { ...options.metrics, exportNames: { 'auth.failed': 'wildduck_auth_attempts_total' } },
    });
    const status = telemetry.metrics.counter('delivery.status', {
      help: 'Delivery results by outcome',
      labels: ['result'],
      exportName: 'zonemta_delivery_status',
    });
    status.inc({ result: 'delivered' }, 3);
    status.inc({ result: 'rejected' });
    return telemetry;
  }

  it('keeps an existing dashboard names, as given, beside the library names (text and OpenMetrics)', async () => {
    const telemetry = dashboards({});
    const text = telemetry.metrics.prometheus('text');
    expect(text).toContain('# TYPE wildduck_auth_attempts_total counter\nwildduck_auth_attempts_total 2\n');
    expect(text).toContain('# TYPE zonemta_delivery_status counter\nzonemta_delivery_status{result="delivered"} 3\n');
    expect(text).toMatch(/^mail_queue_message_queued_total 1$/m);
    expect(text).not.toContain('mail_auth_failed');
    const open = telemetry.metrics.prometheus('openmetrics');
    expect(open).toContain('# TYPE wildduck_auth_attempts counter\nwildduck_auth_attempts_total 2\n');
    expect(open).toContain('# TYPE zonemta_delivery_status counter\nzonemta_delivery_status_total{result="delivered"} 3\n');
  });

  it('refuses a bad or duplicate exported name, naming the option', () => {
    expect(() => make({ metrics: { exportNames: { 'auth.failed': '9bad' } } })).toThrow(
      /options\.metrics\.exportNames\["auth\.failed"\]/,
    );
    expect(() => make({ metrics: { exportNames: { 'auth.failed': 'x_total', 'auth.success': 'x' } } })).toThrow(
      TelemetryConfigError,
    );
    const telemetry = make({});
    expect(() => telemetry.metrics.counter('app.hits', { help: 'Hits', exportName: 'has space' })).toThrow(/exportName/);
    telemetry.metrics.counter('app.hits', { help: 'Hits', exportName: 'legacy_hits' });
    expect(() => telemetry.metrics.counter('app.other', { help: 'Other', exportName: 'legacy_hits_total' })).toThrow(
      /legacy_hits/,
    );
  });

  const promtool = needsProgram('promtool');
  promtool.describe('promtool check metrics', () => {
    /** The problems promtool reports that are naming conventions Stalwart's and the dashboards' names break on purpose. */
    const NAMING =
      /^(\S+) (counter metrics should have "_total" suffix|non-histogram and non-summary metrics should not have "_count" suffix)$/;

    for (const [title, options] of [
      ['the library naming', {}],
      ['a Stalwart 0.15 scrape', { stalwart: '0.15' }],
      ['a Stalwart 0.16 scrape', { stalwart: '0.16' }],
    ] as const) {
      it(`parses ${title} with exported names, reporting naming conventions only`, async () => {
        const telemetry = dashboards(options);
        // promtool reads text 0.0.4; a Stalwart scrape is text whatever is asked.
        const text = 'stalwart' in options ? (await scrape(telemetry)).text : telemetry.metrics.prometheus('text');
        const result = spawnSync(promtool.path, ['check', 'metrics'], { input: text, encoding: 'utf8' });
        expect(result.error).toBeUndefined();
        const problems = `${result.stdout}${result.stderr}`.split('\n').filter((l) => l.trim() !== '');
        for (const problem of problems) expect(problem).toMatch(NAMING);
        if ('stalwart' in options) expect(problems.length).toBeGreaterThan(0);
        else expect(problems).toEqual(['zonemta_delivery_status counter metrics should have "_total" suffix']);
      });
    }
  });
});
