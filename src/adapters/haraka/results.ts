import { read } from '../read.js';

/** Called with the connection and the result when an auth plugin stores an AUTH outcome. */
export type AuthObserver = (connection: unknown, result: unknown) => void;

const wrapped = new WeakSet<object>();
let observer: AuthObserver | undefined;

/**
 * Haraka has no hook after AUTH: the auth plugins store the outcome with
 * `connection.results.add({ name: 'auth' }, { pass | fail, method, user })`. The store's class
 * (haraka-results' `ResultStore`) is wrapped once, on its prototype, the first time a connection shows it; the
 * original runs first, with the same `this`, arguments and return value.
 */
export function watchResults(connection: unknown, onAuth: AuthObserver): void {
  observer = onAuth;
  const results = read(connection, 'results');
  if (typeof results !== 'object' || results === null) return;
  const proto: unknown = Object.getPrototypeOf(results);
  if (typeof proto !== 'object' || proto === null || wrapped.has(proto)) return;
  // Only haraka-results' class: whatever else a plugin put there (a Set has an `add` too) stays untouched.
  if (read(read(proto, 'constructor'), 'name') !== 'ResultStore') return;
  const add = read(proto, 'add');
  if (typeof add !== 'function') return;
  wrapped.add(proto);
  const original = add as (this: unknown, plugin: unknown, result: unknown) => unknown;
  Object.defineProperty(proto, 'add', {
    configurable: true,
    writable: true,
    value: function add(this: unknown, plugin: unknown, result: unknown): unknown {
      const out = original.call(this, plugin, result);
      if (observer !== undefined && isAuth(plugin)) {
        try {
          observer(read(this, 'conn'), result);
        } catch {
          // Telemetry never breaks mail.
        }
      }
      return out;
    },
  });
}

function isAuth(plugin: unknown): boolean {
  return plugin === 'auth' || read(plugin, 'name') === 'auth';
}
