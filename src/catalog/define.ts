import type { Level } from '../base/levels.js';
import type { BuiltinEvents } from './generated.js';
import type { AnyKeys, CommonKey, KeyName, KeyTypeTag, KeyTypeTags, Vocabulary } from './keys.js';

/**
 * The type of one key of a host event: a type tag (`'string'`, `'number'`, `'time'`, ...) for a
 * key of the host's own, or `true` for a key of the shared vocabulary, which keeps its vocabulary type.
 */
export type KeySpec = KeyTypeTag | true;

/** How a host declares one of its own events. */
export interface HostEventSpec {
  /** Stable numeric id, an integer from 1000 to 65535. Never reuse or renumber it: stored history encodes it. */
  readonly id: number;
  /** One line in plain English, used in text logs and Prometheus HELP. */
  readonly description: string;
  /**
   * Default level.
   * @default 'info'
   */
  readonly level?: Level;
  /**
   * Whether the event feeds a counter of the same name.
   * @default false
   */
  readonly counter?: boolean;
  /**
   * The event's keys. Omit it to accept any key of the shared vocabulary.
   * @default undefined
   */
  readonly keys?: Readonly<Record<string, KeySpec>>;
  /**
   * Keys the event cannot do without.
   * @default []
   */
  readonly required?: readonly string[];
  /**
   * Makes this event a span start; `end` names the host event that ends the span.
   * @default undefined
   */
  readonly span?: { readonly end: string };
}

/** A set of host event declarations, by event name (`category.kebab-name`). */
export type HostEventSpecs = Readonly<Record<string, HostEventSpec>>;

/** The value type of key `K` declared with spec `S`. */
export type KeyValue<K extends string, S> = S extends true
  ? K extends KeyName
    ? Vocabulary[K]
    : never
  : S extends KeyTypeTag
    ? KeyTypeTags[S]
    : never;

/** The optional keys a host event declares, plus the common keys. */
export type DeclaredKeys<Keys> = { readonly [K in keyof Keys & string]?: KeyValue<K, Keys[K]> } & {
  readonly [K in CommonKey]?: Vocabulary[K];
};

/** Makes the keys listed in `R` required in `T`. */
export type RequiredKeys<T, R> = [R] extends [readonly (infer K)[]]
  ? T & { readonly [P in K & keyof T]-?: Exclude<T[P], undefined> }
  : T;

/** The data type of a host event declared by `S`. */
export type HostEventData<S> = S extends { readonly keys: infer Keys }
  ? RequiredKeys<DeclaredKeys<Keys>, S extends { readonly required: infer R } ? R : undefined>
  : RequiredKeys<AnyKeys, S extends { readonly required: infer R } ? R : undefined>;

/** The data types of a set of host events, by name. */
export type HostEventMap<D> = { [N in keyof D & string]: HostEventData<D[N]> };

/** Span starts of a set of host events, each with its end event. */
export type HostSpanMap<D> = {
  [N in keyof D & string as D[N] extends { readonly span: { readonly end: string } } ? N : never]: D[N] extends {
    readonly span: { readonly end: infer E };
  }
    ? E
    : never;
};

/** Checks a declaration at compile time: vocabulary keys must be `true`, own keys a type tag, names new. */
export type CheckSpecs<D> = {
  [N in keyof D]: N extends keyof BuiltinEvents
    ? { readonly __error: `"${N & string}" is a built-in event` }
    : D[N] extends { readonly keys: infer Keys }
      ? Omit<D[N], 'keys'> & {
          readonly keys: {
            [K in keyof Keys]: K extends KeyName ? true : Keys[K] extends KeyTypeTag ? Keys[K] : KeyTypeTag;
          };
        }
      : D[N];
};

declare const hostEventsBrand: unique symbol;

/** Host events declared with {@link defineEvents}, ready for `createTelemetry({ events })`. */
export interface HostEvents<D extends HostEventSpecs = HostEventSpecs> {
  /** The declarations as given. */
  readonly specs: D;
  /** Type-level carrier of the declarations; never set at run time. */
  readonly [hostEventsBrand]?: D;
}

/**
 * Declares the host's own events. They get the same typing, levels, counters and filters as
 * built-in events. The object is validated when passed to `createTelemetry`.
 *
 * @example
 * const events = defineEvents({
 *   'billing.invoice-sent': { id: 1000, description: 'Invoice mailed to a customer', counter: true,
 *                             keys: { accountId: true, amount: 'number' }, required: ['accountId'] },
 * });
 */
export function defineEvents<const D extends HostEventSpecs>(specs: D & CheckSpecs<D>): HostEvents<D> {
  return { specs };
}
