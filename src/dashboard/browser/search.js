import { $, el } from './dom.js';

/**
 * An event as the history serves it; any field may be missing or of another type.
 * @typedef {{ id?: unknown, type?: unknown, level?: unknown, timestamp?: unknown, spanId?: unknown, data?: unknown }} HEvent
 */
/**
 * A stored span as the trace list serves it with `values=1`.
 * @typedef {{ id?: unknown, type?: unknown, timestamp?: unknown, messages?: unknown, events?: unknown, to?: unknown, from?: unknown }} HTrace
 */
/**
 * One message: its inbound session, its delivery attempts, and the recipients refused on the way in.
 * @typedef {object} Message
 * @property {string} key `message=<queue id>` or `session=<span id>`: its link.
 * @property {string} queueId
 * @property {string} messageId
 * @property {string} from
 * @property {string[]} to
 * @property {number | undefined} size
 * @property {number} time
 * @property {HTrace | undefined} inbound
 * @property {HTrace[]} attempts
 * @property {HEvent[]} refused
 */
/** @typedef {'delivered' | 'deferred' | 'bounced' | 'refused' | 'queued'} Outcome */

/** Refusals of the inbound session: the recipient or message was not accepted. */
const REFUSALS = [
  'smtp.mailbox-does-not-exist',
  'smtp.relay-not-allowed',
  'smtp.rcpt-to-greylisted',
  'smtp.too-many-recipients',
  'smtp.too-many-invalid-rcpt',
  'smtp.rate-limit-exceeded',
  'smtp.mail-from-not-allowed',
  'smtp.message-too-large',
];
/** Delivery events that end an attempt, or a recipient's part of it, without delivery. */
const FAILURE = /^delivery\.(.*-(rejected|failed|error)|failed|dsn-(perm|temp)-fail)$|^queue\.rescheduled$/;
const PAGE = 20;
const HOUR = 3_600_000;

/** @param {unknown} v */
const str = (v) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
/** @param {unknown} v @returns {Record<string, unknown>} */
const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? /** @type {Record<string, unknown>} */ (v) : {});
/** @param {unknown} v @returns {any[]} */
const list = (v) => (Array.isArray(v) ? v : []);
/** @param {HEvent} e */
const data = (e) => obj(e.data);

/**
 * The message search: a form over the history's traces, a paged list of messages with their
 * outcome, and the timeline of the one the URL fragment names (`#message=<queue id>` or
 * `#session=<span id>`), so a link to it can be copied.
 * @param {import('./history.js').HistoryApi} api
 * @param {() => void} show Brings the search view forward.
 */
