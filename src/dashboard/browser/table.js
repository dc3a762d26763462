import { $, el, number } from './dom.js';
import { sessionGroups } from './groups.js';

/** Levels with a colour of their own. */
/** @type {Record<string, number>} */
const LEVELS = { trace: 1, debug: 1, info: 1, warn: 1, error: 1 };
/** Longer values are cut in the cell and shown whole in its tooltip. */
const CUT = 300;

/**
 * One event of a trace frame, as sent by the live tracing stream; any field may be missing.
 * @typedef {object} TraceEvent
 * @property {unknown} [createdAt]
 * @property {unknown} [level]
 * @property {unknown} [type]
 * @property {unknown} [text]
 * @property {unknown} [data]
 */

/**
 * @typedef {object} EventTable
 * @property {(events: unknown) => void} onTrace Takes one trace frame.
 * @property {(frame: unknown) => void} onDropped Takes one frame counting events the stream dropped.
 * @property {() => void} clear Empties the table and the paused backlog.
 * @property {() => void} status Writes the row count and the backlog.
 */

/**
 * The live event table, newest first, at most `maxRows` rows; Pause holds new events back.
 * @param {number} maxRows
 * @returns {EventTable}
 */
export function eventTable(maxRows) {
  const rowsEl = $('rows');
  const info = $('rows-info');
  const pauseButton = $('pause');
  let paused = false;
  /** @type {TraceEvent[]} */
  let waiting = [];
  let dropped = 0;
  const groups = sessionGroups(row);
  const groupButton = $('group');
  groupButton.addEventListener('click', () => {
    const on = groupButton.getAttribute('aria-pressed') !== 'true';
    groupButton.setAttribute('aria-pressed', String(on));
    $('groups').hidden = !on;
    $('flat').hidden = on;
  });
  /** @param {TraceEvent[]} events */
  function addRows(events) {
    groups.add(events);
    const fragment = document.createDocumentFragment();
    for (let i = events.length - 1; i >= 0; i--) fragment.append(row(/** @type {TraceEvent} */ (events[i])));
    rowsEl.insertBefore(fragment, rowsEl.firstChild);
    while (rowsEl.childElementCount > maxRows) rowsEl.lastElementChild?.remove();
    status();
  }
  function status() {
    let text = `${rowsEl.childElementCount} of at most ${maxRows} rows`;
    if (paused) text += `, paused: ${waiting.length} waiting`;
    info.textContent = text;
  }
  function clear() {
    rowsEl.replaceChildren();
    groups.clear();
    waiting = [];
    status();
  }
  pauseButton.addEventListener('click', () => {
    paused = !paused;
    pauseButton.textContent = paused ? 'Resume' : 'Pause';
    pauseButton.setAttribute('aria-pressed', String(paused));
    if (!paused) {
      const events = waiting;
      waiting = [];
      addRows(events);
    }
    status();
  });
  $('clear').addEventListener('click', clear);
  return {
    onTrace(events) {
      if (!Array.isArray(events)) return;
      /** @type {TraceEvent[]} */
      const valid = events.filter((e) => e && typeof e === 'object');
      if (!paused) return addRows(valid);
      waiting.push(...valid);
      if (waiting.length > maxRows) waiting = waiting.slice(waiting.length - maxRows);
      status();
    },
    onDropped(frame) {
      dropped += Number(/** @type {{ dropped?: unknown } | null | undefined} */ (frame)?.dropped) || 0;
      $('dropped-count').textContent = number.format(dropped);
      $('dropped').hidden = dropped === 0;
    },
    clear,
    status,
  };
}

/** @param {TraceEvent} event */
export function row(event) {
  const tr = el('tr');
  const when = el('td', 'time', time(event.createdAt));
  when.title = String(event.createdAt);
  const level = String(event.level);
  const lvl = el('td', LEVELS[level] ? `lvl lvl-${level}` : 'lvl', level);
  const values = el('td', 'values');
  const data = event.data && typeof event.data === 'object' ? event.data : {};
  for (const [key, value] of Object.entries(data)) {
    const text = valueText(value);
    const kv = el('span', 'kv');
    kv.append(el('span', 'k', `${key}=`), text.length > CUT ? `${text.slice(0, CUT)}…` : text);
    if (text.length > CUT) kv.title = text;
    values.append(kv, ' ');
  }
  tr.append(when, lvl, el('td', 'type', String(event.type)), el('td', 'text', String(event.text ?? '')), values);
  return tr;
}

/**
 * The time of day with milliseconds, or the value as sent when it is no date.
 * @param {unknown} iso
 */
function time(iso) {
  const d = new Date(/** @type {string} */ (iso));
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.toTimeString().slice(0, 8)}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** @param {unknown} value */
function valueText(value) {
  /** @type {string | undefined} */
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text === undefined ? String(value) : text;
}
