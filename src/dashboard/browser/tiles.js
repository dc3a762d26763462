import { $, el, number, SVG_NS } from './dom.js';

/** Points in a sparkline: the last minute at one frame a second. */
const HISTORY = 60;

/** @type {Record<string, string>} */
const NAMES = {
  'smtp.connection-start': 'SMTP connections',
  'queue.message-queued': 'Messages queued',
  'delivery.completed': 'Deliveries completed',
  'delivery.dsn-perm-fail': 'Deliveries failed',
  'auth.failed': 'Auth failures',
  'queue.count': 'Queue',
};
/** @type {Record<string, string>} */
const PROTOCOLS = { smtp: 'SMTP', imap: 'IMAP', pop3: 'POP3', http: 'HTTP', sieve: 'ManageSieve' };

/**
 * @typedef {object} Tile
 * @property {string} name
 * @property {string} type
 * @property {number} rank Position of the first configured pattern the name matches.
 * @property {HTMLElement} root
 * @property {HTMLElement} value
 * @property {HTMLElement} sub
 * @property {SVGPolylineElement} line
 * @property {number | undefined} last The previous frame's count.
 * @property {number[]} points
 */

/**
 * The metric tiles, one per metric name, in the order of the configured patterns.
 * @param {readonly string[]} patterns
 * @param {number} seconds The metric frame interval.
 * @returns {(items: unknown) => void} Takes one metrics frame.
 */
export function metricTiles(patterns, seconds) {
  /** @type {Map<string, Tile>} */
  const tiles = new Map();
  const tilesEl = $('tiles');
  const rank = (/** @type {string} */ name) => {
    const i = patterns.findIndex((p) => new RegExp(`^${p.split('*').map(literal).join('.*')}$`).test(name));
    return i < 0 ? patterns.length : i;
  };
  /**
   * @param {string} name
   * @param {string} type
   * @returns {Tile}
   */
  function tile(name, type) {
    const known = tiles.get(name);
    if (known) return known;
    const root = el('div', 'tile');
    root.dataset.metric = name;
    const value = el('div', 'value', '0');
    const sub = el('div', 'sub', '');
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 100 28');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('aria-hidden', 'true');
    const line = document.createElementNS(SVG_NS, 'polyline');
    svg.appendChild(line);
    root.append(el('div', 'label', label(name)), el('div', 'name', name), value, sub, svg);
    /** @type {Tile} */
    const t = { name, type, rank: rank(name), root, value, sub, line, last: undefined, points: [] };
    tiles.set(name, t);
    const after = [...tiles.values()].filter((o) => o !== t && (o.rank > t.rank || (o.rank === t.rank && o.name > name)));
    const next = after.sort((a, b) => a.rank - b.rank || (a.name < b.name ? -1 : 1))[0];
    tilesEl.insertBefore(root, next ? next.root : null);
    $('tiles-empty').hidden = true;
    return t;
  }
  return (items) => {
    if (!Array.isArray(items)) return;
    /** @type {Map<string, { type: string, count: number }>} */
    const totals = new Map();
    for (const item of items) {
      if (!item || typeof item.metric !== 'string') continue;
      const prev = totals.get(item.metric);
      totals.set(item.metric, { type: String(item['@type']), count: (prev ? prev.count : 0) + (Number(item.count) || 0) });
    }
    for (const [name, { type, count }] of totals) {
      const t = tile(name, type);
      // Counters and histogram counts only grow: the line shows the increase per frame, gauges their value.
      const gauge = type === 'Gauge';
      const delta = t.last === undefined ? 0 : Math.max(0, count - t.last);
      t.last = count;
      t.points.push(gauge ? count : delta);
      if (t.points.length > HISTORY) t.points.shift();
      t.value.textContent = number.format(count);
      t.sub.textContent = gauge ? 'now' : `+${number.format(delta)} in ${seconds} s`;
      t.root.dataset.value = String(count);
      spark(t);
    }
  };
}

/** @param {string} text */
function literal(text) {
  return text.replace(/[.+?^$()[\]{}|\\]/g, '\\$&');
}

/**
 * The tile's title: a plain name for the common metrics, else the metric's own name.
 * @param {string} name
 */
function label(name) {
  if (NAMES[name]) return NAMES[name];
  const m = /^([a-z0-9-]+)\.active-connections$/.exec(name);
  if (!m) return name;
  const [, protocol = ''] = m;
  return protocol === 'delivery' ? 'Active deliveries' : `Open ${PROTOCOLS[protocol] || protocol} connections`;
}

/** @param {Tile} t */
function spark(t) {
  const p = t.points;
  const max = Math.max(1, ...p);
  const min = Math.min(0, ...p);
  const step = 100 / (HISTORY - 1);
  const x0 = 100 - (p.length - 1) * step;
  t.line.setAttribute(
    'points',
    p.map((v, i) => `${(x0 + i * step).toFixed(2)},${(27 - ((v - min) / (max - min)) * 26).toFixed(2)}`).join(' '),
  );
}
