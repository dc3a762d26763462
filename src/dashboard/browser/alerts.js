import { $, el, number, poller } from './dom.js';
import { readData } from './history.js';

/** Milliseconds between reads while the Alerts view is open. */
const POLL = 5000;
const STATES = new Set(['inactive', 'pending', 'firing', 'resolved']);

/**
 * The Alerts view: every rule of `handlers.alerts` with its state, value, since when and condition,
 * and the recent transitions, newest first. Read when the view opens and every 5 s while it is open,
 * with the page's cookies and the history's bearer token. Every value is written as text.
 * @param {string | undefined} configured where `handlers.alerts` is mounted; unset, `alerts` beside the page
 * @param {string} bearer
 * @returns {{ show(): void, hide(): void }}
 */
export function alertsView(configured, bearer) {
  const url = new URL(configured || 'alerts', location.href).href;
  /** @type {Record<string, string>} */
  const headers = bearer ? { authorization: `Bearer ${bearer}` } : {};
  const info = $('alerts-info');
  let reading = false;

  async function read() {
    if (reading) return;
    reading = true;
    try {
      const response = await fetch(url, { headers, credentials: 'same-origin', cache: 'no-store' });
      const data = await readData(response, 'the alerts');
      render(Array.isArray(data?.rules) ? data.rules : [], Array.isArray(data?.transitions) ? data.transitions : []);
      info.className = 'muted';
      info.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      info.className = 'error';
      info.textContent = error instanceof Error ? error.message : 'the alerts could not be read';
    } finally {
      reading = false;
    }
  }

  /**
   * @param {any[]} rules
   * @param {any[]} transitions
   */
  function render(rules, transitions) {
    const body = $('alert-rules');
    body.replaceChildren(
      ...rules.map((r) => {
        const tr = el('tr');
        tr.dataset.rule = String(r.id);
        tr.append(
          el('td', 'type', String(r.id)),
          cell(stateBadge(r.enabled === false ? 'disabled' : r.state)),
          el('td', 'size', value(r.value)),
          el('td', 'time', since(r)),
          el('td', 'values', String(r.condition ?? '')),
          el('td', 'values', labels(r.labels)),
        );
        return tr;
      }),
    );
    if (rules.length === 0) {
      const tr = el('tr');
      const td = el('td', 'muted', 'No alert rules are configured.');
      td.colSpan = 6;
      tr.append(td);
      body.append(tr);
    }
    $('alert-transitions').replaceChildren(
      ...transitions.map((t) => {
        const tr = el('tr');
        tr.append(
          el('td', 'time', when(t.at)),
          el('td', 'type', String(t.id)),
          cell(stateBadge(t.from)),
          cell(stateBadge(t.to)),
          el('td', 'size', value(t.value)),
        );
        return tr;
      }),
    );
    $('transitions-empty').hidden = transitions.length > 0;
  }

  $('alerts-refresh').addEventListener('click', () => void read());
  return {
    ...poller(read, POLL),
  };
}

/** @param {HTMLElement} child */
function cell(child) {
  const td = el('td');
  td.append(child);
  return td;
}

/** @param {unknown} state */
function stateBadge(state) {
  const text = STATES.has(String(state)) || state === 'disabled' ? String(state) : 'unknown';
  const badge = el('span', `outcome alert-${text}`, text);
  badge.dataset.state = text;
  return badge;
}

/** @param {unknown} v */
function value(v) {
  if (typeof v === 'number') return Number.isFinite(v) ? number.format(v) : String(v);
  return typeof v === 'string' ? v : '—';
}

/** @param {unknown} at */
function when(at) {
  return typeof at === 'number' && Number.isFinite(at) ? new Date(at).toLocaleString() : '—';
}

/** When the rule entered its state: firing since it fired, pending since active, resolved since resolution. */
function since(/** @type {any} */ r) {
  const at =
    r.state === 'firing' ? r.firedAt : r.state === 'pending' ? r.activeAt : r.state === 'resolved' ? r.resolvedAt : undefined;
  return at === undefined ? '—' : when(at);
}

/** @param {unknown} l */
function labels(l) {
  if (!l || typeof l !== 'object') return '';
  return Object.entries(l)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}
