import { $, el, number, poller, SVG_NS as SVG } from './dom.js';

/** Most points a chart draws across its range; denser series are summed (or averaged) into that many steps. */
const STEPS = 120;
/** Milliseconds between reads of the history while the Charts view is open. */
const POLL = 10_000;
/** Most stored events a percentile chart reads (the history's page limit). */
const MAX_EVENTS = 10_000;
/** The chart's drawing box, in SVG units: plot area inside the margins. */
const W = 640;
const H = 230;
const M = { left: 56, right: 12, top: 24, bottom: 34 };

/**
 * @typedef {object} Line
 * @property {string} label
 * @property {readonly string[]} metrics Summed together.
 * @property {number} [percentile] Instead of the metrics: this percentile of the chart's `events` values in each step.
 *
 * @typedef {object} ChartDef
 * @property {string} id
 * @property {string} title
 * @property {'counter' | 'gauge' | 'histogram'} kind counter: the increase per step; gauge: its value; histogram: the mean per step
 * @property {string} unit What the y axis counts: for counters, per step (`connections / 30 s`).
 * @property {readonly Line[]} lines
 * @property {{ type: string, key: string }} [events] Where percentile lines read their values: this
 *   key of the history's stored events of this type (histogram series hold no buckets).
 */

/** @type {readonly ChartDef[]} */
export const CHARTS = [
  {
    id: 'connections',
    title: 'SMTP connections',
    kind: 'counter',
    unit: 'connections',
    lines: [{ label: 'opened', metrics: ['smtp.connection-start'] }],
  },
  {
    id: 'messages',
    title: 'Messages accepted and refused',
    kind: 'counter',
    unit: 'messages',
    lines: [
      { label: 'accepted', metrics: ['queue.message-queued'] },
      {
        label: 'refused',
        metrics: [
          'smtp.mailbox-does-not-exist',
          'smtp.relay-not-allowed',
          'smtp.message-too-large',
          'smtp.mail-from-unauthorized',
        ],
      },
    ],
  },
  {
    id: 'auth',
    title: 'Authentication failures',
    kind: 'counter',
    unit: 'failures',
    lines: [{ label: 'failed', metrics: ['auth.failed'] }],
  },
  {
    id: 'delivery',
    title: 'Delivery outcomes',
    kind: 'counter',
    unit: 'recipients',
    lines: [
      { label: 'delivered', metrics: ['delivery.delivered'] },
      { label: 'deferred', metrics: ['delivery.dsn-temp-fail'] },
      { label: 'bounced', metrics: ['delivery.dsn-perm-fail'] },
    ],
  },
  { id: 'queue', title: 'Queue size', kind: 'gauge', unit: 'messages', lines: [{ label: 'queued', metrics: ['queue.count'] }] },
  {
    id: 'delivery-time',
    title: 'Delivery time',
    kind: 'histogram',
    unit: 'ms',
    events: { type: 'delivery.completed', key: 'elapsed' },
    lines: [
      { label: 'mean', metrics: ['delivery.total-time'] },
      { label: 'p50', metrics: [], percentile: 50 },
      { label: 'p95', metrics: [], percentile: 95 },
    ],
  },
  {
    id: 'message-size',
    title: 'Message size',
    kind: 'histogram',
    unit: 'bytes',
    events: { type: 'queue.message-queued', key: 'size' },
    lines: [
      { label: 'mean', metrics: ['message.size'] },
      { label: 'p50', metrics: [], percentile: 50 },
      { label: 'p95', metrics: [], percentile: 95 },
    ],
  },
];

/**
 * The Charts view: one SVG chart per {@link CHARTS} entry over the history's metric series for the
 * last hour, 6 hours or 24 hours, read when the view opens and every 10 s while it is open, and the
 * live metric frames' current values beside each legend entry. Axes carry times and units.
 * @param {import('./history.js').HistoryApi} api
 * @returns {{ show(): void, hide(): void, onMetrics(items: unknown): void }}
 */
