import { crypto } from '../base/builtins.js';
import { SCRIPT, STYLE } from './browser-bundle.js';
import type { ResolvedDashboard } from './options.js';

const hash = (text: string) => `'sha256-${crypto().createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The page's policy: nothing loads but its own hashed script and style, streams from its own origin,
 * and a `data:` favicon (else Chromium fetches `/favicon.ico` and reports it refused). Hashes rather
 * than nonces: the script is the same for every response, so the page can be rendered once.
 */
export const contentSecurityPolicy = (): string =>
  [
    "default-src 'none'",
    `script-src ${hash(SCRIPT)}`,
    `style-src ${hash(STYLE)}`,
    "connect-src 'self'",
    'img-src data:',
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** Escapes text for HTML content and double-quoted attributes. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The whole page. Settings reach the script as `data-*` attributes; no secret is ever part of it. */
export function renderPage(options: ResolvedDashboard): string {
  const title = escapeHtml(options.title);
  const data: Record<string, string> = {
    'max-rows': String(options.maxRows),
    metrics: options.metrics.join(','),
    interval: String(options.metricsInterval / 1000),
  };
  // Unset paths stay out of the page: its script then finds the streams beside its own URL.
  if (options.liveMetricsPath !== undefined) data['metrics-path'] = options.liveMetricsPath;
  if (options.liveTracingPath !== undefined) data['tracing-path'] = options.liveTracingPath;
  if (options.tokenPath !== undefined) data['token-path'] = options.tokenPath;
  if (options.historyPath !== undefined) data['history-path'] = options.historyPath;
  if (options.alertsPath !== undefined) data['alerts-path'] = options.alertsPath;
  const attributes = Object.entries(data)
    .map(([name, value]) => ` data-${name}="${escapeHtml(value)}"`)
    .join('');
  const levels = LEVELS.map(
    (level) => `<option value="${level}"${level === options.level ? ' selected' : ''}>${level} and above</option>`,
  ).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body${attributes}>
<header>
<h1>${title}</h1>
<nav class="tabs" role="tablist" aria-label="Views">
<button id="tab-live" type="button" role="tab" data-view="live" aria-controls="view-live" aria-selected="true">Live</button>
<button id="tab-charts" type="button" role="tab" data-view="charts" aria-controls="view-charts" aria-selected="false">Charts</button>
<button id="tab-messages" type="button" role="tab" data-view="messages" aria-controls="view-messages" aria-selected="false">Messages</button>
<button id="tab-alerts" type="button" role="tab" data-view="alerts" aria-controls="view-alerts" aria-selected="false">Alerts</button>
</nav>
<div class="badges" role="status" aria-live="polite">
<span id="metrics-state" class="badge" data-label="metrics" data-state="connecting">metrics: connecting</span>
<span id="trace-state" class="badge" data-label="events" data-state="connecting">events: connecting</span>
<span id="dropped" class="badge drops" hidden>dropped events: <b id="dropped-count">0</b></span>
</div>
</header>
<main>
<div id="view-live" class="view" role="tabpanel" aria-labelledby="tab-live">
<section aria-labelledby="metrics-heading">
<h2 id="metrics-heading">Metrics</h2>
<div id="tiles" class="tiles"></div>
<p id="tiles-empty" class="muted">Waiting for the first metrics frame…</p>
</section>
<section aria-labelledby="events-heading">
<h2 id="events-heading">Live events</h2>
<div class="controls">
<input id="filter" type="search" maxlength="1024" placeholder="Filter: text in any value (address, IP, EHLO name…)" aria-label="Filter text" autocomplete="off">
<select id="level" aria-label="Least severe level">${levels}</select>
<button id="pause" type="button" aria-pressed="false">Pause</button>
<button id="clear" type="button">Clear</button>
<button id="group" type="button" aria-pressed="false">Group by session</button>
<span id="rows-info" class="muted"></span>
</div>
<div id="groups" class="groups" hidden></div>
<div id="flat" class="table">
<table>
<thead><tr><th>Time</th><th>Level</th><th>Event</th><th>Description</th><th>Values</th></tr></thead>
<tbody id="rows"></tbody>
</table>
</div>
</section>
</div>
<div id="view-charts" class="view" role="tabpanel" aria-labelledby="tab-charts" hidden>
<section aria-labelledby="charts-heading">
<h2 id="charts-heading">Charts</h2>
<div class="controls">
<select id="charts-range" aria-label="Time range">
<option value="1" selected>Last hour</option>
<option value="6">Last 6 hours</option>
<option value="24">Last 24 hours</option>
</select>
<button id="charts-refresh" type="button">Refresh</button>
<span id="charts-info" class="muted" role="status" aria-live="polite"></span>
</div>
<div id="charts" class="charts"></div>
</section>
</div>
<div id="view-messages" class="view" role="tabpanel" aria-labelledby="tab-messages" hidden>
<section aria-labelledby="search-heading">
<h2 id="search-heading">Message search</h2>
<form id="search" class="controls" role="search">
<select id="search-field" aria-label="Search by">
<option value="to">Recipient</option>
<option value="from">Sender</option>
<option value="queueId">Queue id</option>
<option value="messageId">Message id</option>
<option value="remoteIp">Remote IP</option>
</select>
<input id="search-value" type="search" maxlength="512" placeholder="bob@example.org, a queue id, 192.0.2.7…" aria-label="Search value" autocomplete="off">
<select id="search-range" aria-label="Time range">
<option value="1">Last hour</option>
<option value="6">Last 6 hours</option>
<option value="24" selected>Last 24 hours</option>
<option value="168">Last 7 days</option>
<option value="0">Any time</option>
<option value="custom">Custom…</option>
</select>
<span id="search-custom" hidden>
<label>From <input id="search-from" type="datetime-local" step="1"></label>
<label>to <input id="search-to" type="datetime-local" step="1"></label>
</span>
<button type="submit">Search</button>
<span id="results-info" class="muted" role="status" aria-live="polite"></span>
</form>
<div class="table">
<table>
<thead><tr><th>Time</th><th>Queue id</th><th>From</th><th>To</th><th>Size</th><th>Outcome</th></tr></thead>
<tbody id="results"></tbody>
</table>
</div>
<p id="results-empty" class="muted">Search by recipient, sender, queue id, message id or remote IP; open a message to see its timeline.</p>
<button id="results-more" type="button" hidden>Older results</button>
</section>
<section id="timeline" class="timeline" aria-label="Message timeline" tabindex="-1" hidden></section>
</div>
<div id="view-alerts" class="view" role="tabpanel" aria-labelledby="tab-alerts" hidden>
<section aria-labelledby="alerts-heading">
<h2 id="alerts-heading">Alert rules</h2>
<div class="controls">
<button id="alerts-refresh" type="button">Refresh</button>
<span id="alerts-info" class="muted" role="status" aria-live="polite"></span>
</div>
<div class="table">
<table>
<thead><tr><th>Rule</th><th>State</th><th>Value</th><th>Since</th><th>Condition</th><th>Labels</th></tr></thead>
<tbody id="alert-rules"></tbody>
</table>
</div>
</section>
<section aria-labelledby="transitions-heading">
<h2 id="transitions-heading">Recent transitions</h2>
<div class="table">
<table>
<thead><tr><th>Time</th><th>Rule</th><th>From</th><th>To</th><th>Value</th></tr></thead>
<tbody id="alert-transitions"></tbody>
</table>
</div>
<p id="transitions-empty" class="muted">No transitions yet.</p>
</section>
</div>
</main>
<noscript>This dashboard needs JavaScript for its live streams.</noscript>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
