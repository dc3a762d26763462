/** @typedef {'tracing' | 'metrics'} Scope */

/**
 * The tokens in the page's URL fragment, by the scope they are for, and the history's bearer token
 * (`#history=…`). The fragment never reaches the server; the tokens are taken, then dropped from the
 * address bar, which keeps the rest of the fragment (a link to a message: `#message=…`).
 * @returns {Record<Scope | 'history', string>}
 */
export function takeTokens() {
  const tokens = { tracing: '', metrics: '', history: '' };
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
  tokens.history = fragment.get('history') ?? '';
  if (fragment.has('token') || fragment.has('history')) {
    fragment.delete('token');
    fragment.delete('history');
    const rest = fragment.toString();
    history.replaceState(null, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
  }
  return tokens;
}

/**
 * The scope a live token's (signed, not secret) claims name, if it is one.
 * @param {string} token
 * @returns {Scope | undefined}
 */
function tokenScope(token) {
  const parts = token.split('.');
  const [prefix, payload = ''] = parts;
  if (parts.length !== 3 || prefix !== 'mtl1') return undefined;
  try {
    const b64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
    return claims.s === 'tracing' || claims.s === 'metrics' ? claims.s : undefined;
  } catch {
    return undefined;
  }
}
