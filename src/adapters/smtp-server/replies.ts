import { read } from '../read.js';
import { type ConnectionState, limitsOf, stateOf, syncEhlo } from './connection.js';

type Method = (this: unknown, ...args: unknown[]) => unknown;

const SIZE_PARAM = /\sSIZE=(\d{1,20})(?:\s|$)/i;

/** Prototypes of smtp-server connections whose `send` and `handler_MAIL` are observed. */
const observed = new WeakSet<object>();
/** Servers whose connection class has been looked at: it is the same for every connection. */
const seen = new WeakSet<object>();

/**
 * Observes the replies of `server`'s connections: the EHLO answer, and the refusals smtp-server
 * makes before any hook runs (a `SIZE=` over the limit, too many recipients). The connection class's
 * `send` and `handler_MAIL` are wrapped once, on its prototype, by methods that call the originals
 * with the same `this` and arguments and return their results; a connection of a server that is not
 * instrumented has no state and is only passed through. Per-connection wrappers would cost two
 * closures and two new object shapes a connection. Nothing happens when the shape is not found.
 */
export function observeReplies(server: unknown): void {
  if (typeof server !== 'object' || server === null || seen.has(server)) return;
  const connections = read(server, 'connections');
  if (!(connections instanceof Set)) return;
  const first: unknown = connections.values().next().value;
  if (typeof first !== 'object' || first === null) return;
  seen.add(server);
  const prototype: unknown = Object.getPrototypeOf(first);
  if (typeof prototype !== 'object' || prototype === null || observed.has(prototype)) return;
  observed.add(prototype);
  const send = read(prototype, 'send');
  const handleMail = read(prototype, 'handler_MAIL');
  if (typeof send !== 'function' || typeof handleMail !== 'function') return;
  try {
    Object.defineProperty(prototype, 'send', { value: observingSend(send as Method), writable: true, configurable: true });
    Object.defineProperty(prototype, 'handler_MAIL', {
      value: observingMail(handleMail as Method),
      writable: true,
      configurable: true,
    });
  } catch {
    // A frozen or exotic class is left as it is.
  }
}

function observingSend(original: Method): Method {
  return function send(this: unknown, code: unknown) {
    // biome-ignore lint/complexity/noArguments: the original gets exactly the arguments it was given
    const result = Reflect.apply(original, this, arguments);
    // 250 answers EHLO; 552 and 452 are the refusals that no hook sees.
    if (code === 250 || code === 552 || code === 452) {
      try {
        // biome-ignore lint/complexity/noArguments: the reply's context, when smtp-server gave one
        onReply(this, code, arguments[2]);
      } catch {
        // Observation only: a failure here never reaches the connection.
      }
    }
    return result;
  };
}

function observingMail(original: Method): Method {
  return function handler_MAIL(this: unknown, command: unknown) {
    const state = stateOf(read(this, 'session'));
    if (state !== undefined) state.mailCommand = command;
    try {
      // biome-ignore lint/complexity/noArguments: the original gets exactly the arguments it was given
      return Reflect.apply(original, this, arguments);
    } finally {
      if (state !== undefined) state.mailCommand = undefined;
    }
  };
}

function onReply(connection: unknown, code: number, context: unknown): void {
  const session = read(connection, 'session');
  const state = stateOf(session);
  if (state === undefined) return;
  if (code === 250) syncEhlo(state, session as object);
  else if (code === 552 && context === 'MESSAGE_TOO_BIG' && state.mailCommand !== undefined) reportSizeRefused(state);
  else if (code === 452 && context === 'TOO_MANY_RECIPIENTS') {
    const { maxRecipients } = limitsOf(state);
    state.span.emit('smtp.too-many-recipients', { ...(maxRecipients === undefined ? {} : { limit: maxRecipients }), code });
  }
}

function reportSizeRefused(state: ConnectionState): void {
  const size = declaredSize(state.mailCommand);
  const limit = limitsOf(state).size;
  state.span.emit('smtp.message-too-large', {
    ...(size === undefined ? {} : { size }),
    ...(limit === undefined ? {} : { limit }),
    code: 552,
    details: 'MAIL FROM SIZE',
  });
}

function declaredSize(command: unknown): number | undefined {
  const text = Buffer.isBuffer(command) ? command.toString('latin1') : typeof command === 'string' ? command : '';
  const match = SIZE_PARAM.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
