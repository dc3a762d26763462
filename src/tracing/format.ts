import * as types from 'node:util/types';
import { describeError } from '../base/errors.js';
import { isoTime, JSON_LIMITS, MARKERS, safeJson, scalarJson } from '../base/json.js';
import type { Level } from '../base/levels.js';
import type { TelemetryEvent } from '../catalog/types.js';
import { eventDataJson } from '../core/event.js';

/** The syslog priority of each level, as systemd-journald reads it from a `<N>` line prefix. */
export const SYSLOG_PRIORITY: Readonly<Record<Level, number>> = { error: 3, warn: 4, info: 6, debug: 7, trace: 7 };

const COLOURS: Readonly<Record<Level, string>> = {
  error: '\u001b[31m',
  warn: '\u001b[33m',
  info: '\u001b[32m',
  debug: '\u001b[36m',
  trace: '\u001b[90m',
};
const RESET = '\u001b[0m';
const DIM = '\u001b[2m';

/** Options of the text line. */
export interface TextOptions {
  /** Each key on its own line. */
  readonly multiline: boolean;
  /** ANSI colours for the time and the level. */
  readonly ansi: boolean;
  /** A syslog priority prefix (`<3>` ... `<7>`) for systemd-journald. */
  readonly journald: boolean;
}

/**
 * Characters JSON leaves as they are that a terminal or a line-oriented reader may still take as a
 * line break or a control sequence: C1 controls, Unicode line and paragraph separators, and the
 * bidirectional overrides that can make a line read differently from what it holds.
 */
const UNSAFE = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** Control characters of any kind, for text that is not JSON-escaped already (descriptions). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** Keys written bare; any other key is quoted like a string value. */
const BARE_KEY = /^[A-Za-z_$][A-Za-z0-9_$.-]*$/;
/** Cause types (event names, error names) written bare; any other is quoted. */
const BARE_TYPE = /^[A-Za-z0-9_.:-]+$/;

function escapeUnicode(char: string): string {
  return `\\u${(char.codePointAt(0) as number).toString(16).padStart(4, '0')}`;
}

/** JSON text with the characters of {@link UNSAFE} escaped too (still valid JSON). */
function clean(json: string): string {
  return UNSAFE.test(json) ? json.replace(UNSAFE_ALL, escapeUnicode) : json;
}

/** A string as a quoted, escaped token: no quote, line break or control character survives in it. */
function quote(text: string): string {
  return clean(scalarJson(text));
}

const keyText = new Map<string, string>();
const descriptionText = new Map<string, string>();

/** Remembers up to 4,096 renderings: keys and descriptions come from a small, fixed set. */
function remember(cache: Map<string, string>, from: string, to: string): string {
  if (cache.size < 4096) cache.set(from, to);
  return to;
}

function textKey(key: string): string {
  return keyText.get(key) ?? remember(keyText, key, BARE_KEY.test(key) ? key : quote(key));
}

function textDescription(description: string): string {
  return (
    descriptionText.get(description) ??
    remember(
      descriptionText,
      description,
      CONTROL.test(description) ? description.replace(CONTROL_ALL, escapeUnicode) : description,
    )
  );
}

/**
 * Stalwart's text line: `<RFC 3339 time> <LEVEL> <description> (<event>) key = value, key = value`.
 * Strings (addresses included) are quoted and escaped as JSON, so no value can pose as a key or
 * start a line; numbers, booleans and times are bare; objects are written as JSON. Own keys only.
 * A key whose getter throws is written as `"[Unreadable]"`; a list of keys that cannot be read
 * throws, and the caller drops that one event.
 */
export function textLine(event: TelemetryEvent, description: string, options: TextOptions): string {
  const time = isoTime(event.timestamp);
  const level = event.level.toUpperCase();
  const text = textDescription(description);
  let line = options.journald ? `<${SYSLOG_PRIORITY[event.level]}>` : '';
  line += options.ansi
    ? `${DIM}${time}${RESET} ${COLOURS[event.level]}${level}${RESET} ${text} (${event.type})`
    : `${time} ${level} ${text} (${event.type})`;
  const data = event.data;
  const keys = Object.keys(data);
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    let value: unknown;
    try {
      value = data[key];
    } catch {
      value = MARKERS.unreadable;
    }
    if (value === undefined || typeof value === 'function') continue;
    const pair = `${textKey(key)} = ${textValue(value)}`;
    if (options.multiline) line += `\n    ${pair}`;
    else {
      line += first ? ` ${pair}` : `, ${pair}`;
      first = false;
    }
  }
  return `${line}\n`;
}

/** One value of a text line; never throws, and never yields a quote, comma or line break outside a quoted token. */
function textValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'symbol':
    case 'function':
    case 'undefined':
      return clean(safeJson(value));
  }
  if (value === null) return 'null';
  try {
    return objectText(value as object);
  } catch {
    return quote(MARKERS.unreadable);
  }
}

/** Dates, errors, bytes, lists and causes as Stalwart writes them; any other object as JSON. Checks work across realms. */
function objectText(value: object): string {
  if (types.isDate(value)) {
    const time = Date.prototype.getTime.call(value);
    return Number.isNaN(time) ? quote(MARKERS.invalidDate) : new Date(time).toISOString();
  }
  if (types.isNativeError(value) || value instanceof Error) return quote(describeError(value));
  if (types.isUint8Array(value)) {
    const bytes = value as Uint8Array;
    // Never more than the longest string kept, whatever the size of the bytes.
    const length = Math.min(bytes.byteLength, JSON_LIMITS.maxString + 1);
    return quote(Buffer.from(bytes.buffer, bytes.byteOffset, length).toString('utf8'));
  }
  if (Array.isArray(value)) return listText(value);
  const type = (value as { type?: unknown }).type;
  if (typeof type === 'string') return BARE_TYPE.test(type) ? type : quote(type);
  return clean(safeJson(value));
}

/** A list: scalars as in a text line, nested objects as JSON. */
function listText(items: readonly unknown[]): string {
  const length = Math.min(items.length, JSON_LIMITS.maxMembers);
  let out = '[';
  for (let i = 0; i < length; i++) {
    let item: unknown;
    try {
      item = items[i];
    } catch {
      item = MARKERS.unreadable;
    }
    if (i > 0) out += ', ';
    out += typeof item === 'object' && item !== null && !types.isDate(item) ? clean(safeJson(item)) : textValue(item);
  }
  if (items.length > length) out += `, ${quote(MARKERS.truncated)}`;
  return `${out}]`;
}

const quoted = new Map<string, string>();

/**
 * One JSON object per line: time, level, event, description, spanId and data. Always valid JSON:
 * a span id or data that JSON cannot hold is written by the shared serialiser, never as `undefined`.
 */
export function jsonLine(event: TelemetryEvent, description: string): string {
  let text = quoted.get(description);
  if (text === undefined) {
    text = JSON.stringify(description);
    if (quoted.size < 4096) quoted.set(description, text);
  }
  const spanId = event.spanId;
  const span =
    spanId === undefined
      ? ''
      : `,"spanId":${typeof spanId === 'number' && Number.isSafeInteger(spanId) ? spanId : scalarJson(spanId)}`;
  const json = eventDataJson(event);
  return `{"time":"${isoTime(event.timestamp)}","level":"${event.level}","event":"${event.type}","description":${text}${span},"data":${json}}\n`;
}
