import { TelemetryConfigError } from '../base/errors.js';
import { DISABLED, LEVELS, type Level, type LevelSetting, severity } from '../base/levels.js';
import { Catalog, type EventDefinition } from '../catalog/catalog.js';
import type { HostEvents } from '../catalog/define.js';
import type { EventInfo } from './types.js';

/**
 * The catalogue as the core reads it at emit time: arrays by event id of names, levels in effect
 * (after the host's overrides) and span end events, fixed when the instance is created.
 */
export class EventTable {
  readonly catalog: Catalog;
  /** Event id -> name ('' for unused ids). */
  readonly names: string[];
  /** Event id -> severity in effect (`DISABLED` for disabled and unused ids). */
  readonly levels: Uint8Array;
  /** Event id -> the level events carry (its default when disabled). */
  readonly levelNames: Level[];
  /** Span start event id -> its end event's name ('' for events that start no span). */
  readonly spanEnds: string[];
  /** Span start events with their end events. */
  readonly spanPairs: ReadonlyMap<string, string>;

  constructor(events: HostEvents | undefined, overrides: Readonly<Record<string, LevelSetting>>) {
    const catalog = new Catalog(events);
    this.catalog = catalog;
    const size = catalog.idSpace;
    for (const name of Object.keys(overrides)) {
      if (catalog.get(name) !== undefined) continue;
      const near = catalog.suggest(name);
      const hint = near ? `did you mean "${near}"?` : undefined;
      throw new TelemetryConfigError(`options.levels[${JSON.stringify(name)}]`, name, 'a known event name', hint);
    }
    this.names = new Array<string>(size).fill('');
    this.levels = new Uint8Array(size).fill(DISABLED);
    this.levelNames = new Array<Level>(size).fill('trace');
    for (const event of catalog.events) {
      const level = overrides[event.name] ?? event.level;
      this.names[event.id] = event.name;
      this.levels[event.id] = severity(level);
      this.levelNames[event.id] = level === 'disable' ? event.level : level;
    }
    this.spanEnds = this.names.map((n) => catalog.get(n)?.spanEnd ?? '');
    this.spanPairs = new Map(catalog.events.flatMap((e) => (e.spanEnd === undefined ? [] : [[e.name, e.spanEnd] as const])));
  }

  /** Span starts and ends are debug-level; a span exporter needs them whatever its level. */
  addSpanBits(bits: Uint32Array): void {
    for (const [start, end] of this.spanPairs) {
      for (const name of [start, end]) {
        const id = this.catalog.get(name)?.id;
        if (id !== undefined && (this.levels[id] ?? DISABLED) < DISABLED)
          bits[id >>> 5] = (bits[id >>> 5] ?? 0) | (1 << (id & 31));
      }
    }
  }

  /** The catalogue entry of `name`, with the level in effect. */
  describe(name: string): EventInfo {
    const event = this.catalog.get(name);
    if (event === undefined) throw new TypeError(`describe: unknown event ${JSON.stringify(name)}`);
    return this.#info(event);
  }

  /** Every entry of the catalogue, with the levels in effect. */
  events(): EventInfo[] {
    return this.catalog.events.map((e) => this.#info(e));
  }

  #info(event: EventDefinition): EventInfo {
    const level = this.levels[event.id] ?? DISABLED;
    return {
      name: event.name,
      id: event.id,
      level: level >= DISABLED ? 'disable' : (LEVELS[level] as Level),
      defaultLevel: event.level,
      counter: event.counter,
      description: event.description,
      keys: event.keys,
      origin: event.origin,
      ...(event.spanEnd === undefined ? {} : { spanEnd: event.spanEnd }),
    };
  }
}
