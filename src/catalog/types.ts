import type { Level } from '../base/levels.js';
import type { STALWART_015_ALIASES } from '../stalwart/names.js';
import type { AnyKeys, SpanId } from './keys.js';

/** Event data types by event name. */
export type EventMap = object;

/** The names of an event map. */
export type EventName<M> = keyof M & string;

/** A wildcard selector: `*`, `smtp.*`, `*-error`, or any name with `*` standing for any run of characters. */
export type Wildcard = `${string}*${string}`;

/**
 * The Stalwart 0.15 names whose 0.16 event is in `M`: `queue.queue-message` for
 * `queue.message-queued` and the 13 others. 14 names at most, so adding them to a selector's
 * names costs next to nothing in a type-check.
 */
export type AliasName<M> = {
  [A in keyof typeof STALWART_015_ALIASES]: (typeof STALWART_015_ALIASES)[A] extends keyof M ? A : never;
}[keyof typeof STALWART_015_ALIASES];

/** The event name `N` stands for: the catalogue's name of a 0.15 alias, else `N` itself. */
export type CurrentName<N extends string> = N extends keyof typeof STALWART_015_ALIASES ? (typeof STALWART_015_ALIASES)[N] : N;

/** A name a selector may give: an event name of `M`, or the 0.15 name of one that 0.16 renamed. */
export type SelectorName<M> = EventName<M> | AliasName<M>;

/** An event name, a 0.15 alias or a wildcard selector (checked against the names by {@link CheckPattern}). */
export type EventPattern<M> = SelectorName<M> | Wildcard;

/**
 * A selector as a template literal type: each `*` becomes `${string}`. TypeScript matches a name
 * against it as the runtime does (first piece a prefix, last a suffix, middle pieces leftmost), so
 * one pattern costs one cheap test per name, with no per-character recursion.
 */
export type Glob<P extends string> = P extends `${infer A}*${infer B}` ? `${A}${string}${Glob<B>}` : P;

/** The event names a selector matches, computed at the type level. */
export type MatchPattern<P extends string, N extends string> = P extends `${string}*${string}`
  ? Extract<N, Glob<P>>
  : Extract<N, P>;

/** What a selector that matches no event name is checked against: the compiler error quotes it. */
export type NoEventMatches<P extends string> = `no event name matches "${P}"`;

/**
 * `P` when it is a wide `string` (checked when the options are validated), an event name of `N`, or
 * a wildcard that matches at least one of them; else {@link NoEventMatches}, so that a literal
 * selector such as `'autth.*'` is a compile error. Distributes over a union of selectors.
 */
export type CheckPattern<P extends string, N extends string> = string extends P
  ? P
  : P extends Wildcard
    ? // Intersecting keeps the matching names without one conditional per name; `N` may hold `Wildcard` itself.
      [N & Glob<P>] extends [Wildcard & Glob<P>]
      ? NoEventMatches<P>
      : P
    : P extends N
      ? P
      : NoEventMatches<P>;

/** An event as consumers see it: `data` holds the event's own keys merged with its span's keys. */
export interface TelemetryEvent<N extends string = string, D = Readonly<Record<string, unknown>>> {
  /** Unique, time-ordered event id, stable for the life of the event (retries reuse it). */
  readonly id: number;
  /** The event name, `category.kebab-name`. */
  readonly type: N;
  /** The catalogue's stable numeric id of `type`. */
  readonly typeId: number;
  /** Effective level, after level overrides. */
  readonly level: Level;
  /** When it was emitted, in epoch milliseconds. */
  readonly timestamp: number;
  /** The span the event belongs to. */
  readonly spanId: SpanId | undefined;
  /** The event's keys, merged with its span's keys (the event's own win). */
  readonly data: D;
  /** Plain-object form for JSON. */
  toJSON(): TelemetryEventJSON;
}

/** The JSON form of an event. */
export interface TelemetryEventJSON {
  readonly id: number;
  readonly type: string;
  readonly level: Level;
  readonly timestamp: number;
  readonly spanId?: SpanId;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Data of an event selected by a wildcard: any vocabulary key, typed, plus the host's own keys. */
export type WildcardData = AnyKeys & { readonly [key: string]: unknown };

/**
 * The event a selector `P` delivers. An exact name gives that event's own data type; a wildcard
 * gives the union of matching names with {@link WildcardData}, which keeps type-checking fast
 * over a catalogue of 600+ events. `data` admits any vocabulary key, as span keys merge into it.
 * A wide `string` selector may deliver any event. A Stalwart 0.15 alias (`queue.queue-message`)
 * delivers the renamed 0.16 event (`queue.message-queued`, its type and data), as that is what
 * arrives; a wildcard over 0.15 names (`queue.queue-*`) delivers the 0.16 events it selects.
 */
export type EventOf<M, P extends string> = string extends P
  ? TelemetryEvent<EventName<M>, WildcardData>
  : P extends `${string}*${string}`
    ? TelemetryEvent<MatchPattern<P, EventName<M>> | CurrentName<MatchPattern<P, AliasName<M>>>, WildcardData>
    : P extends keyof M
      ? TelemetryEvent<P, M[P] & AnyKeys>
      : CurrentName<P> extends keyof M
        ? TelemetryEvent<CurrentName<P>, M[CurrentName<P>] & AnyKeys>
        : never;

/** An event's data, or a function returning it, which is only called when someone wants the event. */
export type EventInput<D> = D | (() => D);

/** True when `{}` satisfies `D`, so the data argument may be omitted. */
export type DataOptional<D> = object extends D ? true : false;