export function messageSearch(api, show) {
  const form = /** @type {HTMLFormElement} */ ($('search'));
  const field = /** @type {HTMLSelectElement} */ ($('search-field'));
  const input = /** @type {HTMLInputElement} */ ($('search-value'));
  const range = /** @type {HTMLSelectElement} */ ($('search-range'));
  const fromInput = /** @type {HTMLInputElement} */ ($('search-from'));
  const toInput = /** @type {HTMLInputElement} */ ($('search-to'));
  const results = $('results');
  const info = $('results-info');
  const more = /** @type {HTMLButtonElement} */ ($('results-more'));
  const timeline = $('timeline');
  /** @type {string | undefined} */
  let cursor;
  let generation = 0;
  /** Messages listed so far: a message's session and its attempts can come on different pages. */
  const shown = new Set();

  range.addEventListener('change', () => {
    $('search-custom').hidden = range.value !== 'custom';
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void run(false);
  });
  more.addEventListener('click', () => void run(true));
  addEventListener('hashchange', route);

  /** @returns {[number | undefined, number | undefined]} */
  function period() {
    if (range.value === 'custom') {
      const from = fromInput.value ? new Date(fromInput.value).getTime() : undefined;
      const to = toInput.value ? new Date(toInput.value).getTime() : undefined;
      return [Number.isNaN(from) ? undefined : from, Number.isNaN(to) ? undefined : to];
    }
    const hours = Number(range.value);
    return [hours > 0 ? Date.now() - hours * HOUR : undefined, undefined];
  }

  /** @param {boolean} next Reads the next page rather than a new search. */
  async function run(next) {
    const gen = ++generation;
    const value = input.value.trim();
    const kind = field.value;
    const [from, to] = period();
    const q = new URLSearchParams({ values: '1', limit: String(PAGE) });
    if (kind === 'queueId' && value) q.set('queue_id', value);
    // Keywords match from, to, remoteIp and messageId alike: a quoted phrase, then the field is checked here.
    else if (value) q.set('filter', `"${value.replace(/"/g, '')}"`);
    if (from !== undefined) q.set('after', String(Math.floor(from / 1000)));
    if (to !== undefined) q.set('before', String(Math.ceil(to / 1000)));
    else if (from === undefined && !value) q.set('after', '0');
    if (next && cursor) q.set('cursor', cursor);
    if (!next) {
      results.replaceChildren();
      shown.clear();
    }
    info.textContent = 'Searching…';
    more.hidden = true;
    try {
      /** @type {{ items?: unknown, total?: unknown, cursor?: unknown }} */
      const page = obj(await api.get('telemetry/traces', q));
      const traces = /** @type {HTrace[]} */ (list(page.items));
      let messages = collect(traces);
      // Complete each message with every trace of its queue id: its session and all its attempts.
      await Promise.all(messages.filter((m) => m.queueId).map((m) => complete(m)));
      messages = messages.filter((m) => !shown.has(m.key) && matches(m, kind, value));
      // Sessions that queued nothing are not stored as traces; their refusals are in the event ring.
      if (!next && value && (kind === 'to' || kind === 'remoteIp'))
        messages.push(...(await refusedOnly(value, from, to, traces)));
      if (gen !== generation) return;
      messages.sort((a, b) => b.time - a.time);
      for (const m of messages) {
        if (shown.has(m.key)) continue;
        shown.add(m.key);
        results.append(resultRow(m));
      }
      cursor = typeof page.cursor === 'string' ? page.cursor : undefined;
      more.hidden = cursor === undefined;
      const total = Number(page.total);
      info.textContent = `${shown.size} message${shown.size === 1 ? '' : 's'}${Number.isFinite(total) ? ` from ${total} matching session${total === 1 ? '' : 's'}` : ''}`;
      $('results-empty').hidden = shown.size > 0;
    } catch (error) {
      if (gen === generation) info.textContent = `Search failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  /** @param {Message} m */
  async function complete(m) {
    const page = obj(await api.get('telemetry/traces', new URLSearchParams({ values: '1', limit: '100', queue_id: m.queueId })));
    const found = collect(/** @type {HTrace[]} */ (list(page.items))).find((o) => o.queueId === m.queueId);
    if (!found) return;
    m.inbound = found.inbound ?? m.inbound;
    if (found.attempts.length >= m.attempts.length) m.attempts = found.attempts;
    if (found.inbound) {
      m.refused = found.refused;
      m.time = found.time;
      m.size = found.size ?? m.size;
    }
  }

  /**
   * @param {string} value
   * @param {number | undefined} from
   * @param {number | undefined} to
   * @param {HTrace[]} traces
   * @returns {Promise<Message[]>}
   */
  async function refusedOnly(value, from, to, traces) {
    const q = new URLSearchParams({ type: REFUSALS.join(','), filter: value, limit: '100' });
    if (from !== undefined) q.set('after', String(Math.floor(from / 1000)));
    if (to !== undefined) q.set('before', String(Math.ceil(to / 1000)));
    const known = new Set(traces.map((t) => str(t.id)));
    /** @type {Map<string, Message>} */
    const sessions = new Map();
    for (const event of /** @type {HEvent[]} */ (list(obj(await api.get('telemetry/events', q)).items))) {
      const span = str(event.spanId);
      if (!span || known.has(span)) continue;
      let m = sessions.get(span);
      if (!m) {
        m = blank(`session=${span}`, '');
        m.time = Number(event.timestamp) || 0;
        sessions.set(span, m);
      }
      m.refused.unshift(event);
      if (data(event).from !== undefined && !m.from) m.from = str(data(event).from);
    }
    return [...sessions.values()];
  }

  async function route() {
    const hash = new URLSearchParams(location.hash.slice(1));
    const queueId = hash.get('message');
    const span = hash.get('session');
    if (queueId === null && span === null) return;
    show();
    timeline.hidden = false;
    timeline.replaceChildren(el('p', 'muted', 'Loading…'));
    try {
      if (queueId !== null) {
        const page = obj(
          await api.get('telemetry/traces', new URLSearchParams({ values: '1', limit: '100', queue_id: queueId })),
        );
        const m = collect(/** @type {HTrace[]} */ (list(page.items))).find((o) => o.queueId === queueId);
        renderTimeline(m ?? blank(`message=${queueId}`, queueId), m === undefined);
      } else if (span !== null) {
        const q = new URLSearchParams({ span_id: String(span), level: 'trace', limit: '2000' });
        const events = /** @type {HEvent[]} */ (list(obj(await api.get('telemetry/events', q)).items)).reverse();
        const m = blank(`session=${span}`, '');
        m.inbound = { id: span, type: str(events[0]?.type), timestamp: events[0]?.timestamp, events };
        m.refused = events.filter((e) => REFUSALS.includes(str(e.type)));
        m.time = Number(events[0]?.timestamp) || 0;
        renderTimeline(m, events.length === 0);
      }
    } catch (error) {
      timeline.replaceChildren(el('p', 'error', error instanceof Error ? error.message : String(error)));
    }
  }

  /**
   * @param {Message} m
   * @param {boolean} missing
   */
  function renderTimeline(m, missing) {
    const link = new URL(location.href);
    link.hash = m.key;
    const head = el('div', 'timeline-head');
    const title = el('h3', '', m.queueId ? `Message ${m.queueId}` : `Session ${m.key.slice('session='.length)}`);
    const url = /** @type {HTMLInputElement} */ (el('input', 'link'));
    url.readOnly = true;
    url.value = link.href;
    url.setAttribute('aria-label', 'Link to this timeline');
    const copy = el('button', '', 'Copy link');
    copy.type = 'button';
    copy.addEventListener('click', () => {
      url.select();
      const done = () => {
        copy.textContent = 'Copied';
      };
      if (navigator.clipboard) navigator.clipboard.writeText(link.href).then(done, () => undefined);
    });
    const close = el('button', '', 'Close');
    close.type = 'button';
    close.addEventListener('click', () => {
      timeline.hidden = true;
      history.replaceState(null, '', location.pathname + location.search);
    });
    head.append(title, url, copy, close);
    const summary = el('dl', 'summary');
    const add = (/** @type {string} */ name, /** @type {string} */ value) => {
      if (value) summary.append(el('dt', '', name), el('dd', '', value));
    };
    add('From', m.from);
    add('Message id', m.messageId);
    add('Size', m.size === undefined ? '' : `${m.size} bytes`);
    const outcomes = recipientOutcomes(m);
    const rcpts = el('dd', 'recipients');
    for (const [to, { outcome, reply }] of outcomes) {
      const line = el('div', 'recipient');
      line.append(el('span', `outcome outcome-${outcome}`, outcome), ' ', el('span', 'address', to));
      if (reply) line.append(' ', el('span', 'muted', reply));
      rcpts.append(line);
    }
    if (outcomes.size > 0) summary.append(el('dt', '', 'Recipients'), rcpts);
    timeline.replaceChildren(head, summary);
    if (missing) timeline.append(el('p', 'muted', 'The history holds nothing for this link (expired, or not stored).'));
    if (m.inbound) timeline.append(section('Inbound session', m.inbound, inboundTitle(m.inbound)));
    m.attempts.forEach((attempt, i) => {
      timeline.append(section(`Delivery attempt ${i + 1}`, attempt, attemptTitle(attempt)));
    });
    if (!m.inbound && m.refused.length > 0) {
      const refusals = el('section', 'span');
      refusals.append(el('h4', '', 'Refusals'), eventList(m.refused, {}));
      timeline.append(refusals);
    }
    timeline.focus({ preventScroll: true });
  }

  void route();
  return { run, route };
}

/**
 * Messages of a page of traces, by queue id: inbound sessions (`smtp.*` spans) and delivery attempts.
 * @param {HTrace[]} traces
 * @returns {Message[]}
 */
function collect(traces) {
  /** @type {Map<string, Message>} */
  const byQueue = new Map();
  /** @type {Message[]} */
  const out = [];
  const ordered = [...traces].sort((a, b) => Number(a.timestamp) - Number(b.timestamp));
  for (const trace of ordered) {
    const inbound = str(trace.type).startsWith('smtp.');
    const events = /** @type {HEvent[]} */ (list(trace.events));
    const messages = list(trace.messages).map(obj);
    if (messages.length === 0) {
      const m = blank(`session=${str(trace.id)}`, '');
      m.from = str(trace.from);
      m.to = list(trace.to).map(str);
      m.time = Number(trace.timestamp) || 0;
      if (inbound) {
        m.inbound = trace;
        m.refused = events.filter((e) => REFUSALS.includes(str(e.type)));
      } else m.attempts.push(trace);
      out.push(m);
      continue;
    }
    for (const message of messages) {
      const queueId = str(message.queueId);
      let m = byQueue.get(queueId);
      if (!m) {
        m = blank(`message=${queueId}`, queueId);
        m.time = Number(trace.timestamp) || 0;
        byQueue.set(queueId, m);
        out.push(m);
      }
      m.messageId ||= str(message.messageId);
      m.from ||= str(message.from);
      for (const to of list(message.to).map(str)) if (!m.to.includes(to)) m.to.push(to);
      if (typeof message.size === 'number') m.size ??= message.size;
      if (inbound) {
        m.inbound = trace;
        const queued = events.findIndex((e) => str(data(e).queueId) === queueId);
        // The refusals between this message's MAIL FROM and its queueing are its own.
        let start = Math.max(queued, 0);
        while (start > 0 && str(events[start]?.type) !== 'smtp.mail-from') start--;
        m.refused = events.slice(start, queued < 0 ? undefined : queued).filter((e) => REFUSALS.includes(str(e.type)));
        if (queued >= 0) m.time = Number(events[queued]?.timestamp) || m.time;
      } else if (!m.attempts.includes(trace)) m.attempts.push(trace);
    }
  }
  return out;
}

/**
 * @param {string} key
 * @param {string} queueId
 * @returns {Message}
 */
function blank(key, queueId) {
  return {
    key,
    queueId,
    messageId: '',
    from: '',
    to: [],
    size: undefined,
    time: 0,
    inbound: undefined,
    attempts: [],
    refused: [],
  };
}

/**
 * Whether the searched field holds the value: keywords matched anywhere in the span.
 * @param {Message} m
 * @param {string} kind
 * @param {string} value
 */
function matches(m, kind, value) {
  if (!value) return true;
  const v = value.toLowerCase();
  const has = (/** @type {unknown} */ s) => str(s).toLowerCase().includes(v);
  if (kind === 'queueId') return m.queueId === value;
  if (kind === 'from') return has(m.from);
  if (kind === 'messageId') return has(m.messageId);
  if (kind === 'to') return m.to.some(has) || m.refused.some((e) => has(data(e).to));
  const spans = [m.inbound, ...m.attempts];
  return spans.some((t) => list(t?.events).some((/** @type {HEvent} */ e) => has(data(e).remoteIp)));
}

/**
 * What became of each recipient: refused on the way in, else the last word of the delivery attempts.
 * @param {Message} m
 * @returns {Map<string, { outcome: Outcome, reply: string }>}
 */
export function recipientOutcomes(m) {
  /** @type {Map<string, { outcome: Outcome, reply: string }>} */
  const out = new Map();
  for (const to of m.to) out.set(to, { outcome: 'queued', reply: '' });
  for (const e of m.refused) {
    const d = data(e);
    const to = str(d.to) || str(d.from) || '(message)';
    out.set(to, { outcome: 'refused', reply: [str(d.code), str(d.reason)].filter(Boolean).join(' ') });
  }
  const attempts = [...m.attempts].sort((a, b) => Number(a.timestamp) - Number(b.timestamp));
  for (const attempt of attempts) {
    for (const e of /** @type {HEvent[]} */ (list(attempt.events))) {
      const type = str(e.type);
      const d = data(e);
      const reply = str(d.details) || str(d.reason);
      const targets = typeof d.to === 'string' ? [d.to] : m.to.filter((to) => out.get(to)?.outcome !== 'delivered');
      if (type === 'delivery.delivered') for (const to of targets) out.set(to, { outcome: 'delivered', reply });
      else if (type === 'delivery.completed') {
        for (const to of m.to) if (out.get(to)?.outcome === 'queued') out.set(to, { outcome: 'delivered', reply });
      } else if (FAILURE.test(type)) {
        const code = Number(d.code);
        const bounced = type === 'delivery.dsn-perm-fail' || (code >= 500 && code < 600);
        for (const to of targets)
          if (out.get(to)?.outcome !== 'refused') out.set(to, { outcome: bounced ? 'bounced' : 'deferred', reply });
      }
    }
  }
  return out;
}

/** @param {Message} m */
function resultRow(m) {
  const tr = el('tr');
  tr.dataset.key = m.key;
  const link = el('a', '', m.queueId || 'session');
  link.href = `#${m.key}`;
  const outcomes = recipientOutcomes(m);
  const to = el('td', 'to');
  const outcome = el('td', 'outcomes');
  for (const [address, { outcome: o, reply }] of outcomes) {
    to.append(el('div', 'address', address));
    const badge = el('div', `outcome outcome-${o}`, o);
    if (reply) badge.title = reply;
    outcome.append(badge);
  }
  const time = el('td', 'time');
  const [day = '', clockTime = ''] = when(m.time).split(' ');
  time.append(el('div', '', day), el('div', '', clockTime));
  tr.append(
    time,
    el('td', 'queue'),
    el('td', 'address', m.from),
    to,
    el('td', 'size', m.size === undefined ? '' : bytes(m.size)),
    outcome,
  );
  /** @type {HTMLElement} */ (tr.children[1]).append(link);
  return tr;
}

/** @param {HTrace} trace */
function inboundTitle(trace) {
  const events = /** @type {HEvent[]} */ (list(trace.events));
  const first = data(events[0] ?? {});
  const ehlo = events.find((e) => str(e.type) === 'smtp.ehlo');
  const parts = [`from ${str(first.remoteIp) || 'unknown address'}`];
  if (ehlo) parts.push(`EHLO ${str(data(ehlo).domain)}`);
  return parts.join(', ');
}

/** @param {HTrace} trace */
function attemptTitle(trace) {
  const events = /** @type {HEvent[]} */ (list(trace.events));
  const connect = events.find((e) => str(e.type) === 'delivery.connect');
  const d = data(connect ?? {});
  const host = str(d.hostname);
  const ip = str(d.remoteIp);
  return connect ? `to ${host}${ip && ip !== host ? ` (${ip})` : ''}` : 'no connection';
}

/**
 * @param {string} name
 * @param {HTrace} trace
 * @param {string} subtitle
 */
function section(name, trace, subtitle) {
  const root = el('section', 'span');
  root.dataset.span = str(trace.id);
  const head = el('h4', '', `${name} `);
  head.append(el('span', 'muted', `${subtitle} · ${when(Number(trace.timestamp))} · span ${str(trace.id)}`));
  const events = /** @type {HEvent[]} */ (list(trace.events));
  root.append(head, eventList(events, data(events[0] ?? {})));
  return root;
}

/**
 * The events of a span in order, each with its own keys: those its span start also carries are left
 * out after the first event.
 * @param {HEvent[]} events
 * @param {Record<string, unknown>} inherited
 */
function eventList(events, inherited) {
  const ol = el('ol', 'events');
  events.forEach((e, i) => {
    const type = str(e.type);
    const li = el('li', REFUSALS.includes(type) || FAILURE.test(type) ? 'event failure' : 'event');
    li.dataset.type = type;
    const head = el('div', 'event-head');
    head.append(el('span', 'time', clock(Number(e.timestamp))), ' ', el('span', `lvl lvl-${str(e.level)}`, str(e.level)), ' ');
    head.append(el('span', 'type', type));
    li.append(head);
    const d = data(e);
    if (REFUSALS.includes(type))
      li.append(el('div', 'reason', `Refused: ${[str(d.code), str(d.reason)].filter(Boolean).join(' ')}`));
    const keys = el('div', 'values');
    for (const [key, value] of Object.entries(d)) {
      if (key === 'spanId' || (i > 0 && key in inherited && same(inherited[key], value))) continue;
      const kv = el('span', 'kv');
      kv.append(el('span', 'k', `${key}=`), valueText(value));
      keys.append(kv, ' ');
    }
    li.append(keys);
    ol.append(li);
  });
  return ol;
}

/** @param {unknown} a @param {unknown} b */
const same = (a, b) => valueText(a) === valueText(b);

/** @param {unknown} value */
function valueText(value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text === undefined ? String(value) : text;
}

/** Date and time to the second, in the reader's zone. @param {number} ms */
function when(ms) {
  const d = new Date(ms);
  if (!ms || Number.isNaN(d.getTime())) return '';
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${d.toTimeString().slice(0, 8)}`;
}

/** Time of day with milliseconds. @param {number} ms */
function clock(ms) {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toTimeString().slice(0, 8)}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** @param {number} n */
function bytes(n) {
  return n < 1024 ? `${n} B` : n < 1_048_576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1_048_576).toFixed(1)} MiB`;
}
