import { closest, TelemetryConfigError } from '../base/errors.js';
import { isLevel } from '../base/levels.js';
import type { HostEventSpec, HostEvents } from './define.js';
import { BUILTIN_EVENTS, type EventRow, KEY_TYPES } from './generated.js';
import { COMMON_KEYS } from './keys.js';

const NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*$/;
const KEY = /^[a-z][A-Za-z0-9]*$/;
const HOST_ID_MIN = 1000;
const HOST_ID_MAX = 65535;
const KEY_TAGS = new Set<string>(Object.values(KEY_TYPES).concat(['string', 'number', 'boolean']));

/** Key types whose values may be objects (a `Date`, bytes, an `Error`) rather than primitives or arrays. */
const OBJECT_TYPES = new Set<string>(['time', 'bytes', 'cause']);

/** The keys among `keys` whose declared type may hold an object. */
function objectKeysOf(keys: readonly string[], typeOf: (key: string) => unknown): readonly string[] {
  return keys.filter((key) => OBJECT_TYPES.has(String(typeOf(key))));
}

const vocabularyType = (key: string): unknown => (KEY_TYPES as Readonly<Record<string, string>>)[key];

/** A catalogue entry, built in or declared by the host. */
export interface EventDefinition extends EventRow {
  readonly origin: 'builtin' | 'library' | 'host';
  /**
   * The keys whose declared type may hold an object (a `Date`, bytes, an `Error`); `undefined` for
   * events that accept any vocabulary key.
   */
  readonly objectKeys: readonly string[] | undefined;
}

/** The events known to one telemetry instance, indexed by name and by id. */
export class Catalog {
  /** Every event, sorted by name. */
  readonly events: readonly EventDefinition[];
  /** One past the largest id: the size of per-id tables. */
  readonly idSpace: number;
  readonly #byName: Map<string, EventDefinition>;
  readonly #byId: (EventDefinition | undefined)[];

  constructor(host?: HostEvents) {
    const events: EventDefinition[] = BUILTIN_EVENTS.map((row) => ({
      ...row,
      origin: row.library ? 'library' : 'builtin',
      // A built-in event also takes the common keys besides the ones seen with it.
      objectKeys: row.keys.length === 0 ? undefined : objectKeysOf([...row.keys, ...COMMON_KEYS], vocabularyType),
    }));
    if (host !== undefined) events.push(...hostDefinitions(host));
    events.sort((a, b) => (a.name < b.name ? -1 : 1));
    this.events = events;
    this.#byName = new Map(events.map((e) => [e.name, e]));
    this.idSpace = Math.max(...events.map((e) => e.id)) + 1;
    this.#byId = new Array<EventDefinition | undefined>(this.idSpace).fill(undefined);
    for (const e of events) this.#byId[e.id] = e;
  }

  /** The definition of `name`, if known. */
  get(name: string): EventDefinition | undefined {
    return this.#byName.get(name);
  }

  /** The definition with numeric id `id`, if any. */
  byId(id: number): EventDefinition | undefined {
    return this.#byId[id];
  }

