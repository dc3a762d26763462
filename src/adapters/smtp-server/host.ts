import type { Telemetry } from '../../index.js';
import { read } from '../read.js';
import type { ConnectionState } from './connection.js';

/** The smtp-server hooks the adapter wraps. */
export type HookName = 'onConnect' | 'onSecure' | 'onAuth' | 'onMailFrom' | 'onRcptTo' | 'onData' | 'onClose';

type HostFn = (this: unknown, ...args: unknown[]) => unknown;

/** The adapter's own wrappers, so that a prototype lookup never finds one and options are not wrapped twice. */
export const wrappers = new WeakSet<object>();

/**
 * Calls the host's hook as smtp-server would have: the one from the options, else the server's
 * inherited method (smtp-server's default, or a subclass's), else smtp-server's default behaviour.
 * `this` and the arguments are passed through, and the result or throw is the host's.
 */
export function callHost(name: HookName, given: unknown, server: unknown, args: unknown[]): unknown {
  const hook = typeof given === 'function' ? (given as HostFn) : inherited(server, name);
  if (hook !== undefined) return hook.apply(server, args);
  return fallback(name, args);
}

function inherited(server: unknown, name: HookName): HostFn | undefined {
  if (typeof server !== 'object' || server === null) return undefined;
  const method = read(Object.getPrototypeOf(server), name);
  return typeof method === 'function' && !wrappers.has(method) ? (method as HostFn) : undefined;
}

/** smtp-server's defaults, for hooks called on something that is not an SMTPServer. */
function fallback(name: HookName, args: unknown[]): void {
  const callback = args[args.length - 1];
  if (typeof callback !== 'function') return;
  if (name === 'onClose') return;
  if (name === 'onAuth') {
    callback(null, { message: 'Authentication not implemented' });
    return;
  }
  if (name === 'onData') {
    const stream = args[0] as NodeJS.ReadableStream;
    stream.once('end', () => callback());
    stream.resume();
    return;
  }
  setImmediate(() => callback());
}

/**
 * Runs the host's hook inside the connection span, so that the host's own emits there join the
 * session. When telemetry cannot enter the span, the hook runs all the same, once.
 */
export function inSpan<T>(telemetry: Telemetry, state: ConnectionState | undefined, run: () => T): T {
  if (state === undefined) return run();
  let entered = false;
  try {
    return telemetry.withSpan(state.span, () => {
      entered = true;
      return run();
    });
  } catch (error) {
    if (entered) throw error;
    return run();
  }
}

/** Runs an observation; a failure in it never reaches smtp-server or the host. */
export function quietly<A extends unknown[]>(observe: (...args: A) => void, ...args: A): void {
  try {
    observe(...args);
  } catch {
    // Telemetry never breaks mail.
  }
}