export function chartsView(api) {
  const range = /** @type {HTMLSelectElement} */ ($('charts-range'));
  const info = $('charts-info');
  const root = $('charts');
  /** @type {Map<string, { svg: SVGSVGElement, legend: HTMLElement, now: Map<string, HTMLElement> }>} */
  const figures = new Map();
  for (const def of CHARTS) {
    const figure = el('figure', 'chart');
    figure.dataset.chart = def.id;
    figure.tabIndex = 0;
    const caption = el('figcaption', '', def.title);
    const svg = /** @type {SVGSVGElement} */ (document.createElementNS(SVG, 'svg'));
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.setAttribute('role', 'img');
    const legend = el('ul', 'legend');
    /** @type {Map<string, HTMLElement>} */
    const now = new Map();
    def.lines.forEach((line, i) => {
      const li = el('li', `s${i}`);
      const value = el('span', 'now muted', '');
      now.set(line.label, value);
      li.append(el('span', 'swatch'), el('span', '', line.label), value);
      legend.append(li);
    });
    figure.append(caption, svg, legend);
    root.append(figure);
    figures.set(def.id, { svg, legend, now });
  }
  let reading = false;

  async function read() {
    if (reading) return;
    reading = true;
    const hours = Number(range.value) || 1;
    const to = Date.now();
    const from = to - hours * 3_600_000;
    try {
      const names = [...new Set(CHARTS.flatMap((c) => c.lines.flatMap((l) => l.metrics)))];
      const q = new URLSearchParams({ after: String(Math.floor(from / 1000)), metrics: names.join(',') });
      const data = await api.get('telemetry/metrics', q);
      const points = Array.isArray(data) ? data : [];
      for (const def of CHARTS) draw(def, points, def.events ? await observed(def.events, from) : [], from, to);
      info.className = 'muted';
      info.textContent = `${number.format(points.length)} series points, updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      info.className = 'error';
      info.textContent = error instanceof Error ? error.message : 'the history could not be read';
    } finally {
      reading = false;
    }
  }

  /**
   * The values of `key` in the stored events of `type` since `from`, newest first, as many as the
   * history's event ring still holds (at most {@link MAX_EVENTS}).
   * @param {{ type: string, key: string }} source
   * @param {number} from
   * @returns {Promise<{ t: number, v: number }[]>}
   */
  async function observed(source, from) {
    /** @type {{ t: number, v: number }[]} */
    const out = [];
    const q = new URLSearchParams({ type: source.type, after: String(Math.floor(from / 1000)), limit: String(MAX_EVENTS) });
    const page = await api.get('telemetry/events', q);
    for (const e of Array.isArray(page?.items) ? page.items : []) {
      const v = Number(e?.data?.[source.key]);
      const t = Number(e?.timestamp);
      if (Number.isFinite(v) && Number.isFinite(t)) out.push({ t, v });
    }
    return out;
  }

  /**
   * @param {ChartDef} def
   * @param {any[]} points
   * @param {{ t: number, v: number }[]} samples the chart's event values, for percentile lines
   * @param {number} from
   * @param {number} to
   */
  function draw(def, points, samples, from, to) {
    const f = /** @type {NonNullable<ReturnType<typeof figures.get>>} */ (figures.get(def.id));
    const wanted = new Set(def.lines.flatMap((l) => l.metrics));
    const mine = points.filter((p) => p && wanted.has(p.metric) && typeof p.timestamp === 'number' && p.timestamp >= from);
    // The step: the range over STEPS, but never finer than the history's own interval.
    const times = [...new Set(points.map((p) => p?.timestamp).filter((t) => typeof t === 'number'))].sort((a, b) => a - b);
    let interval = Number.POSITIVE_INFINITY;
    for (let i = 1; i < times.length; i++) interval = Math.min(interval, (times[i] ?? 0) - (times[i - 1] ?? 0));
    const step = Math.max((to - from) / STEPS, Number.isFinite(interval) ? interval : 0, 1000);
    const n = Math.ceil((to - from) / step);
    const bin = (/** @type {number} */ t) => Math.min(n - 1, Math.max(0, Math.floor((t - from) / step)));
    // Which steps the history has a snapshot in: counters read 0 there when they did not move.
    const seen = new Set(times.filter((t) => t >= from).map(bin));
    /** @type {(number | undefined)[][]} */
    const series = def.lines.map((line) => {
      if (line.percentile !== undefined) return percentiles(samples, line.percentile, n, bin);
      const metrics = new Set(line.metrics);
      const sum = new Array(n).fill(0);
      const count = new Array(n).fill(0);
      const has = new Array(n).fill(false);
      for (const p of mine) {
        if (!metrics.has(p.metric)) continue;
        const b = bin(p.timestamp);
        const v = Number(p.value) || 0;
        if (def.kind === 'gauge') {
          // Labelled gauges add up; the last snapshot of the step wins.
          sum[b] = has[b] && count[b] === p.timestamp ? sum[b] + v : v;
          count[b] = p.timestamp;
        } else {
          sum[b] += v;
          count[b] += def.kind === 'histogram' ? Number(p.count) || 0 : 1;
        }
        has[b] = true;
      }
      return sum.map((s, b) => {
        if (def.kind === 'counter') return seen.has(b) ? s : undefined;
        if (def.kind === 'gauge') return has[b] ? s : undefined;
        return has[b] && count[b] > 0 ? s / count[b] : undefined;
      });
    });
    render(f.svg, def, series, from, step, n);
    for (const line of def.lines)
      if (line.percentile !== undefined) {
        const target = f.now.get(line.label);
        if (target) target.textContent = `of ${number.format(samples.length)} stored events`;
      }
  }

  $('charts-refresh').addEventListener('click', () => void read());
  range.addEventListener('change', () => void read());
  return {
    ...poller(read, POLL),
    onMetrics(items) {
      if (!Array.isArray(items)) return;
      /** @type {Map<string, { type: string, count: number, sum: number }>} */
      const totals = new Map();
      for (const item of items) {
        if (!item || typeof item.metric !== 'string') continue;
        const t = totals.get(item.metric) ?? { type: String(item['@type']), count: 0, sum: 0 };
        t.count += Number(item.count) || 0;
        t.sum += Number(item.sum) || 0;
        totals.set(item.metric, t);
      }
      for (const def of CHARTS) {
        const f = figures.get(def.id);
        for (const line of def.lines) {
          const found = line.metrics.map((m) => totals.get(m)).filter((t) => t !== undefined);
          if (found.length === 0) continue;
          const count = found.reduce((a, t) => a + t.count, 0);
          const text =
            def.kind === 'gauge'
              ? `now ${number.format(count)}`
              : def.kind === 'histogram'
                ? `mean since start ${count > 0 ? number.format(Math.round(found.reduce((a, t) => a + t.sum, 0) / count)) : '—'} ${def.unit}`
                : `${number.format(count)} since start`;
          const target = f?.now.get(line.label);
          if (target) target.textContent = text;
        }
      }
    },
  };
}

/**
 * The nearest-rank percentile of the values in each step, or undefined where a step has none.
 * @param {{ t: number, v: number }[]} samples
 * @param {number} p
 * @param {number} n
 * @param {(t: number) => number} bin
 * @returns {(number | undefined)[]}
 */
function percentiles(samples, p, n, bin) {
  /** @type {number[][]} */
  const steps = Array.from({ length: n }, () => []);
  for (const { t, v } of samples) steps[bin(t)]?.push(v);
  return steps.map((values) => {
    if (values.length === 0) return undefined;
    values.sort((a, b) => a - b);
    return values[Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1))];
  });
}

/**
 * Draws a chart: axes with ticks, time labels and the unit, and one polyline (with a dot per point)
 * per line. Every label is set as text.
 * @param {SVGSVGElement} svg
 * @param {ChartDef} def
 * @param {(number | undefined)[][]} series
 * @param {number} from
 * @param {number} step
 * @param {number} n
 */
function render(svg, def, series, from, step, n) {
  const values = series.flat().filter((v) => v !== undefined);
  const max = nice(Math.max(1, ...values));
  const px = (/** @type {number} */ i) => M.left + ((i + 0.5) / n) * (W - M.left - M.right);
  const py = (/** @type {number} */ v) => H - M.bottom - (v / max) * (H - M.top - M.bottom);
  const nodes = [];
  // Y axis: 0, half and the top, with the unit.
  for (const v of [0, max / 2, max]) {
    nodes.push(svgEl('line', 'grid', { x1: M.left, x2: W - M.right, y1: py(v), y2: py(v) }));
    nodes.push(svgEl('text', 'tick y', { x: M.left - 6, y: py(v) + 4 }, short(v)));
  }
  const perStep = def.kind === 'counter' ? ` / ${duration(step)}` : '';
  nodes.push(svgEl('text', 'unit', { x: 4, y: M.top - 10 }, `${def.unit}${perStep}`));
  // X axis: five times across the range.
  nodes.push(svgEl('line', 'axis', { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom }));
  const span = step * n;
  for (let k = 0; k <= 4; k++) {
    const t = from + (span * k) / 4;
    const x = M.left + (k / 4) * (W - M.left - M.right);
    nodes.push(svgEl('line', 'axis', { x1: x, x2: x, y1: H - M.bottom, y2: H - M.bottom + 4 }));
    const anchor = k === 0 ? 'start' : k === 4 ? 'end' : 'middle';
    nodes.push(svgEl('text', `tick x ${anchor}`, { x, y: H - M.bottom + 16 }, clock(t, span)));
  }
  nodes.push(svgEl('text', 'unit x', { x: W - M.right, y: H - 2 }, 'time'));
  let drawn = 0;
  series.forEach((s, i) => {
    const pts = [];
    for (let b = 0; b < s.length; b++) {
      const v = s[b];
      if (v === undefined) continue;
      pts.push(`${px(b).toFixed(1)},${py(v).toFixed(1)}`);
      const dot = svgEl('circle', `point s${i}`, { cx: px(b), cy: py(v), r: 2 });
      dot.append(svgEl('title', '', {}, `${def.lines[i]?.label}: ${number.format(Math.round(v * 100) / 100)} ${def.unit}`));
      nodes.push(dot);
    }
    drawn += pts.length;
    nodes.push(svgEl('polyline', `line s${i}`, { points: pts.join(' ') }));
  });
  svg.replaceChildren(...nodes);
  svg.dataset.points = String(drawn);
  const last = series.map((s, i) => `${def.lines[i]?.label} ${short([...s].reverse().find((v) => v !== undefined) ?? 0)}`);
  svg.setAttribute('aria-label', `${def.title}, ${def.unit}${perStep}: ${drawn} points; latest ${last.join(', ')}`);
  svg.parentElement?.setAttribute('aria-label', svg.getAttribute('aria-label') ?? def.title);
}

/**
 * @param {string} tag
 * @param {string} className
 * @param {Record<string, number | string>} attributes
 * @param {string} [text]
 */
function svgEl(tag, className, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  if (className) node.setAttribute('class', className);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, typeof v === 'number' ? v.toFixed(1) : v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The next 1, 2 or 5 × 10ⁿ at or above `v`: a round top for the y axis. */
function nice(/** @type {number} */ v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** A tick value: 1.5k, 2M, 0.5. */
function short(/** @type {number} */ v) {
  return new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 }).format(v);
}

/** A step as text: 30 s, 5 min, 1 h. */
function duration(/** @type {number} */ ms) {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

/** A time label: HH:MM (with seconds over a short range). */
function clock(/** @type {number} */ t, /** @type {number} */ span) {
  const d = new Date(t);
  return span < 600_000
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}
