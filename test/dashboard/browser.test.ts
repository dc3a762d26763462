import { expect, it } from 'vitest';
import { connection } from '../support/telemetry.js';
import { chromiumProgram, demoSession, FAST, openPage, serveDashboard, useBrowser } from './setup.js';

useBrowser();

const connected = '[data-state="connected"]';
const distinct = (list: readonly string[]) => [...new Set(list)];
const tokenKey = 'a dashboard test key of at least 32 bytes';

chromiumProgram.describe('the dashboard in headless Chromium', () => {
  it('shows live events and updates metric tiles, with no CSP violation or error', async () => {
    const { telemetry, url } = await serveDashboard();
    const { page, log } = await openPage(url);
    await page.locator(`#trace-state${connected}`).waitFor();
    await page.locator(`#metrics-state${connected}`).waitFor();

    demoSession(telemetry, '192.0.2.10', 'mx.example.org');
    const row = page.locator('#rows tr', { hasText: 'smtp.mail-from' });
    await row.waitFor();
    expect(await row.locator('td').allTextContents()).toEqual([
      expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3}$/),
      'info',
      'smtp.mail-from',
      'SMTP MAIL FROM received',
      expect.stringContaining('from=alice@mx.example.org'),
    ]);
    expect(await row.locator('td.values').textContent()).toContain('remoteIp=192.0.2.10');
    // The session's debug events stay out at the default level, info.
    expect(await page.locator('#rows tr', { hasText: 'smtp.connection-start' }).count()).toBe(0);

    // Tiles follow the registry: a counter, the queue gauge, and the open connection gauge.
    const queued = page.locator('.tile[data-metric="queue.message-queued"]');
    await queued.and(page.locator('[data-value="1"]')).waitFor();
    expect(await queued.locator('.label').textContent()).toBe('Messages queued');
    expect(await queued.locator('polyline').getAttribute('points')).toMatch(/^[\d.]+,[\d.]+( [\d.]+,[\d.]+)*$/);
    demoSession(telemetry, '192.0.2.11', 'mx2.example.org');
    await queued.and(page.locator('[data-value="2"]')).waitFor();
    await page.locator('.tile[data-metric="smtp.connection-start"][data-value="2"]').waitFor();
    await page.locator('.tile[data-metric="queue.count"][data-value="2"]').waitFor();
    const open = telemetry.span('smtp.connection-start', connection('192.0.2.12', 1));
    await page.locator('.tile[data-metric="smtp.active-connections"][data-value="1"]').waitFor();
    open.end();
    await page.locator('.tile[data-metric="smtp.active-connections"][data-value="0"]').waitFor();
    // Tiles come in the configured order: counters before the queue before the connection gauges.
    const order = await page.locator('.tile').evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-metric')));
    expect(order.slice(0, 6)).toEqual([
      'smtp.connection-start',
      'queue.message-queued',
      'delivery.completed',
      'delivery.dsn-perm-fail',
      'auth.failed',
      'queue.count',
    ]);
    expect(order.slice(6)).toContain('smtp.active-connections');

    expect(log.violations).toEqual([]);
    expect(log.errors).toEqual([]);
  });

  it('re-opens the tracing stream with the filter text and level, and filters by them', async () => {
    const { telemetry, url, requests } = await serveDashboard();
    const { page, log } = await openPage(url);
    await page.locator(`#trace-state${connected}`).waitFor();
    demoSession(telemetry, '192.0.2.1', 'before.example.org');
    await page.locator('#rows tr', { hasText: 'before.example.org' }).first().waitFor();

    await page.locator('#filter').fill('mx-a.example');
    await page.locator(`#trace-state${connected}[data-query="level=info&filter=mx-a.example"]`).waitFor();
    expect(requests).toContain('/live/tracing?level=info&filter=mx-a.example');
    // The old stream is closed on the server, and its rows left the table.
    await expect.poll(() => telemetry.live.stats().eventStreams).toBe(1);
    expect(await page.locator('#rows tr').count()).toBe(0);

    demoSession(telemetry, '192.0.2.2', 'mx-b.example.org');
    demoSession(telemetry, '192.0.2.3', 'mx-a.example.org');
    // The last event of session a (sticky: it carries no "mx-a" itself) arrives after all of b's.
    await page.locator('#rows tr', { hasText: 'queue.message-queued' }).waitFor();
    const text = await page.locator('#rows').textContent();
    expect(text).toContain('domain=mx-a.example.org');
    expect(text).not.toContain('mx-b');

    await page.locator('#level').selectOption('warn');
    await page.locator(`#trace-state${connected}[data-query="level=warn&filter=mx-a.example"]`).waitFor();
    telemetry.emit('smtp.ehlo', { domain: 'info.mx-a.example' });
    telemetry.emit('auth.error', { reason: 'backend for mx-a.example is down' });
    await page.locator('#rows tr', { hasText: 'auth.error' }).waitFor();
    expect(await page.locator('#rows tr').count()).toBe(1);
    expect(await page.locator('#rows .lvl').textContent()).toBe('error');

    expect(log.violations).toEqual([]);
    expect(log.errors).toEqual([]);
  });

  it('groups the live events by session, one toggle away from the flat table', async () => {
    const { telemetry, url } = await serveDashboard();
    const { page, log } = await openPage(url);
    await page.locator(`#trace-state${connected}`).waitFor();
    demoSession(telemetry, '192.0.2.31', 'one.example.org');
    demoSession(telemetry, '192.0.2.32', 'two.example.org');
    await page.locator('#rows tr', { hasText: 'two.example.org' }).last().waitFor();
    await page.locator('#group').focus();
    await page.keyboard.press('Enter');
    await page.locator('#group[aria-pressed="true"]').waitFor();
    expect(await page.locator('#flat').isHidden()).toBe(true);
    const groups = page.locator('#groups details.group');
    await expect.poll(() => groups.count()).toBe(2);
    // Newest session first; each summary names its remote IP and counts its events.
    expect(await groups.first().locator('summary').textContent()).toMatch(/^Session \d+ · 192\.0\.2\.32 .*· \d+ events · last /);
    expect(await groups.nth(1).locator('summary').textContent()).toContain('192.0.2.31');
    // A session expands to its own events, by keyboard too.
    await groups.nth(1).locator('summary').focus();
    await page.keyboard.press('Enter');
    const rows = groups.nth(1).locator('tr');
    await rows.first().waitFor();
    const text = await groups.nth(1).locator('tbody').textContent();
    expect(text).toContain('from=alice@one.example.org');
    expect(text).not.toContain('two.example.org');
    // An event outside any session has a group of its own; the toggle brings the flat table back.
    telemetry.emit('auth.error', { reason: 'outside any session' });
    await groups.filter({ hasText: 'No session' }).waitFor();
    await page.locator('#group').click();
    expect(await page.locator('#groups').isHidden()).toBe(true);
    expect(await page.locator('#rows tr', { hasText: 'outside any session' }).count()).toBe(1);
    expect(log.violations).toEqual([]);
    expect(log.errors).toEqual([]);
  });

  it('keeps at most maxRows rows, and holds events back while paused', async () => {
    const { telemetry, url } = await serveDashboard({ dashboard: { maxRows: 5, metricsInterval: 100 } });
    const { page } = await openPage(url);
    await page.locator(`#trace-state${connected}`).waitFor();
    for (let i = 1; i <= 8; i++) telemetry.emit('smtp.ehlo', { domain: `d${i}.example` });
    await page.locator('#rows tr', { hasText: 'd8.example' }).waitFor();
    const domains = async () =>
      (await page.locator('#rows td.values').allTextContents()).map((text) => /domain=(\S+)/.exec(text)?.[1]);
    // Newest first, the three oldest dropped.
    expect(await domains()).toEqual(['d8.example', 'd7.example', 'd6.example', 'd5.example', 'd4.example']);
    expect(await page.locator('#rows-info').textContent()).toBe('5 of at most 5 rows');

    await page.locator('#pause').click();
    await page.locator('#pause[aria-pressed="true"]').waitFor();
    telemetry.emit('smtp.ehlo', { domain: 'd9.example' });
    telemetry.emit('smtp.ehlo', { domain: 'd10.example' });
    await page.locator('#rows-info', { hasText: '2 waiting' }).waitFor();
    expect(await domains()).toEqual(['d8.example', 'd7.example', 'd6.example', 'd5.example', 'd4.example']);

    await page.locator('#pause').click();
    await page.locator('#rows tr', { hasText: 'd10.example' }).waitFor();
    expect(await domains()).toEqual(['d10.example', 'd9.example', 'd8.example', 'd7.example', 'd6.example']);
    expect(await page.locator('#pause').textContent()).toBe('Pause');
  });

  it('shows unauthorized without a token, and streams with tokens from the #fragment', async () => {
    let skew = 0;
    const { telemetry, url, requests } = await serveDashboard({ live: { ...FAST, tokenKey }, now: () => Date.now() + skew });
    const first = await openPage(url);
    await first.page.locator('#trace-state[data-state="unauthorized"]').waitFor();
    await first.page.locator('#metrics-state[data-state="unauthorized"]').waitFor();
    expect(await first.page.locator('#trace-state').textContent()).toContain('#token=');
    expect(telemetry.live.stats().sse).toBe(0);

    const tracing = telemetry.live.issueToken({ scope: 'tracing' });
    const metrics = telemetry.live.issueToken({ scope: 'metrics' });
    // Either order, each token goes to the stream its scope names.
    const { page, log } = await openPage(`${url}#token=${metrics}&token=${tracing}`);
    await page.locator(`#trace-state${connected}`).waitFor();
    await page.locator(`#metrics-state${connected}`).waitFor();
    demoSession(telemetry, '192.0.2.20', 'mx.example.org');
    await page.locator('#rows tr', { hasText: 'smtp.rcpt-to' }).waitFor();

    // The token left the address bar, never reached the server with the page, and only went to its stream.
    expect(page.url()).toBe(url);
    for (const request of requests.filter((r) => r.startsWith('/dashboard'))) expect(request).not.toContain('mtl1.');
    expect(requests).toContain(`/live/tracing?level=info&token=${tracing}`);
    expect(requests.some((r) => r.startsWith('/live/metrics?') && r.endsWith(`&token=${metrics}`))).toBe(true);
    expect(await page.content()).not.toContain('mtl1.');
    expect(log.violations).toEqual([]);
    expect(log.errors.filter((e) => !e.includes('401'))).toEqual([]);

    // A fragment token is good for 60 s: a new stream after that (here, a new level) is refused.
    skew = 120_000;
    await page.locator('#level').selectOption('warn');
    await page.locator('#trace-state[data-state="unauthorized"]').waitFor();
    await page.locator(`#metrics-state${connected}`).waitFor();
  });

  it('fetches a fresh token from the token endpoint for every stream, behind the host login', async () => {
    let skew = 0;
    let issued = 0;
    const { telemetry, url } = await serveDashboard({
      live: { ...FAST, tokenKey },
      dashboard: { tokenPath: '/api/token/{scope}', metricsInterval: 100 },
      now: () => Date.now() + skew,
      // The host's own login check guards its token endpoint, as Stalwart's /api/token/{scope}.
      route: (path, req, res) => {
        const scope = /^\/api\/token\/(tracing|metrics)$/.exec(path)?.[1];
        if (scope === undefined) return false;
        if (req.headers.cookie !== 'session=admin') res.writeHead(401).end();
        else {
          issued++;
          res.writeHead(200, { 'content-type': 'text/plain' }).end(telemetry.live.issueToken({ scope: scope as 'tracing' }));
        }
        return true;
      },
    });
    const anonymous = await openPage(url);
    await anonymous.page.locator('#trace-state[data-state="unauthorized"]').waitFor();
    await anonymous.page.locator('#metrics-state[data-state="unauthorized"]', { hasText: 'sign in' }).waitFor();
    await anonymous.page.close();

    const { page, log } = await openPage(url, 'session=admin');
    await page.locator(`#trace-state${connected}`).waitFor();
    await page.locator(`#metrics-state${connected}`).waitFor();
    expect(issued).toBe(2);
    // Long past the first tokens' 60 s, a new level still connects with a fresh one.
    skew = 120_000;
    await page.locator('#level').selectOption('warn');
    await page.locator(`#trace-state${connected}[data-query="level=warn"]`).waitFor();
    expect(issued).toBe(3);
    telemetry.emit('auth.error', { reason: 'directory unreachable' });
    await page.locator('#rows tr', { hasText: 'directory unreachable' }).waitFor();
    expect(log.violations).toEqual([]);
    expect(log.errors).toEqual([]);
  });

  it('shows hostile event values as text: no markup, nothing executes', async () => {
    const { telemetry, url } = await serveDashboard();
    const { page, log } = await openPage(url);
    await page.locator(`#trace-state${connected}`).waitFor();
    const img = '<img src=x onerror="window.__xss=1">';
    const script = '<script>window.__xss=2</script>';
    telemetry.emit('smtp.ehlo', { domain: img });
    telemetry.emit('smtp.mail-from', { from: `${script}@example.org` });
    telemetry.emit('smtp.rcpt-to', { to: '"><svg onload=window.__xss=3>' });
    await page.locator('#rows tr', { hasText: 'smtp.rcpt-to' }).waitFor();
    const text = await page.locator('#rows').textContent();
    expect(text).toContain(`domain=${img}`);
    expect(text).toContain(`from=${script}@example.org`);
    expect(text).toContain('to="><svg onload=window.__xss=3>');
    expect(await page.locator('#rows img, #rows script, #rows svg').count()).toBe(0);
    expect(await page.evaluate('typeof window.__xss')).toBe('undefined');
    expect(log.violations).toEqual([]);
    expect(log.errors).toEqual([]);
  });

  it('shows the dropped-event count the server reports', async () => {
    const { telemetry, url } = await serveDashboard({ live: { ...FAST, authorize: () => true, bufferSize: 2 } });
    const { page } = await openPage(url);
    await page.locator(`#trace-state${connected}`).waitFor();
    expect(await page.locator('#dropped').isHidden()).toBe(true);
    for (let i = 0; i < 50; i++) telemetry.emit('smtp.ehlo', { domain: `burst${i}.example` });
    await page.locator('#dropped').waitFor();
    const shown = Number(await page.locator('#dropped-count').textContent());
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThanOrEqual(telemetry.live.stats().dropped);
  });

  it('leaves no stream open on the server once the page is closed', async () => {
    const { telemetry, url } = await serveDashboard();
    const { page } = await openPage(url);
    await page.locator(`#trace-state${connected}`).waitFor();
    await page.locator(`#metrics-state${connected}`).waitFor();
    expect(telemetry.live.stats()).toMatchObject({ sse: 2, eventStreams: 1, metricStreams: 1 });
    // A filter change replaces the tracing stream rather than adding one.
    await page.locator('#level').selectOption('debug');
    await page.locator(`#trace-state${connected}[data-query="level=debug"]`).waitFor();
    await expect.poll(() => telemetry.live.stats()).toMatchObject({ sse: 2, eventStreams: 1, metricStreams: 1 });
    await page.close();
    await expect.poll(() => telemetry.live.stats()).toMatchObject({ sse: 0, eventStreams: 0, metricStreams: 0 });
  });

  it('shows reconnecting while the streams are unavailable', async () => {
    const { telemetry, url } = await serveDashboard();
    const { page } = await openPage(url);
    await page.locator(`#trace-state${connected}`).waitFor();
    await page.locator(`#metrics-state${connected}`).waitFor();
    // After shutdown the streams end and every new one is refused with 503: the page keeps trying.
    await telemetry.shutdown(100);
    await page.locator('#trace-state[data-state="reconnecting"]').waitFor();
    await page.locator('#metrics-state[data-state="reconnecting"]').waitFor();
  });

  it('finds the streams on the paths the host mounted them, relative ones too', async () => {
    const { telemetry, url, requests } = await serveDashboard({
      dashboard: { liveTracingPath: '/telemetry/tracing', liveMetricsPath: 'live/metrics', metricsInterval: 100 },
      paths: { tracing: '/telemetry/tracing', metrics: '/live/metrics' },
    });
    const { page } = await openPage(url);
    await page.locator(`#trace-state${connected}`).waitFor();
    await page.locator(`#metrics-state${connected}`).waitFor();
    telemetry.emit('auth.success', { accountName: 'postmaster' });
    await page.locator('#rows tr', { hasText: 'auth.success' }).waitFor();
    expect(requests).toContain('/telemetry/tracing?level=info');
    expect(requests.some((r) => r.startsWith('/live/metrics?metrics='))).toBe(true);
    // A configured path wins: the page never looks beside itself or at Stalwart's paths.
    expect(requests.filter((r) => r.startsWith('/live/tracing') || r.startsWith('/api/'))).toEqual([]);
  });

  it.each([
    ['/telemetry/dashboard', []],
    ['/telemetry/dashboard/', ['/telemetry/dashboard/live/tracing?level=info']],
  ])('under a prefix with no option, served at %s, reads the streams beside the page', async (page, misses) => {
    const { telemetry, url, requests } = await serveDashboard({
      page,
      paths: { tracing: '/telemetry/live/tracing', metrics: '/telemetry/live/metrics' },
    });
    const { page: tab, log } = await openPage(url);
    await tab.locator(`#trace-state${connected}[data-path="/telemetry/live/tracing"]`).waitFor();
    await tab.locator(`#metrics-state${connected}[data-path="/telemetry/live/metrics"]`).waitFor();
    telemetry.emit('auth.success', { accountName: 'postmaster' });
    await tab.locator('#rows tr', { hasText: 'auth.success' }).waitFor();
    await tab.locator('.tile[data-metric="auth.failed"]').waitFor();
    expect(requests).toContain('/telemetry/live/tracing?level=info');
    // Only a page served with a trailing slash first tries (and gets a 404 at) its own subpath.
    expect(distinct(requests.filter((r) => r.startsWith('/telemetry/dashboard/live/tracing')))).toEqual(misses);
    expect(requests.filter((r) => r.startsWith('/api/'))).toEqual([]);
    expect(log.violations).toEqual([]);
    expect(log.errors.filter((e) => !e.includes('404'))).toEqual([]);
  });

  it("with no option and the streams at Stalwart's paths, moves on to them after a 404 beside the page", async () => {
    const { telemetry, url, requests } = await serveDashboard({
      paths: { tracing: '/api/live/tracing', metrics: '/api/live/metrics' },
    });
    const { page } = await openPage(url);
    await page.locator(`#trace-state${connected}[data-path="/api/live/tracing"]`).waitFor();
    await page.locator(`#metrics-state${connected}[data-path="/api/live/metrics"]`).waitFor();
    telemetry.emit('auth.success', { accountName: 'postmaster' });
    await page.locator('#rows tr', { hasText: 'auth.success' }).waitFor();
    expect(distinct(requests.filter((r) => r.includes('/live/tracing')))).toEqual([
      '/live/tracing?level=info',
      '/api/live/tracing?level=info',
    ]);
  });
});
