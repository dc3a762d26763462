// @ts-check
/**
 * A mail-server plugin in plain JavaScript and CommonJS, typed with JSDoc. With `// @ts-check` at
 * the top, an editor (or `tsc --checkJs`) checks every event name, key and value type against the
 * package's declarations, as in a TypeScript host. The plugin has the shape of a Haraka plugin:
 * hooks on `exports` that take `next` and the connection.
 *
 * Run with `node examples/jsdoc-plugin.cjs` after `npm run build`: it replays one SMTP session
 * through its hooks and prints what the telemetry saw.
 */
'use strict';

const { createTelemetry } = require('mail-telemetry');

/**
 * The parts of the server's connection object the plugin reads.
 * @typedef {object} Connection
 * @property {{ ip: string, port: number }} remote
 * @property {{ port: number }} local
 */
/** @typedef {(code?: number, message?: string) => void} Next */

// `@satisfies` checks the options and keeps their literal types, so the instance stays typed.
/** @satisfies {import('mail-telemetry').TelemetryOptions} */
const options = { service: 'mx1', levels: { 'smtp.connection-start': 'info', 'smtp.connection-end': 'info' } };
const telemetry = createTelemetry(options);

/** @type {WeakMap<Connection, import('mail-telemetry').Span>} */
const sessions = new WeakMap();

/** @param {Next} next @param {Connection} connection */
exports.hook_connect = (next, connection) => {
  const span = telemetry.span('smtp.connection-start', {
    remoteIp: connection.remote.ip,
    remotePort: connection.remote.port,
    listenerId: 'smtp',
    localPort: connection.local.port,
  });
  sessions.set(connection, span);
  next();
};

/** @param {Next} next @param {Connection} connection @param {[{ address(): string }]} params */
exports.hook_mail = (next, connection, params) => {
  sessions.get(connection)?.emit('smtp.mail-from', { from: params[0].address() });
  next();
};

/** @param {Next} next @param {Connection} connection @param {[{ address(): string }]} params */
exports.hook_rcpt = (next, connection, params) => {
  sessions.get(connection)?.emit('smtp.rcpt-to', { to: params[0].address() });
  next();
};

/** @param {Next} next @param {Connection} connection */
exports.hook_disconnect = (next, connection) => {
  sessions.get(connection)?.end();
  sessions.delete(connection);
  next();
};

/** Delivers what is pending; the server calls it when it stops. */
exports.shutdown = () => telemetry.shutdown();

if (require.main === module) {
  telemetry.subscribe({ events: ['smtp.*'], level: 'info' }, (batch) => {
    for (const event of batch) console.log(`${event.type} ${JSON.stringify(event.data)}`);
  });
  /** @type {Connection} */
  const connection = { remote: { ip: '192.0.2.10', port: 40_000 }, local: { port: 25 } };
  /** @param {string} address */
  const param = (address) => /** @type {[{ address(): string }]} */ ([{ address: () => address }]);
  const next = () => {};
  exports.hook_connect(next, connection);
  exports.hook_mail(next, connection, param('alice@example.org'));
  exports.hook_rcpt(next, connection, param('bob@example.com'));
  exports.hook_disconnect(next, connection);
  exports.shutdown().then(() => {
    console.log(`sessions: ${telemetry.metrics.eventCount('smtp.connection-start')}`);
  });
}
