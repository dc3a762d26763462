import type { AnyKeys, SpanId } from './keys.js';
import type { Level } from './levels.js';

/** Event data types by event name. */
export type EventMap = object;

/** The names of an event map. */
export type EventName<M> = keyof M & string;

/** A wildcard selector: `*`, `smtp.*`, `*-error`, or any name with `*` standing for any run of characters. */
export type Wildcard = `${string}*${string}`;

/** An event name or a wildcard selector. */
export type EventPattern<M> = EventName<M> | Wildcard;

/** The event names a selector matches, computed at the type level. */
export type MatchPattern<P extends string, N extends string> = P extends `${infer A}*${infer B}`
  ? B extends `${string}*${string}`
    ? Extract<N, `${A}${string}`>
    : Extract<N, `${A}${string}${B}`>
  : Extract<N, P>;

/** An event as consumers see it: `data` holds the event’s own keys merged with its span’s keys. */
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
 */
export type EventOf<M, P extends string> = P extends `${string}*${string}`
  ? TelemetryEvent<MatchPattern<P, EventName<M>>, WildcardData>
  : P extends keyof M
    ? TelemetryEvent<P, M[P] & AnyKeys>
    : never;

/** An event's data, or a function returning it, which is only called when someone wants the event. */
export type EventInput<D> = D | (() => D);

/** True when `{}` satisfies `D`, so the data argument may be omitted. */
export type DataOptional<D> = object extends D ? true : false;
