import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { describeError } from '../../base/errors.js';
import { createTelemetry, type RequestHandler, TelemetryConfigError, type TelemetryOptions } from '../../index.js';
import { resolveOptions } from '../../options.js';
import { read } from '../read.js';
import { defaultRcptRefusal, type RcptRefusal, type RcptRefusalEvent } from '../smtp-server/refusals.js';
import { startAdmin } from './admin.js';
import { primaryScrape, workerScrape } from './cluster.js';
import { type HarakaSettings, type Ini, settingsFromIni } from './config.js';
import { type HarakaTelemetry, harakaEvents } from './events.js';
import { flushBeforeExit } from './exit.js';
import {
  type ReportOptions,
  reportAuth,
  reportDeny,
  reportMailAccepted,
  reportQueued,
  reportQueueUnhandled,
  reportRcptAccepted,
  reportRcptUndecided,
  reportTooLarge,
  sync,
} from './observe.js';
import { reportBounce, reportDeferred, reportDelivered, trackOutbound } from './outbound.js';
import { watchResults } from './results.js';
import { closeAllSessions, closeSession, openSession, type Session, sessionOf, text } from './session.js';

/** Options of {@link plugin}, for a Haraka plugin file that configures the telemetry in JavaScript. */
export interface HarakaPluginOptions {
  /**
   * Telemetry options laid over those of `telemetry.ini` (these win; `levels` are merged, and
   * `events` are added to the plugin's own `haraka.*` events).
   * @default {}
   */
  readonly telemetry?: TelemetryOptions;
  /**
   * The ini file in Haraka's `config/` directory the plugin reads.
   * @default 'telemetry.ini'
   */
  readonly configFile?: string;
  /**
   * Maps a refused RCPT TO to the event reporting it; `false` reports nothing. It must not throw
   * (a throw reports the refusal as `smtp.error`).
   * @default defaultRcptRefusal (from `mail-telemetry/smtp-server`)
   */
  readonly rcptRefusal?: (refusal: RcptRefusal) => RcptRefusalEvent | false;
  /**
   * Makes the process's exit wait for a last flush (bounded by `[main] flush_timeout`), and flushes
   * on a SIGTERM nobody else handles: Haraka exits without awaiting its plugins. Turn it off only
   * where something else flushes the instance before the process ends.
   * @default true
   */
  readonly flushOnExit?: boolean;
}

/** What the plugin needs of Haraka's plugin object. */
interface HarakaPluginObject {
  register_hook(hook: string, method: string, priority?: number): void;
  readonly config?: { get(name: string, ...args: unknown[]): unknown };
  [method: string]: unknown;
}

type Next = (retval?: number, msg?: unknown) => void;
type HookMethod = (this: unknown, next: Next, connection: unknown, params: unknown) => void;

/** One process's plugin: Haraka loads a plugin once per process (the master and each worker). */
class Runtime {
  settings: HarakaSettings | undefined;
  options: HarakaPluginOptions = {};
  report: ReportOptions = { rcptRefusal: defaultRcptRefusal, maxBytes: undefined };
  telemetry: HarakaTelemetry | undefined;
  admin: Server | undefined;
  #restoreExit: (() => void) | undefined;
  #stopPrimary: (() => void) | undefined;
  #shutdown: Promise<unknown> | undefined;

  /** The instance; made at the first session or at Haraka's init hooks, never in the cluster master. */
  instance(): HarakaTelemetry {
    if (this.telemetry !== undefined) return this.telemetry;
    const options = withSharedHistory(telemetryOptions(this.settings, this.options), this.settings?.postgres);
    const telemetry = createTelemetry(options as TelemetryOptions) as unknown as HarakaTelemetry;
    this.telemetry = telemetry;
    if (this.options.flushOnExit !== false)
      this.#restoreExit = flushBeforeExit(() => this.shutdown(), this.settings?.flushTimeout ?? 5000);
    return telemetry;
  }

  /** Starts the admin listener of a process that takes mail: alone, or a worker of a cluster. */
  serve(worker: boolean): void {
    const telemetry = this.instance();
    const listener = this.settings?.admin;
    const metrics: RequestHandler = worker
      ? workerScrape(telemetry, this.settings?.authorized ?? (() => true))
      : telemetry.handlers.prometheus;
    if (listener !== undefined && this.admin === undefined)
      this.admin = startAdmin(listener, telemetry.handlers, metrics, (error) => reportError(telemetry, error));
  }

