/**
 * The dashboard page's script, bundled by scripts/bundle-dashboard.ts into one classic inline
 * script that the page allows by its hash. Settings come from `data-*` attributes of `<body>`, the
 * token from the page's URL fragment: the script itself never changes per request.
 */
import { alertsView } from './alerts.js';
import { chartsView } from './charts.js';
import { $ } from './dom.js';
import { historyApi } from './history.js';
import { messageSearch } from './search.js';
import { places, stream } from './stream.js';
import { eventTable } from './table.js';
import { metricTiles } from './tiles.js';
import { takeTokens } from './tokens.js';

const cfg = document.body.dataset;
const maxRows = Math.max(1, Number(cfg.maxRows) || 500);
const patterns = (cfg.metrics || '*').split(',').filter((p) => p !== '');
const seconds = Number(cfg.interval) || 1;
const tokens = takeTokens();

const onTiles = metricTiles(patterns, seconds);
const history = historyApi(cfg.historyPath, tokens.history);
const charts = chartsView(history);
/** @param {unknown} items */
const onMetrics = (items) => {
  onTiles(items);
  charts.onMetrics(items);
};
const table = eventTable(maxRows);
const metrics = stream(
  'metrics',
  places(cfg.metricsPath, 'metrics'),
  $('metrics-state'),
  { metrics: onMetrics },
  { token: tokens.metrics, tokenPath: cfg.tokenPath },
);
const tracing = stream(
  'tracing',
  places(cfg.tracingPath, 'tracing'),
  $('trace-state'),
  { trace: table.onTrace, dropped: table.onDropped },
  { token: tokens.tracing, tokenPath: cfg.tokenPath },
);
const filterInput = /** @type {HTMLInputElement} */ ($('filter'));
const levelSelect = /** @type {HTMLSelectElement} */ ($('level'));
const traceQuery = () => {
  const q = new URLSearchParams({ level: levelSelect.value });
  const text = filterInput.value.trim();
  if (text) q.set('filter', text);
  return q;
};
/** @type {number | undefined} */
let typing;
// A new filter is a new stream: rows of the old one would not match it.
const refilter = () => {
  clearTimeout(typing);
  table.clear();
  tracing.open(traceQuery());
};
filterInput.addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(refilter, 300);
});
filterInput.addEventListener('keydown', (event) => event.key === 'Enter' && refilter());
levelSelect.addEventListener('change', refilter);
const start = () => {
  metrics.open(new URLSearchParams({ metrics: patterns.join(','), interval: String(seconds) }));
  tracing.open(traceQuery());
};
// Streams end with the page, and come back if it is restored from the back-forward cache.
addEventListener('pagehide', () => {
  metrics.close();
  tracing.close();
});
addEventListener('pageshow', (event) => event.persisted && start());
table.status();
start();

// The views: live (tiles and events), the message search and the alerts; a link to a message opens the search.
const alerts = alertsView(cfg.alertsPath, tokens.history);
/** @param {string} name */
const view = (name) => {
  for (const tab of document.querySelectorAll('[data-view]')) {
    const on = /** @type {HTMLElement} */ (tab).dataset.view === name;
    tab.setAttribute('aria-selected', String(on));
    /** @type {HTMLElement} */ ($(`view-${/** @type {HTMLElement} */ (tab).dataset.view}`)).hidden = !on;
  }
  if (name === 'alerts') alerts.show();
  else alerts.hide();
  if (name === 'charts') charts.show();
  else charts.hide();
};
for (const tab of document.querySelectorAll('[data-view]'))
  tab.addEventListener('click', () => view(String(/** @type {HTMLElement} */ (tab).dataset.view)));
messageSearch(history, () => view('messages'));
