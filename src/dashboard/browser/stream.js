/**
 * @typedef {object} Stream
 * @property {(params: URLSearchParams) => void} open Connects anew with this query.
 * @property {() => void} close Closes the stream and stops reconnecting.
 */

/**
 * @typedef {object} StreamAccess
 * @property {string} token The token from the page's URL fragment, if any.
 * @property {string | undefined} tokenPath Where to fetch a fresh token per connection instead.
 */

/**
 * One EventSource with its state badge. EventSource hides the status of a refused request, so
 * after a final failure one plain fetch asks: 401/403 stop, anything else retries with backoff.
 * With a token endpoint (Stalwart's /api/token/{scope}) every connection gets a fresh token, so
 * filter changes and reconnects keep working past the token's short life.
 * @param {import('./tokens.js').Scope} kind
 * @param {readonly string[]} paths Candidate paths, tried in order.
 * @param {HTMLElement} badge
 * @param {Record<string, (data: unknown) => void>} listeners Parsed frames by event type.
 * @param {StreamAccess} access
 * @returns {Stream}
 */
export function stream(kind, paths, badge, listeners, { token: fragmentToken, tokenPath }) {
  // Which of the candidate paths is tried; a 404 moves on to the next one, never back.
  let at = 0;
  /** @type {EventSource | undefined} */
  let source;
  let generation = 0;
  /** @type {number | undefined} */
  let timer;
  let backoff = 1000;
  /** @type {AbortController | undefined} */
  let probe;
  // Set after a refusal with a fresh token: a second refusal is final.
  let refreshed = false;
  let query = new URLSearchParams();
  const show = (/** @type {string} */ state, /** @type {string} */ detail = '') => {
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
  const retry = (/** @type {number} */ gen) => {
    if (gen !== generation) return;
    show('reconnecting', `reconnecting in ${Math.round(backoff / 1000)} s`);
    timer = setTimeout(() => gen === generation && connect(), backoff);
    backoff = Math.min(backoff * 2, 30000);
  };
  /** @returns {[AbortController, Promise<Response>]} */
  const request = (/** @type {string} */ url) => {
    const controller = new AbortController();
    probe = controller;
    return [controller, fetch(url, { signal: controller.signal, cache: 'no-store', credentials: 'same-origin' })];
  };
  const ask = (/** @type {string} */ url, /** @type {number} */ gen) => {
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
        } else if (response.status === 401 && tokenPath && !refreshed) {
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
    if (!tokenPath) return open(gen, fragmentToken);
    const [, response] = request(new URL(tokenPath.split('{scope}').join(kind), location.href).href);
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
  const open = (/** @type {number} */ gen, /** @type {string} */ token) => {
    const url = new URL(/** @type {string} */ (paths[at]), location.href);
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
      if (es.readyState === EventSource.CONNECTING && !tokenPath) return show('reconnecting');
      es.close();
      source = undefined;
      ask(url.href, gen);
    };
    for (const [type, listener] of Object.entries(listeners)) {
      es.addEventListener(type, (event) => {
        if (gen !== generation) return;
        /** @type {unknown} */
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
 * @param {string | undefined} configured
 * @param {import('./tokens.js').Scope} name
 * @returns {string[]}
 */
export function places(configured, name) {
  if (configured) return [configured];
  const list = [new URL(`live/${name}`, location.href).pathname];
  if (location.pathname.length > 1 && location.pathname.endsWith('/'))
    list.push(new URL(`../live/${name}`, location.href).pathname);
  list.push(`/api/live/${name}`);
  return list.filter((place, i) => list.indexOf(place) === i);
}
