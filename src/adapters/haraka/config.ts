import { isIP } from 'node:net';
import { basicCheck } from '../../http/auth.js';
import { TelemetryConfigError, type TelemetryOptions } from '../../index.js';
import { type HarakaEventSpecs, harakaEvents } from './events.js';
import { harakaLevels } from './levels.js';

/** An ini file as Haraka's config reader returns it: sections of keys. */
export type Ini = Readonly<Record<string, unknown>>;

/** Where the plugin serves the scrape, the history, the live streams and the dashboard. */
export interface AdminListener {
  readonly host: string;
  readonly port: number;
}

/** The plugin's settings, from `telemetry.ini` and the options given in JavaScript. */
export interface HarakaSettings {
  readonly telemetry: TelemetryOptions;
  readonly listenerId: string;
  readonly admin: AdminListener | undefined;
  readonly flushTimeout: number;
  /** `[history] postgres`: the connection string of a history shared by every worker and server. */
  readonly postgres: string | undefined;
  /** Whether an `Authorization` header passes the admin listener's Basic auth (true without one). */
  readonly authorized: (authorization: string | undefined) => boolean;
}

const FILE = 'telemetry.ini';
const SECTIONS = ['main', 'levels', 'admin', 'history'];
const KEYS: Readonly<Record<string, readonly string[]>> = {
  main: ['service', 'listener_id', 'flush_timeout', 'sensitive_keys'],
  admin: ['listen', 'username', 'password', 'open'],
  history: ['enabled', 'events', 'exclude', 'level', 'capacity', 'postgres'],
  tracer: [
    'type',
    'format',
    'stream',
    'path',
    'prefix',
    'max_size',
    'level',
    'events',
    'exclude',
    'rotate',
    'max_files',
    'gzip',
    'multiline',
    'journald',
  ],
  webhook: ['url', 'signature_key', 'signing', 'events', 'exclude', 'level', 'throttle', 'timeout'],
};

/**
 * Turns `telemetry.ini` into telemetry options. Every key is checked: an unknown section or key,
 * or a bad value, throws a `TelemetryConfigError` naming the file, section and key, so a typo
 * stops Haraka at start rather than being ignored.
 */
export function settingsFromIni(ini: Ini): HarakaSettings {
  try {
    return readSettings(ini);
  } catch (error) {
    if (error instanceof TelemetryConfigError) throw error;
    // A value no ini parser makes (a throwing getter, a proxy): say so rather than crash Haraka's start.
    throw new TelemetryConfigError(FILE, '[unreadable]', 'sections of plain keys and values, as read by Haraka');
  }
}

function readSettings(ini: Ini): HarakaSettings {
  const tracers: Record<string, unknown>[] = [];
  const webhooks: Record<string, unknown>[] = [];
  for (const name of Object.keys(ini)) {
    const section = sectionOf(ini, name);
    const kind =
      name === 'tracer' || name.startsWith('tracer.')
        ? 'tracer'
        : name === 'webhook' || name.startsWith('webhook.')
          ? 'webhook'
          : name;
    if (kind === 'levels') continue;
    if (!SECTIONS.includes(kind) && kind !== 'tracer' && kind !== 'webhook')
      throw new TelemetryConfigError(
        `${FILE} [${name}]`,
        name,
        'a section main, levels, admin, history, tracer[.id] or webhook[.id]',
      );
    checkKeys(section, KEYS[kind] ?? [], name);
    if (kind === 'tracer') tracers.push(tracerOf(section, name));
    if (kind === 'webhook') webhooks.push(webhookOf(section, name));
  }
  const main = sectionOf(ini, 'main');
  const admin = sectionOf(ini, 'admin');
  const listen = str(admin, 'listen', 'admin');
  const listener = listen === undefined ? undefined : listenerOf(listen);
  const username = str(admin, 'username', 'admin');
  const password = str(admin, 'password', 'admin');
  if ((username === undefined) !== (password === undefined))
    throw new TelemetryConfigError(`${FILE} [admin] password`, '[redacted]', 'username and password given together');
  const openFlag = bool(admin, 'open', 'admin') ?? false;
  if (listener !== undefined && username === undefined && !openFlag && !isLoopback(listener.host))
    throw new TelemetryConfigError(
      `${FILE} [admin] listen`,
      listen,
      'a loopback address, or username and password, or open=true (the history holds addresses)',
    );
  const check = username === undefined || password === undefined ? undefined : basicCheck({ username, password });
  const authorized = (authorization: string | undefined): boolean => (check === undefined ? true : check(authorization));
  const allow = (request: { header(name: string): string | undefined }): boolean => authorized(request.header('authorization'));
  const history = sectionOf(ini, 'history');
  const sensitive = list(main, 'sensitive_keys', 'main');
  const telemetry = {
    service: str(main, 'service', 'main') ?? 'haraka',
    events: harakaEvents,
    levels: { ...harakaLevels, ...levelsOf(sectionOf(ini, 'levels')) },
    ...(sensitive === undefined ? {} : { sensitiveKeys: sensitive }),
    ...(tracers.length === 0 ? {} : { tracers }),
    ...(webhooks.length === 0 ? {} : { webhooks }),
    ...(bool(history, 'enabled', 'history') === false
      ? { history: false }
      : { history: { ...(historyOf(history) as object), ...(listener === undefined ? {} : { authorize: allow }) } }),
    ...(listener === undefined
      ? {}
      : {
          live: { authorize: allow },
          ...(username === undefined || password === undefined ? {} : { metrics: { auth: { username, password } } }),
        }),
  };
  return {
    // Checked in full by the telemetry's own validation, which names each option.
    telemetry: telemetry as unknown as TelemetryOptions,
    listenerId: str(main, 'listener_id', 'main') ?? 'haraka',
    admin: listener,
    flushTimeout: positiveInt(main, 'flush_timeout', 'main') ?? 5000,
    postgres: postgresOf(history),
    authorized,
  };
}