  /** The cluster master takes no mail: it only answers the workers' requests for the whole scrape. */
  servePrimary(): void {
    if (this.#stopPrimary === undefined) this.#stopPrimary = primaryScrape();
  }

  shutdown(): Promise<unknown> {
    if (this.#shutdown !== undefined) return this.#shutdown;
    this.#stopPrimary?.();
    const telemetry = this.telemetry;
    if (telemetry === undefined) return Promise.resolve();
    closeAllSessions('server shutdown');
    this.admin?.close();
    this.#shutdown = telemetry.shutdown(this.settings?.flushTimeout).finally(() => this.#restoreExit?.());
    return this.#shutdown;
  }
}

const runtime = new Runtime();

/**
 * The telemetry instance of this Haraka process, for other plugins that emit their own events into
 * it: `require('mail-telemetry/haraka').harakaTelemetry()?.emit(...)`. Undefined in the cluster
 * master, which takes no mail, and before the plugin has started.
 */
export function harakaTelemetry(): HarakaTelemetry | undefined {
  return runtime.telemetry;
}

/**
 * Makes Haraka's plugin object (`exports` in a plugin file) the telemetry plugin. The whole plugin
 * file, `plugins/telemetry.js` in Haraka's directory, is one line:
 *
 * ```js
 * require('mail-telemetry/haraka').plugin(exports);
 * ```
 *
 * It reads `config/telemetry.ini` when Haraka loads it (a bad setting stops Haraka with an error
 * naming the section and key), reports every session as the `mail-telemetry/smtp-server` adapter
 * does, never changes what a hook answers, and flushes before the process exits.
 */
export function plugin(target: object, options: HarakaPluginOptions = {}): void {
  if (typeof target !== 'object' || target === null)
    throw new TelemetryConfigError('plugin(exports)', target, "Haraka's plugin object (a plugin file's `exports`)");
  checkOptions(options);
  const object = target as HarakaPluginObject;
  runtime.options = options;
  object.register = function register(this: HarakaPluginObject): void {
    const self = typeof this === 'object' && this !== null ? this : object;
    const ini = readIni(self, options.configFile ?? 'telemetry.ini');
    runtime.settings = settingsFromIni(ini);
    // Checked now, so that a bad option stops Haraka at start rather than at the first mail.
    resolveOptions(telemetryOptions(runtime.settings, options));
    runtime.report = { rcptRefusal: options.rcptRefusal ?? defaultRcptRefusal, maxBytes: maxBytes(self) };
    for (const [hook, method, priority] of HOOKS) self.register_hook(hook, method, priority);
  };
  for (const [, method] of HOOKS) object[method] = METHODS[method];
  object.shutdown = function shutdown(): void {
    void runtime.shutdown();
  };
}

/** [hook, method, priority]: first (-100) to see a command before any plugin decides, last (100) to see it accepted. */
const HOOKS: readonly (readonly [string, string, number])[] = [
  ['init_master', 'telemetry_init_master', 0],
  ['init_child', 'telemetry_init_child', 0],
  ['connect_init', 'telemetry_connect_init', -100],
  ['helo', 'telemetry_greeting', 100],
  ['ehlo', 'telemetry_greeting', 100],
  ['mail', 'telemetry_mail_first', -100],
  ['mail', 'telemetry_mail_last', 100],
  ['rcpt', 'telemetry_sync', -100],
  ['rcpt', 'telemetry_rcpt_last', 100],
  ['rcpt_ok', 'telemetry_rcpt_ok', 100],
  ['data', 'telemetry_sync', -100],
  ['data_post', 'telemetry_sync', -100],
  ['max_data_exceeded', 'telemetry_max_data_exceeded', 100],
  ['queue', 'telemetry_queue_last', 100],
  ['queue_outbound', 'telemetry_queue_outbound_last', 100],
  ['queue_ok', 'telemetry_queue_ok', -100],
  ['deny', 'telemetry_deny', -100],
  ['disconnect', 'telemetry_disconnect', 100],
  ['delivered', 'telemetry_delivered', -100],
  ['bounce', 'telemetry_bounce', -100],
  ['deferred', 'telemetry_deferred', -100],
];

/** A hook that reports on a known session and always answers CONT, whatever happens inside. */
function observer(report: (session: Session, connection: unknown, params: unknown, hook: string) => void): HookMethod {
  return function (this: unknown, next: Next, connection: unknown, params: unknown): void {
    try {
      const session = sessionOf(connection);
      if (session !== undefined) report(session, connection, params, String(read(connection, 'hook') ?? ''));
    } catch (error) {
      if (runtime.telemetry !== undefined) reportError(runtime.telemetry, error);
    }
    next();
  };
}

/** A hook of Haraka's outbound deliveries, run with the delivery (`hmail`) instead of a connection. */
function outboundObserver(report: (telemetry: HarakaTelemetry, hmail: unknown, params: unknown) => void): HookMethod {
  return function (this: unknown, next: Next, hmail: unknown, params: unknown): void {
    const telemetry = runtime.telemetry;
    try {
      if (telemetry !== undefined) report(telemetry, hmail, params);
    } catch (error) {
      if (telemetry !== undefined) reportError(telemetry, error);
    }
    next();
  };
}

const METHODS: Readonly<Record<string, HookMethod>> = {
  telemetry_init_master(next: Next, server: unknown): void {
    try {
      if (read(server, 'cluster')) runtime.servePrimary();
      else runtime.serve(false);
    } catch (error) {
      logError(server, error);
    }
    next();
  },
  telemetry_init_child(next: Next, server: unknown): void {
    try {
      runtime.serve(true);
    } catch (error) {
      logError(server, error);
    }
    next();
  },
  telemetry_connect_init(next: Next, connection: unknown): void {
    try {
      if (typeof connection === 'object' && connection !== null) {
        openSession(runtime.instance(), connection, runtime.settings?.listenerId ?? 'haraka');
        watchResults(connection, reportAuthOf);
      }
    } catch (error) {
      if (runtime.telemetry !== undefined) reportError(runtime.telemetry, error);
    }
    next();
  },
  telemetry_greeting: observer((session, connection) => sync(session, connection)),
  telemetry_sync: observer((session, connection) => sync(session, connection)),
  telemetry_mail_first: observer((session, connection, params) => {
    sync(session, connection, false);
    session.mailParams = Array.isArray(params) ? params[1] : undefined;
  }),
  telemetry_mail_last: observer(reportMailAccepted),
  telemetry_rcpt_last: observer((session, connection, params) => reportRcptUndecided(session, connection, params)),
  telemetry_rcpt_ok: observer(reportRcptAccepted),
  telemetry_max_data_exceeded: observer((session, connection) => reportTooLarge(session, connection, runtime.report)),
  telemetry_queue_last: observer((session, connection, _params, hook) => reportQueueUnhandled(session, connection, hook)),
  telemetry_queue_outbound_last: observer((session, connection) => {
    session.outbound = text(read(connection, 'transaction'), 'uuid');
  }),
  telemetry_queue_ok: observer((session, connection, params) => {
    reportQueued(session, connection, params);
    const telemetry = runtime.telemetry;
    if (telemetry === undefined) return;
    const transaction = read(connection, 'transaction');
    const uuid = text(transaction, 'uuid');
    // A queue plugin (smtp_forward, lmtp, qmail-queue...) hands the message on as it takes it; only
    // Haraka's own outbound queue holds it, until every recipient's delivery has ended.
    const rcpts = read(transaction, 'rcpt_to');
    if (uuid !== undefined && uuid === session.outbound && Array.isArray(rcpts)) trackOutbound(telemetry, uuid, rcpts.length);
    else telemetry.metrics.gauge('queue.count').dec();
  }),
  telemetry_delivered: outboundObserver(reportDelivered),
  telemetry_bounce: outboundObserver(reportBounce),
  telemetry_deferred: outboundObserver(reportDeferred),
  telemetry_deny: observer((session, connection, params) => reportDeny(session, connection, params, runtime.report)),
  telemetry_disconnect(next: Next, connection: unknown): void {
    try {
      const session = sessionOf(connection);
      if (session !== undefined && typeof connection === 'object' && connection !== null) {
        sync(session, connection);
        closeSession(connection);
      }
    } catch (error) {
      if (runtime.telemetry !== undefined) reportError(runtime.telemetry, error);
    }
    next();
  },
};

const OPTION_KEYS = new Set(['telemetry', 'configFile', 'rcptRefusal', 'flushOnExit']);

function checkOptions(options: unknown): void {
  const path = 'plugin(exports, options)';
  if (typeof options !== 'object' || options === null) throw new TelemetryConfigError(path, options, 'an object');
  for (const key of Object.keys(options))
    if (!OPTION_KEYS.has(key)) throw new TelemetryConfigError(`${path}.${key}`, key, `one of ${[...OPTION_KEYS].join(', ')}`);
  const o = options as Record<string, unknown>;
  if (o.configFile !== undefined && (typeof o.configFile !== 'string' || !/^[\w.-]+\.ini$/.test(o.configFile)))
    throw new TelemetryConfigError(`${path}.configFile`, o.configFile, "an ini file name in Haraka's config directory");
  if (o.rcptRefusal !== undefined && typeof o.rcptRefusal !== 'function')
    throw new TelemetryConfigError(`${path}.rcptRefusal`, o.rcptRefusal, 'a function');
  if (o.flushOnExit !== undefined && typeof o.flushOnExit !== 'boolean')
    throw new TelemetryConfigError(`${path}.flushOnExit`, o.flushOnExit, 'true or false');
  if (o.telemetry !== undefined && (typeof o.telemetry !== 'object' || o.telemetry === null))
    throw new TelemetryConfigError(`${path}.telemetry`, o.telemetry, 'telemetry options (an object)');
}

function reportAuthOf(connection: unknown, result: unknown): void {
  const session = sessionOf(connection);
  if (session !== undefined) reportAuth(session, result);
}

function telemetryOptions(settings: HarakaSettings | undefined, options: HarakaPluginOptions): TelemetryOptions {
  const base = settings?.telemetry ?? {};
  const given = options.telemetry ?? {};
  const hostEvents = given.events === undefined ? undefined : read(given.events, 'specs');
  return {
    ...base,
    ...given,
    levels: { ...base.levels, ...given.levels },
    events:
      typeof hostEvents === 'object' && hostEvents !== null
        ? { specs: { ...harakaEvents.specs, ...(hostEvents as object) } }
        : harakaEvents,
  } as TelemetryOptions;
}

/**
 * `[history] postgres`: every worker (and every server) writes one history in PostgreSQL, which any
 * of them answers from. `pg` is loaded only here, through the package's own `postgres` entry.
 */
function withSharedHistory(options: TelemetryOptions, postgres: string | undefined): TelemetryOptions {
  if (postgres === undefined || options.history === undefined || options.history === false) return options;
  const { PostgresHistoryStore } = createRequire(import.meta.url)(
    'mail-telemetry/postgres',
  ) as typeof import('../../postgres.js');
  const store = new PostgresHistoryStore({
    connection: postgres,
    node: `${options.service ?? 'haraka'}:${hostname()}:${process.pid}`,
  });
  return { ...options, history: { ...options.history, store } };
}

function readIni(plugin: HarakaPluginObject, file: string): Ini {
  const config = plugin.config;
  if (config === undefined || typeof config.get !== 'function') return {};
  const ini = config.get(file, { booleans: [] });
  return typeof ini === 'object' && ini !== null ? (ini as Ini) : {};
}

/** connection.ini's `max.bytes`, which Haraka refuses a message past. */
function maxBytes(plugin: HarakaPluginObject): number | undefined {
  try {
    const ini = plugin.config?.get('connection.ini');
    const bytes = Number(read(read(ini, 'max'), 'bytes'));
    return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

function reportError(telemetry: HarakaTelemetry, error: unknown): void {
  try {
    telemetry.emit('telemetry.subscriber-error', { id: 'haraka', causedBy: error as Error });
  } catch {
    // Telemetry never breaks mail.
  }
}

function logError(server: unknown, error: unknown): void {
  const log = read(server, 'logerror');
  if (typeof log === 'function') {
    try {
      log.call(server, `telemetry: ${describeError(error)}`);
    } catch {
      // Nothing else to tell.
    }
  }
}