  /** The known name nearest to `name`, for "did you mean" hints. */
  suggest(name: string): string | undefined {
    return closest(name, this.#byName.keys());
  }
}

function hostDefinitions(host: HostEvents): EventDefinition[] {
  const path = 'options.events';
  if (typeof host !== 'object' || host === null || typeof host.specs !== 'object' || host.specs === null) {
    throw new TelemetryConfigError(path, host, 'the result of defineEvents({...})');
  }
  const builtinNames = new Set(BUILTIN_EVENTS.map((e) => e.name));
  const usedIds = new Map<number, string>();
  const specs = Object.entries(host.specs);
  const names = new Set(specs.map(([name]) => name));
  return specs.map(([name, spec]) => {
    const at = `${path}[${JSON.stringify(name)}]`;
    if (!NAME.test(name)) throw new TelemetryConfigError(at, name, 'an event name of the form category.kebab-name');
    if (builtinNames.has(name)) throw new TelemetryConfigError(at, name, 'a name that is not a built-in event');
    checkSpec(at, spec, names);
    const clash = usedIds.get(spec.id);
    if (clash !== undefined) throw new TelemetryConfigError(`${at}.id`, spec.id, `an id not already used by "${clash}"`);
    usedIds.set(spec.id, name);
    const keys = spec.keys === undefined ? [] : Object.keys(spec.keys);
    // Declared keys take the common keys too; none declared means any vocabulary key.
    const accepted = keys.length > 0 ? [...new Set([...keys, ...COMMON_KEYS])] : [];
    const declared = (spec.keys ?? {}) as Readonly<Record<string, unknown>>;
    const typeOf = (key: string) => (declared[key] === true || declared[key] === undefined ? vocabularyType(key) : declared[key]);
    const definition: EventDefinition = {
      name,
      id: spec.id,
      level: spec.level ?? 'info',
      counter: spec.counter ?? false,
      keys: accepted,
      description: spec.description,
      origin: 'host',
      objectKeys: accepted.length > 0 ? objectKeysOf(accepted, typeOf) : undefined,
      ...(spec.required === undefined ? {} : { required: spec.required }),
      ...(spec.span === undefined ? {} : { spanEnd: spec.span.end }),
    };
    return definition;
  });
}

const SPEC_FIELDS = new Set(['id', 'description', 'level', 'counter', 'keys', 'required', 'span']);

function checkSpec(at: string, spec: HostEventSpec, names: Set<string>): void {
  if (typeof spec !== 'object' || spec === null) throw new TelemetryConfigError(at, spec, 'an event declaration object');
  for (const field of Object.keys(spec)) {
    if (!SPEC_FIELDS.has(field)) {
      throw new TelemetryConfigError(`${at}.${field}`, field, `one of ${[...SPEC_FIELDS].join(', ')}`);
    }
  }
  if (!Number.isInteger(spec.id) || spec.id < HOST_ID_MIN || spec.id > HOST_ID_MAX) {
    throw new TelemetryConfigError(`${at}.id`, spec.id, `an integer from ${HOST_ID_MIN} to ${HOST_ID_MAX}`);
  }
  if (typeof spec.description !== 'string' || spec.description.trim() === '' || /[\r\n]/.test(spec.description)) {
    throw new TelemetryConfigError(`${at}.description`, spec.description, 'a non-empty one-line string');
  }
  if (spec.level !== undefined && !isLevel(spec.level)) {
    throw new TelemetryConfigError(`${at}.level`, spec.level, 'one of trace, debug, info, warn, error');
  }
  if (spec.counter !== undefined && typeof spec.counter !== 'boolean') {
    throw new TelemetryConfigError(`${at}.counter`, spec.counter, 'a boolean');
  }
  const keys = spec.keys;
  if (keys !== undefined) {
    if (typeof keys !== 'object' || keys === null) throw new TelemetryConfigError(`${at}.keys`, keys, 'an object');
    for (const [key, type] of Object.entries(keys)) {
      const keyAt = `${at}.keys.${key}`;
      if (!KEY.test(key)) throw new TelemetryConfigError(keyAt, key, 'a camelCase key name');
      const inVocabulary = Object.hasOwn(KEY_TYPES, key);
      if (inVocabulary && type !== true) {
        throw new TelemetryConfigError(keyAt, type, 'true: vocabulary keys keep their vocabulary type');
      }
      if (!inVocabulary && (typeof type !== 'string' || !KEY_TAGS.has(type))) {
        throw new TelemetryConfigError(keyAt, type, `a type tag: ${[...KEY_TAGS].join(', ')}`);
      }
    }
  }
  if (spec.required !== undefined) {
    if (!Array.isArray(spec.required)) throw new TelemetryConfigError(`${at}.required`, spec.required, 'an array');
    const known = keys === undefined ? KEY_TYPES : keys;
    spec.required.forEach((key, i) => {
      if (typeof key !== 'string' || !Object.hasOwn(known, key)) {
        throw new TelemetryConfigError(`${at}.required[${i}]`, key, 'a key the event declares');
      }
    });
  }
  if (spec.span !== undefined) {
    const end = (spec.span as { end?: unknown }).end;
    if (typeof end !== 'string' || !names.has(end)) {
      throw new TelemetryConfigError(`${at}.span.end`, end, 'the name of another event in the same defineEvents call');
    }
  }
}
