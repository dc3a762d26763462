import type { Telemetry } from '../../index.js';
import { read } from '../read.js';
import type { ConnectionState } from './connection.js';

/** The smtp-server hooks the adapter wraps. */
export type HookName = 'onConnect' | 'onSecure' | 'onAuth' | 'onMailFrom' | 'onRcptTo' | 'onData' | 'onClose';

type HostFn = (this: unknown, a: unknown, b: unknown, c?: unknown) => unknown;

/** The adapter's own wrappers, so that a prototype lookup never finds one and options are not wrapped twice. */
export const wrappers = new WeakSet<object>();

/** Methods known to be smtp-server's own defaults (true) or a subclass's (false). */
const defaults = new WeakMap<object, boolean>();

/**
 * The host's hook as smtp-server would have called it: the one from the options, else the server's
 * inherited method (smtp-server's default, or a subclass's); `undefined` when there is none.
 */
function hostHook(name: HookName, given: unknown, server: unknown): HostFn | undefined {
  if (typeof given === 'function') return given as HostFn;
  if (typeof server !== 'object' || server === null) return undefined;
  const method = read(Object.getPrototypeOf(server), name);
  return typeof method === 'function' && !wrappers.has(method) ? (method as HostFn) : undefined;
}

/**
 * Whether a hook is smtp-server's own default, which runs no host code: it is then called outside
 * the connection span, as entering a span costs more than the default itself.
 */
function isDefaultHook(name: HookName, hook: HostFn, server: object): boolean {
  let known = defaults.get(hook);
  if (known === undefined) {
    let owner: unknown = Object.getPrototypeOf(server);
    while (typeof owner === 'object' && owner !== null && !Object.hasOwn(owner, name)) owner = Object.getPrototypeOf(owner);
    known = read(read(owner, 'constructor'), 'name') === 'SMTPServer' && read(owner, name) === hook;
    defaults.set(hook, known);
  }
  return known;
}

/**
 * Calls the host's hook with smtp-server's `this` and arguments, inside the connection span so that
 * the host's own emits there join the session; the result or throw is the host's. When telemetry
 * cannot enter the span, the hook runs all the same, once.
 */
export function callHost(
  telemetry: Telemetry,
  state: ConnectionState | undefined,
  name: HookName,
  given: unknown,
  server: unknown,
  a: unknown,
  b: unknown,
  c?: unknown,
): unknown {
  const hook = hostHook(name, given, server);
  if (hook === undefined) return fallback(name, a, b, c);
  if (state === undefined || (given === undefined && isDefaultHook(name, hook, server as object)))
    return hook.call(server, a, b, c);
  let entered = false;
  try {
    return telemetry.withSpan(state.span, () => {
      entered = true;
      return hook.call(server, a, b, c);
    });
  } catch (error) {
    if (entered) throw error;
    return hook.call(server, a, b, c);
  }
}

/** smtp-server's defaults, for hooks called on something that is not an SMTPServer. */
function fallback(name: HookName, a: unknown, b: unknown, c: unknown): void {
  const callback = name === 'onConnect' || name === 'onClose' ? b : c;
  if (typeof callback !== 'function') return;
  if (name === 'onClose') return;
  if (name === 'onAuth') {
    callback(null, { message: 'Authentication not implemented' });
    return;
  }
  if (name === 'onData') {
    const stream = a as NodeJS.ReadableStream;
    stream.once('end', () => callback());
    stream.resume();
    return;
  }
  setImmediate(() => callback());
}