/** The events the plugin's instance declares, merged with a host's own. */
export type HarakaEventsOption = typeof harakaEvents;
export type { HarakaEventSpecs };

function tracerOf(section: Ini, name: string): Record<string, unknown> {
  const type = str(section, 'type', name) ?? 'console';
  if (type !== 'console' && type !== 'file')
    throw new TelemetryConfigError(`${FILE} [${name}] type`, type, '"console" or "file"');
  const id = name.startsWith('tracer.') ? name.slice(7) : undefined;
  return compact({
    type,
    id,
    format: str(section, 'format', name),
    stream: str(section, 'stream', name),
    path: str(section, 'path', name),
    prefix: str(section, 'prefix', name),
    maxSize: positiveInt(section, 'max_size', name),
    level: str(section, 'level', name),
    events: list(section, 'events', name),
    exclude: list(section, 'exclude', name),
    rotate: str(section, 'rotate', name),
    maxFiles: positiveInt(section, 'max_files', name),
    gzip: bool(section, 'gzip', name),
    multiline: bool(section, 'multiline', name),
    journald: bool(section, 'journald', name),
  });
}

function webhookOf(section: Ini, name: string): Record<string, unknown> {
  return compact({
    id: name.startsWith('webhook.') ? name.slice(8) : 'webhook',
    url: str(section, 'url', name),
    signatureKey: str(section, 'signature_key', name),
    signing: str(section, 'signing', name),
    events: list(section, 'events', name),
    exclude: list(section, 'exclude', name),
    level: str(section, 'level', name),
    throttle: positiveInt(section, 'throttle', name),
    timeout: positiveInt(section, 'timeout', name),
  });
}

function historyOf(section: Ini): Record<string, unknown> {
  return compact({
    events: list(section, 'events', 'history'),
    exclude: list(section, 'exclude', 'history'),
    level: str(section, 'level', 'history'),
    capacity: positiveInt(section, 'capacity', 'history'),
  });
}

function postgresOf(section: Ini): string | undefined {
  const url = str(section, 'postgres', 'history');
  if (url === undefined) return undefined;
  // The full check (and the secret kept out of errors) is the store's own, when it is made.
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new TelemetryConfigError(
      `${FILE} [history] postgres`,
      '[redacted]',
      'a postgres:// or postgresql:// connection string',
    );
  return url;
}

function levelsOf(section: Ini): Record<string, string> {
  const levels: Record<string, string> = {};
  for (const key of Object.keys(section)) {
    const value = section[key];
    if (typeof value !== 'string') throw new TelemetryConfigError(`${FILE} [levels] ${key}`, value, 'a level name');
    levels[key] = value;
  }
  return levels;
}

function listenerOf(listen: string): AdminListener {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(listen.trim());
  const host = match?.[1];
  const port = Number(match?.[2]);
  if (host === undefined || isIP(host) === 0 || !(port >= 0 && port <= 65535))
    throw new TelemetryConfigError(
      `${FILE} [admin] listen`,
      listen,
      'an IP address and port, such as 127.0.0.1:9466 or [::1]:9466',
    );
  return { host, port };
}

function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.');
}

function sectionOf(ini: Ini, name: string): Ini {
  const section = ini[name];
  if (section === undefined) return {};
  if (typeof section !== 'object' || section === null)
    throw new TelemetryConfigError(`${FILE} ${name}`, section, `a [section]; keys go under [main]`);
  return section as Ini;
}

function checkKeys(section: Ini, known: readonly string[], name: string): void {
  for (const key of Object.keys(section))
    if (!known.includes(key)) throw new TelemetryConfigError(`${FILE} [${name}] ${key}`, key, `one of ${known.join(', ')}`);
}

function str(section: Ini, key: string, name: string): string | undefined {
  const value = section[key];
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') throw new TelemetryConfigError(`${FILE} [${name}] ${key}`, value, 'a string');
  return value;
}

function list(section: Ini, key: string, name: string): string[] | undefined {
  const value = str(section, key, name);
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function bool(section: Ini, key: string, name: string): boolean | undefined {
  const value = section[key];
  if (value === undefined || value === '') return undefined;
  if (value === true || value === 'true' || value === '1' || value === 1 || value === 'yes') return true;
  if (value === false || value === 'false' || value === '0' || value === 0 || value === 'no') return false;
  throw new TelemetryConfigError(`${FILE} [${name}] ${key}`, value, 'true or false');
}

function positiveInt(section: Ini, key: string, name: string): number | undefined {
  const value = section[key];
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0)
    throw new TelemetryConfigError(`${FILE} [${name}] ${key}`, value, 'a positive integer');
  return n;
}

function compact(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value;
  return out;
}
