(() => {
  const $ = (id) => document.getElementById(id);
  const cfg = document.body.dataset;
  const maxRows = Math.max(1, Number(cfg.maxRows) || 500);
  const patterns = (cfg.metrics || '*').split(',').filter((p) => p !== '');
  const HISTORY = 60;
  const LEVELS = { trace: 1, debug: 1, info: 1, warn: 1, error: 1 };

  // The fragment never reaches the server; take the tokens, then drop them from the address bar.
  const tokens = { tracing: '', metrics: '' };
  const fragment = new URLSearchParams(location.hash.slice(1));
  for (const value of fragment.getAll('token')) {
    for (const token of value.split(',')) {
      const scope = tokenScope(token);
      if (scope) tokens[scope] = token;
      else if (token) {
        // A host credential for its own authorize callback: offered to both streams.
        tokens.tracing = tokens.tracing || token;
        tokens.metrics = tokens.metrics || token;
      }
    }
  }
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);

  /** The scope a live token's (signed, not secret) claims name, if it is one. */
  function tokenScope(token) {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== 'mtl1') return undefined;
    try {
      const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
      const claims = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
      return claims.s === 'tracing' || claims.s === 'metrics' ? claims.s : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * One EventSource with its state badge. EventSource hides the status of a refused request, so
   * after a final failure one plain fetch asks: 401/403 stop, anything else retries with backoff.
   * With a token endpoint (Stalwart's /api/token/{scope}) every connection gets a fresh token, so
   * filter changes and reconnects keep working past the token's short life.
   */
  function stream(kind, paths, badge, listeners) {
    // Which of the candidate paths is tried; a 404 moves on to the next one, never back.
    let at = 0;
    let source;
    let generation = 0;
    let timer;
    let backoff = 1000;
    let probe;
    // Set after a refusal with a fresh token: a second refusal is final.
    let refreshed = false;
    let query = new URLSearchParams();
    const show = (state, detail) => {
      badge.dataset.state = state;
      badge.textContent = `${badge.dataset.label}: ${detail || state}`;
    };
    const stop = () => {
      generation++;
      clearTimeout(timer);
      if (probe) probe.abort();
      probe = undefined;
      if (source) source.close();
      source = undefined;
    };
    const retry = (gen) => {
      if (gen !== generation) return;
      show('reconnecting', `reconnecting in ${Math.round(backoff / 1000)} s`);
      timer = setTimeout(() => gen === generation && connect(), backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
    const request = (url) => {
      const controller = new AbortController();
      probe = controller;
      return [controller, fetch(url, { signal: controller.signal, cache: 'no-store', credentials: 'same-origin' })];
    };
    const ask = (url, gen) => {
      const [controller, response] = request(url);
      response
        .then(async (response) => {
          const text = response.status === 400 ? await response.text() : '';
          controller.abort();
          if (gen !== generation) return;
          if (response.status === 404 && at < paths.length - 1) {
            at++;
            backoff = 1000;
            connect();
          } else if (response.status === 401 && cfg.tokenPath && !refreshed) {
            refreshed = true;
            connect();
          } else if (response.status === 401) show('unauthorized', 'unauthorized (open this page with #token=…)');
          else if (response.status === 403) show('forbidden');
          else if (response.status === 400) show('error', text.trim().slice(0, 300));
          else retry(gen);
        })
        .catch(() => retry(gen));
    };
    const connect = () => {
      stop();
      const gen = generation;
      show('connecting');
      if (!cfg.tokenPath) return open(gen, tokens[kind]);
      const [, response] = request(new URL(cfg.tokenPath.split('{scope}').join(kind), location.href).href);
      response
        .then(async (response) => {
          if (gen !== generation) return;
          if (response.status === 401 || response.status === 403)
            return show('unauthorized', 'unauthorized (the token endpoint refused: sign in first)');
          if (!response.ok) return retry(gen);
          let token = (await response.text()).trim();
          // Stalwart v0.15 wraps it as {"data": "<token>"}; v0.16 sends it plain.
          if (token.startsWith('{')) token = String(JSON.parse(token).data || '');
          if (gen === generation) open(gen, token);
        })
        .catch(() => retry(gen));
    };
    const open = (gen, token) => {
      const url = new URL(paths[at], location.href);
      for (const [name, value] of query) url.searchParams.set(name, value);
      badge.dataset.path = url.pathname;
      badge.dataset.query = url.searchParams.toString();
      if (token) url.searchParams.set('token', token);
      const es = new EventSource(url.href);
      source = es;
      es.onopen = () => {
        if (gen !== generation) return;
        backoff = 1000;
        refreshed = false;
        show('connected');
      };
      es.onerror = () => {
        if (gen !== generation) return;
        // The browser would retry with the same URL; a token endpoint gives a fresh token instead.
        if (es.readyState === EventSource.CONNECTING && !cfg.tokenPath) return show('reconnecting');
        es.close();
        source = undefined;
        ask(url.href, gen);
      };
      for (const [type, listener] of Object.entries(listeners)) {
        es.addEventListener(type, (event) => {
          if (gen !== generation) return;
          let data;
          try {
            data = JSON.parse(event.data);
          } catch {
            return;
          }
          listener(data);
        });
      }
    };
    return {
      open(params) {
        query = params;
        backoff = 1000;
        refreshed = false;
        connect();
      },
      close: stop,
    };
  }

  /**
   * Where to look for a stream: the configured path alone, else beside the page ("live/metrics"
   * next to /telemetry/dashboard, or above /telemetry/dashboard/), then Stalwart's /api/live/….
   * So a host that mounts everything under one prefix needs no option, and one that mounted the
   * streams at Stalwart's paths keeps working.
   */
  function places(configured, name) {
    if (configured) return [configured];
    const list = [new URL(`live/${name}`, location.href).pathname];
    if (location.pathname.length > 1 && location.pathname.endsWith('/'))
      list.push(new URL(`../live/${name}`, location.href).pathname);
    list.push(`/api/live/${name}`);
    return list.filter((place, i) => list.indexOf(place) === i);
  }

  // ---- metric tiles ----
  const tiles = new Map();
  const tilesEl = $('tiles');
  const number = new Intl.NumberFormat();
  const rank = (name) => {
    const i = patterns.findIndex((p) => new RegExp(`^${p.split('*').map(literal).join('.*')}$`).test(name));
    return i < 0 ? patterns.length : i;
  };
  function literal(text) {
    return text.replace(/[.+?^$()[\]{}|\\]/g, '\\$&');
  }
  const NAMES = {
    'smtp.connection-start': 'SMTP connections',
    'queue.message-queued': 'Messages queued',
    'delivery.completed': 'Deliveries completed',
    'delivery.dsn-perm-fail': 'Deliveries failed',
    'auth.failed': 'Auth failures',
    'queue.count': 'Queue',
  };
  const PROTOCOLS = { smtp: 'SMTP', imap: 'IMAP', pop3: 'POP3', http: 'HTTP', sieve: 'ManageSieve' };
  function label(name) {
    if (NAMES[name]) return NAMES[name];
    const m = /^([a-z0-9-]+)\.active-connections$/.exec(name);
    if (!m) return name;
    return m[1] === 'delivery' ? 'Active deliveries' : `Open ${PROTOCOLS[m[1]] || m[1]} connections`;
  }
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function tile(name, type) {
    let t = tiles.get(name);
    if (t) return t;
    const root = el('div', 'tile');
    root.dataset.metric = name;
    const value = el('div', 'value', '0');
    const sub = el('div', 'sub', '');
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 100 28');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('aria-hidden', 'true');
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    svg.appendChild(line);
    root.append(el('div', 'label', label(name)), el('div', 'name', name), value, sub, svg);
    t = { name, type, rank: rank(name), root, value, sub, line, last: undefined, points: [] };
    tiles.set(name, t);
    const after = [...tiles.values()].filter((o) => o !== t && (o.rank > t.rank || (o.rank === t.rank && o.name > name)));
    const next = after.sort((a, b) => a.rank - b.rank || (a.name < b.name ? -1 : 1))[0];
    tilesEl.insertBefore(root, next ? next.root : null);
    $('tiles-empty').hidden = true;
    return t;
  }
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
  const seconds = Number(cfg.interval) || 1;
  function onMetrics(items) {
    if (!Array.isArray(items)) return;
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
  }

  // ---- event table ----
  const rowsEl = $('rows');
  const info = $('rows-info');
  const pauseButton = $('pause');
  let paused = false;
  let waiting = [];
  let dropped = 0;
  function time(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return `${d.toTimeString().slice(0, 8)}.${String(d.getMilliseconds()).padStart(3, '0')}`;
  }
  function valueText(value) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return text === undefined ? String(value) : text;
  }
  function row(event) {
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
      kv.append(el('span', 'k', `${key}=`), text.length > 300 ? `${text.slice(0, 300)}…` : text);
      if (text.length > 300) kv.title = text;
      values.append(kv, ' ');
    }
    tr.append(when, lvl, el('td', 'type', String(event.type)), el('td', 'text', String(event.text ?? '')), values);
    return tr;
  }
  function addRows(events) {
    const fragment = document.createDocumentFragment();
    for (let i = events.length - 1; i >= 0; i--) fragment.append(row(events[i]));
    rowsEl.insertBefore(fragment, rowsEl.firstChild);
    while (rowsEl.childElementCount > maxRows) rowsEl.lastElementChild.remove();
    status();
  }
  function status() {
    let text = `${rowsEl.childElementCount} of at most ${maxRows} rows`;
    if (paused) text += `, paused: ${waiting.length} waiting`;
    info.textContent = text;
  }
  function onTrace(events) {
    if (!Array.isArray(events)) return;
    const valid = events.filter((e) => e && typeof e === 'object');
    if (!paused) return addRows(valid);
    waiting.push(...valid);
    if (waiting.length > maxRows) waiting = waiting.slice(waiting.length - maxRows);
    status();
  }
  function onDropped(frame) {
    dropped += Number(frame?.dropped) || 0;
    $('dropped-count').textContent = number.format(dropped);
    $('dropped').hidden = dropped === 0;
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
  $('clear').addEventListener('click', () => {
    rowsEl.replaceChildren();
    waiting = [];
    status();
  });

  // ---- the two streams ----
  const metrics = stream('metrics', places(cfg.metricsPath, 'metrics'), $('metrics-state'), { metrics: onMetrics });
  const tracing = stream('tracing', places(cfg.tracingPath, 'tracing'), $('trace-state'), {
    trace: onTrace,
    dropped: onDropped,
  });
  const filterInput = $('filter');
  const levelSelect = $('level');
  const traceQuery = () => {
    const q = new URLSearchParams({ level: levelSelect.value });
    const text = filterInput.value.trim();
    if (text) q.set('filter', text);
    return q;
  };
  let typing;
  // A new filter is a new stream: rows of the old one would not match it.
  const refilter = () => {
    clearTimeout(typing);
    rowsEl.replaceChildren();
    waiting = [];
    status();
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
  status();
  start();
})();
