import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TelemetryConfigError } from '../../src/base/errors.js';
import { createDashboard } from '../../src/dashboard/dashboard.js';
import { type DashboardOptions, resolveDashboard } from '../../src/dashboard/options.js';
import { listenLoopback, make } from '../support/telemetry.js';

const dashboard = (options: DashboardOptions = {}) => createDashboard(resolveDashboard(options, 'options.dashboard'));

async function serve(options: DashboardOptions = {}) {
  const handler = dashboard(options);
  const { origin } = await listenLoopback((req, res) => handler.node(req, res));
  return `${origin}/dashboard`;
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

describe('dashboard handler', () => {
  it('serves one self-contained HTML page with strict security headers', async () => {
    const response = await fetch(await serve());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const html = await response.text();
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(html)));

    const csp = Object.fromEntries(
      (response.headers.get('content-security-policy') ?? '').split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]),
    );
    expect(csp['default-src']).toEqual(["'none'"]);
    expect(csp['connect-src']).toEqual(["'self'"]);
    expect(csp['frame-ancestors']).toEqual(["'none'"]);
    expect(csp['base-uri']).toEqual(["'none'"]);
    expect(csp['form-action']).toEqual(["'none'"]);
    // Exactly one inline script and one style, each allowed by its own hash and nothing else.
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    expect(csp['script-src']).toEqual([sha256(scripts[0] ?? '')]);
    expect(csp['style-src']).toEqual([sha256(styles[0] ?? '')]);

    // Nothing is loaded from elsewhere: no src attribute, no link but the empty data: favicon, no inline handler.
    expect(html).not.toMatch(/\ssrc=/i);
    expect([...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1])).toEqual(['data:,']);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/\sstyle=/i);
    // The one URL is the SVG namespace, a name the script never fetches.
    expect(html.match(/https?:\/\/[^\s'"]+/g) ?? []).toEqual(['http://www.w3.org/2000/svg']);
    expect(html).not.toContain('innerHTML');
    expect(html).not.toContain('eval(');
  });

  it('answers HEAD with the headers only and other methods with 405', async () => {
    const url = await serve();
    const get = await fetch(url);
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
    expect(head.headers.get('content-security-policy')).toBe(get.headers.get('content-security-policy'));
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const response = await fetch(url, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  it('has the web fetch shape: Request in, Response out', async () => {
    const handler = dashboard({ title: 'mx1' });
    const response = await handler.fetch(new Request('http://127.0.0.1/dashboard'));
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await response.text()).toContain('<title>mx1</title>');
    const head = await handler.fetch(new Request('http://127.0.0.1/dashboard', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
    const post = await handler.fetch(new Request('http://127.0.0.1/dashboard', { method: 'POST', body: 'x' }));
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers 404 when switched off', async () => {
    const response = await fetch(await serve({ enabled: false }));
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('<html');
  });

  it('escapes the title and passes its settings as data attributes', async () => {
    const html = await (
      await fetch(
        await serve({
          title: 'mx1 <script>alert("x")</script> & co',
          liveMetricsPath: '/m"etrics',
          historyPath: '/telemetry/history',
          alertsPath: '/telemetry/alerts',
          maxRows: 42,
          metrics: ['queue.count', 'smtp.*'],
          metricsInterval: 2500,
          level: 'warn',
        }),
      )
    ).text();
    expect(html).toContain('<title>mx1 &#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; co</title>');
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('data-metrics-path="/m&#34;etrics"');
    // Unset, a path stays out of the page: the script looks beside the page's own URL.
    expect(html).not.toContain('data-tracing-path');
    expect(html).toContain('data-history-path="/telemetry/history"');
    expect(html).toContain('data-alerts-path="/telemetry/alerts"');
    expect(html).toContain('data-max-rows="42"');
    expect(html).toContain('data-metrics="queue.count,smtp.*"');
    expect(html).toContain('data-interval="2.5"');
    expect(html).toContain('<option value="warn" selected>');
  });

  it('never holds a token, token key or other secret', async () => {
    const tokenKey = 'a very secret live token key, 32+ bytes';
    const telemetry = make({ live: { tokenKey }, sensitiveKeys: ['password'] });
    const token = telemetry.live.issueToken({ scope: 'tracing' });
    const handler = createDashboard(resolveDashboard({}, 'options.dashboard'));
    const { origin } = await listenLoopback((req, res) => handler.node(req, res));
    // Even a token sent in the page's own query (a mistake) is not reflected.
    for (const url of [`${origin}/dashboard`, `${origin}/dashboard?token=${token}`]) {
      const html = await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).text();
      expect(html).not.toContain(token);
      expect(html).not.toContain('mtl1.');
      expect(html).not.toContain(tokenKey);
      expect(html).not.toContain(Buffer.from(tokenKey).toString('base64'));
    }
  });
});

describe('dashboard options', () => {
  it('defaults to streams found by the page itself and the headline metrics', () => {
    expect(resolveDashboard(undefined, 'options.dashboard')).toEqual({
      enabled: true,
      title: 'mail-telemetry',
      liveMetricsPath: undefined,
      liveTracingPath: undefined,
      tokenPath: undefined,
      historyPath: undefined,
      alertsPath: undefined,
      maxRows: 500,
      metrics: [
        'smtp.connection-start',
        'queue.message-queued',
        'delivery.completed',
        'delivery.dsn-perm-fail',
        'auth.failed',
        'queue.count',
        '*.active-connections',
      ],
      metricsInterval: 1000,
      level: 'info',
    });
    // A host whose streams refuse frames faster than 5 s gets a page that asks for 5 s.
    expect(resolveDashboard({}, 'options.dashboard', 5000).metricsInterval).toBe(5000);
  });

  it.each<[string, unknown, string, RegExp]>([
    ['not an object', 'yes', 'options.dashboard', /expected an object, got "yes"/],
    ['an unknown key', { titel: 'x' }, 'options.dashboard.titel', /one of the known options: enabled, title/],
    ['a non-boolean enabled', { enabled: 'no' }, 'options.dashboard.enabled', /expected a boolean, got "no"/],
    ['an empty title', { title: '  ' }, 'options.dashboard.title', /non-empty string/],
    ['a title with a newline', { title: 'a\nb' }, 'options.dashboard.title', /no control characters/],
    [
      'a path with a scheme',
      { liveMetricsPath: 'https://evil.example/m' },
      'options.dashboard.liveMetricsPath',
      /same-origin path/,
    ],
    ['a protocol-relative path', { liveTracingPath: '//evil.example/t' }, 'options.dashboard.liveTracingPath', /same-origin/],
    ['a javascript: path', { liveTracingPath: 'javascript:alert(1)' }, 'options.dashboard.liveTracingPath', /same-origin/],
    [
      'a path with a query',
      { liveTracingPath: '/t?token=x' },
      'options.dashboard.liveTracingPath',
      /without scheme, host, query/,
    ],
    ['a path with a backslash', { liveMetricsPath: '/\\evil.example' }, 'options.dashboard.liveMetricsPath', /same-origin/],
    ['a token path without {scope}', { tokenPath: '/api/token' }, 'options.dashboard.tokenPath', /with \{scope\}/],
    ['a token path on another host', { tokenPath: 'https://x.example/{scope}' }, 'options.dashboard.tokenPath', /same-origin/],
    ['a history path on another host', { historyPath: '//evil.example/h' }, 'options.dashboard.historyPath', /same-origin/],
    ['a history path with a query', { historyPath: '/h?x=1' }, 'options.dashboard.historyPath', /without scheme, host, query/],
    ['an alerts path on another host', { alertsPath: 'https://evil.example/a' }, 'options.dashboard.alertsPath', /same-origin/],
    ['maxRows of 0', { maxRows: 0 }, 'options.dashboard.maxRows', /an integer from 1 to 100000, got 0/],
    ['a fractional maxRows', { maxRows: 2.5 }, 'options.dashboard.maxRows', /an integer from 1 to 100000/],
    ['metrics not an array', { metrics: 'queue.count' }, 'options.dashboard.metrics', /an array of metric names/],
    ['an empty metrics list', { metrics: [] }, 'options.dashboard.metrics', /at least one metric/],
    ['a bad metric pattern', { metrics: ['queue count'] }, 'options.dashboard.metrics[0]', /a metric name or wildcard/],
    [
      'a metricsInterval below 1000',
      { metricsInterval: 10 },
      'options.dashboard.metricsInterval',
      /from 1000 to 86400000, got 10/,
    ],
    ['an unknown level', { level: 'verbose' }, 'options.dashboard.level', /trace, debug, info, warn or error/],
  ])('rejects %s', (_what, input, path, message) => {
    let error: unknown;
    try {
      resolveDashboard(input, 'options.dashboard');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TelemetryConfigError);
    expect((error as TelemetryConfigError).path).toBe(path);
    expect((error as TelemetryConfigError).message).toMatch(message);
  });

  it('checks metricsInterval against live.minMetricsInterval', () => {
    expect(() => resolveDashboard({ metricsInterval: 2000 }, 'options.dashboard', 5000)).toThrow(
      'options.dashboard.metricsInterval: expected an integer from 5000 to 86400000, got 2000',
    );
  });
});
