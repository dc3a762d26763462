import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createDashboard } from '../../src/dashboard/dashboard.js';
import { type DashboardOptions, resolveDashboard } from '../../src/dashboard/options.js';
import { needsProgram } from '../support/needs-program.js';
import { connection, listenLoopback, make, type Options, session, type Telemetry } from '../support/telemetry.js';

type LiveOptions = NonNullable<Options['live']>;

/** Fast streams for tests: 20 ms trace batches, metric frames as often as 100 ms. */
export const FAST = { batchWindow: 20, minMetricsInterval: 100 } as const;

/** What a test server mounts besides the dashboard and the live handlers. */
export interface ServeOptions {
  readonly live?: LiveOptions;
  readonly dashboard?: DashboardOptions;
  /** Where the live handlers are mounted. @default beside the page: '/live/tracing', '/live/metrics' */
  readonly paths?: { readonly tracing: string; readonly metrics: string };
  /** Where the page is mounted. @default '/dashboard' */
  readonly page?: string;
  /** The telemetry clock, to let tokens expire without waiting. */
  readonly now?: () => number;
  /** The host's own routes, tried first; true when it answered. */
  readonly route?: (path: string, req: IncomingMessage, res: ServerResponse) => boolean;
}

/**
 * A real telemetry instance and a real node:http server on 127.0.0.1 mounting the dashboard at
 * `page` and the live handlers at `paths` (beside the page by default); anything else is a 404. `requests` records every URL served.
 */
export async function serveDashboard(options: ServeOptions = {}) {
  const live = options.live ?? { ...FAST, authorize: () => true };
  const paths = options.paths ?? { tracing: '/live/tracing', metrics: '/live/metrics' };
  const telemetry: Telemetry = make(options.now === undefined ? { live } : { live, now: options.now });
  const dashboard = options.dashboard ?? { metricsInterval: 100 };
  const handler = createDashboard(resolveDashboard(dashboard, 'options.dashboard', live.minMetricsInterval));
  const page = options.page ?? '/dashboard';
  const requests: string[] = [];
  const { origin } = await listenLoopback((req, res) => {
    requests.push(req.url ?? '');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (options.route?.(path, req, res) === true) return;
    if (path === page) handler.node(req, res);
    else if (path === paths.tracing) telemetry.handlers.liveTracing.node(req, res);
    else if (path === paths.metrics) telemetry.handlers.liveMetrics.node(req, res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  return { telemetry, origin, requests, url: `${origin}${page}` };
}

/** Everything the page said that a working page never says: CSP violations, errors, uncaught exceptions. */
export interface PageLog {
  readonly violations: string[];
  readonly errors: string[];
}

let browser: Browser | undefined;
let context: BrowserContext | undefined;

/** The system Chromium that playwright-core drives: browser tests are skipped without it (failed on CI). */
export const chromiumProgram = needsProgram('chromium');

/** One headless Chromium for a test file; a fresh context (no shared state) per test. */
export function useBrowser(): void {
  beforeAll(async () => {
    if (!chromiumProgram.found) return;
    browser = await chromium.launch({ executablePath: chromiumProgram.path, args: ['--no-sandbox'] });
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
  });
  afterAll(async () => {
    await browser?.close();
  });
}

/** Opens `url` in a new page that records CSP violations and errors; `cookie` (`name=value`) is set first. */
export async function openPage(url: string, cookie?: string): Promise<{ page: Page; log: PageLog }> {
  if (browser === undefined) throw new Error('useBrowser() first');
  context ??= await browser.newContext();
  if (cookie !== undefined) {
    const [name = '', value = ''] = cookie.split('=');
    await context.addCookies([{ name, value, url }]);
  }
  const page = await context.newPage();
  const log: PageLog = { violations: [], errors: [] };
  // Runs before the page's own script; init scripts are injected by the browser, outside the page's CSP.
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('csp-violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
  );
  page.on('console', (message) => {
    if (message.text().startsWith('csp-violation')) log.violations.push(message.text());
    else if (message.type() === 'error') log.errors.push(message.text());
  });
  page.on('pageerror', (error) => log.errors.push(`pageerror: ${error.message}`));
  await page.goto(url);
  return { page, log };
}

/** A demo SMTP session from `remoteIp` (EHLO `domain`, alice@`domain` to bob@example.net), queued. */
export function demoSession(telemetry: Telemetry, remoteIp: string, domain: string): void {
  session(telemetry, {
    connection: connection(remoteIp, 40_000),
    ehlo: domain,
    from: `alice@${domain}`,
    to: ['bob@example.net'],
    queued: {},
  });
}

/** The example mail server's dashboard as an operator opens it: live tokens and the history's bearer token in the fragment, at 1280×800. */
export async function openAdmin(
  mx: { readonly telemetry: Telemetry; readonly adminUrl: string; readonly historyToken: string },
  hash = '',
): Promise<{ page: Page; log: PageLog }> {
  const tracing = mx.telemetry.live.issueToken({ scope: 'tracing' });
  const metrics = mx.telemetry.live.issueToken({ scope: 'metrics' });
  const opened = await openPage(`${mx.adminUrl}/dashboard#${hash}token=${tracing}&token=${metrics}&history=${mx.historyToken}`);
  await opened.page.setViewportSize({ width: 1280, height: 800 });
  return opened;
}
