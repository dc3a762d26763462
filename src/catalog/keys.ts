import type { KEY_TYPES } from './generated.js';

/** A span id: a time-ordered integer that is exact in a JS number, or its decimal string. */
export type SpanId = number | string;

/** A point in time: a `Date` or epoch milliseconds. */
export type Timestamp = Date | number;

/** The error or event that caused this one, or a code location such as `file.ts:42`. */
export type Cause = Error | { readonly type: string; readonly data?: Readonly<Record<string, unknown>> } | string;

/**
 * The TypeScript type behind each type tag used in `events.json`'s `keyTypes`.
 * Ports and sizes are numbers, durations are milliseconds, times are a `Date` or epoch ms.
 */
export interface KeyTypeTags {
  string: string;
  number: number;
  boolean: boolean;
  /** An IPv4 or IPv6 address in text form. */
  ip: string;
  /** A TCP/UDP port number. */
  port: number;
  /** A size in bytes. */
  bytesize: number;
  /** A duration in milliseconds. */
  duration: number;
  time: Timestamp;
  /** An identifier: a number, or a string where it does not fit one. */
  id: number | string;
  spanId: SpanId;
  /** A protocol or error code such as `550` or `5.7.1`. */
  code: number | string;
  /** Raw protocol bytes or their text. */
  bytes: string | Uint8Array;
  /** One address or a list of them. */
  strings: string | readonly string[];
  numbers: number | readonly number[];
  /** A result or setting value. */
  value: string | number | boolean;
  cause: Cause;
}

/** A type tag of the key vocabulary. */
export type KeyTypeTag = keyof KeyTypeTags;

/** Every key of the shared vocabulary, with its value type. */
export type Vocabulary = { -readonly [K in keyof typeof KEY_TYPES]: KeyTypeTags[(typeof KEY_TYPES)[K]] };

/** A key of the shared vocabulary. */
export type KeyName = keyof Vocabulary;

/** Keys every event accepts besides the ones seen with it. */
export const COMMON_KEYS = ['spanId', 'details', 'reason', 'causedBy', 'elapsed', 'code', 'id', 'total'] as const;

/** A key every event accepts. */
export type CommonKey = (typeof COMMON_KEYS)[number];

/** Optional vocabulary keys `K` plus the common keys. */
export type KeysOf<K extends KeyName> = { readonly [P in K | CommonKey]?: Vocabulary[P] };

/** Any key of the vocabulary, for events that declare none. */
export type AnyKeys = { readonly [P in KeyName]?: Vocabulary[P] };

/** Makes keys `R` of `T` required. */
export type WithRequired<T, R extends keyof T> = T & { readonly [P in R]-?: Exclude<T[P], undefined> };
