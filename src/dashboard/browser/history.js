/**
 * @typedef {object} HistoryApi
 * @property {(route: string, params?: URLSearchParams) => Promise<any>} get The `data` of one
 *   history answer; rejects with a `HistoryError` for any other status.
 */

/** A history request that did not answer 200: the status, and the problem document's detail. */
export class HistoryError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * The history handler's JSON API (`…/telemetry/traces`, `…/telemetry/events`), read with the same
 * access the handler wants: the page's cookies (for an `authorize` behind the host's login) and,
 * when the page's URL fragment gave one, a bearer token. Where the handler is mounted: the configured
 * path alone, else `history/` beside the page, then Stalwart's `/api/`; a 404 on a list moves on.
 * @param {string | undefined} configured
 * @param {string} bearer
 * @returns {HistoryApi}
 */
export function historyApi(configured, bearer) {
  const bases = configured ? [configured] : [new URL('history/', location.href).pathname, '/api/'];
  let at = 0;
  let found = false;
  /** @type {Record<string, string>} */
  const headers = bearer ? { authorization: `Bearer ${bearer}` } : {};
  /**
   * @param {string} route
   * @param {URLSearchParams} [params]
   * @returns {Promise<any>}
   */
  async function get(route, params) {
    const base = /** @type {string} */ (bases[at]);
    const url = new URL(base.endsWith('/') ? base + route : `${base}/${route}`, location.href);
    if (params) url.search = params.toString();
    const response = await fetch(url.href, { headers, credentials: 'same-origin', cache: 'no-store' });
    if (response.status === 404 && !found && at < bases.length - 1 && !route.startsWith('telemetry/trace/')) {
      at++;
      return get(route, params);
    }
    if (response.ok) found = true;
    return readData(response, 'the history');
  }
  return { get };
}

/**
 * The `data` member of a handler's JSON answer, or a `HistoryError` with the status and the
 * problem document's detail (`who` names the handler: "the history", "the alerts").
 * @param {Response} response
 * @param {string} who
 * @returns {Promise<any>}
 */
export async function readData(response, who) {
  if (!response.ok) {
    let detail = '';
    try {
      detail = String((await response.json()).detail ?? '');
    } catch {
      // Not a problem document: the status says enough.
    }
    const what =
      response.status === 401 || response.status === 403
        ? `${who} refused this page (open it with #history=<token>, or sign in)`
        : `${who} answered ${response.status}`;
    throw new HistoryError(response.status, detail ? `${what}: ${detail}` : what);
  }
  const body = await response.json();
  return body && typeof body === 'object' ? body.data : undefined;
}
