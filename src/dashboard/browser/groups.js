import { $, el } from './dom.js';

/** Sessions the grouped view keeps; past it the oldest is dropped. */
const MAX_GROUPS = 200;

/**
 * The live events grouped by session (span id), newest session first: each is a `<details>` that
 * expands to its events. Events outside a session are grouped under "no session".
 * @param {(event: import('./table.js').TraceEvent) => HTMLTableRowElement} row Renders one event as the table does.
 * @returns {{ add(events: import('./table.js').TraceEvent[]): void, clear(): void }}
 */
export function sessionGroups(row) {
  const root = $('groups');
  /** @type {Map<string, { details: HTMLDetailsElement, summary: HTMLElement, body: HTMLElement, count: number }>} */
  const groups = new Map();
  return {
    add(events) {
      for (const event of events) {
        const data = event.data && typeof event.data === 'object' ? /** @type {Record<string, unknown>} */ (event.data) : {};
        const span = typeof data.spanId === 'number' || typeof data.spanId === 'string' ? String(data.spanId) : '';
        let group = groups.get(span);
        if (!group) {
          const details = el('details', 'group');
          details.dataset.span = span;
          const summary = el('summary');
          const body = el('tbody');
          const table = el('table');
          table.append(body);
          const wrap = el('div', 'table');
          wrap.append(table);
          details.append(summary, wrap);
          group = { details, summary, body, count: 0 };
          groups.set(span, group);
          if (groups.size > MAX_GROUPS) {
            const [oldest] = groups.keys();
            if (oldest !== undefined) {
              groups.get(oldest)?.details.remove();
              groups.delete(oldest);
            }
          }
        }
        group.body.append(row(event));
        group.count++;
        const first = /** @type {Record<string, unknown>} */ (group.count === 1 ? data : {});
        if (group.count === 1) group.details.dataset.title = describe(span, first);
        group.summary.textContent = `${group.details.dataset.title} · ${group.count} event${group.count === 1 ? '' : 's'} · last ${String(event.type)}`;
        // The session with the newest event comes first.
        if (root.firstChild !== group.details) root.insertBefore(group.details, root.firstChild);
      }
    },
    clear() {
      groups.clear();
      root.replaceChildren();
    },
  };
}

/**
 * @param {string} span
 * @param {Record<string, unknown>} data
 */
function describe(span, data) {
  if (!span) return 'No session';
  const who = [data.remoteIp, data.hostname, data.queueId].filter((v) => typeof v === 'string' && v !== '').join(' ');
  return `Session ${span}${who ? ` · ${who}` : ''}`;
}
