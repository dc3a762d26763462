import { KEY_TYPES } from '../catalog/generated.js';
import type { Level } from '../catalog/levels.js';
import type { TelemetryEvent } from '../catalog/types.js';
import { dataJson, isoTime } from '../core/json.js';

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
  readonly multiline: boolean;
  readonly ansi: boolean;
  readonly journald: boolean;
}

/**
 * Stalwart's text line: `<RFC 3339 time> <LEVEL> <description> (<event>) key = value, key = value`.
 * Strings are quoted as JSON; addresses, numbers and booleans are bare.
 */
export function textLine(event: TelemetryEvent, description: string, options: TextOptions): string {
  const time = isoTime(event.timestamp);
  const level = event.level.toUpperCase();
  let line = options.journald ? `<${SYSLOG_PRIORITY[event.level]}>` : '';
  line += options.ansi
    ? `${DIM}${time}${RESET} ${COLOURS[event.level]}${level}${RESET} ${description} (${event.type})`
    : `${time} ${level} ${description} (${event.type})`;
  const data = event.data;
  let first = true;
  for (const key in data) {
    const value = data[key];
    if (value === undefined) continue;
    const pair = `${key} = ${textValue(key, value)}`;
    if (options.multiline) line += `\n    ${pair}`;
    else {
      line += first ? ` ${pair}` : `, ${pair}`;
      first = false;
    }
  }
  return `${line}\n`;
}

function textValue(key: string, value: unknown): string {
  if (typeof value === 'string') return (KEY_TYPES as Record<string, string>)[key] === 'ip' ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) return JSON.stringify(value.message);
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('utf8'));
  if (Array.isArray(value)) return `[${value.map((v) => textValue(key, v)).join(', ')}]`;
  if (typeof value === 'object' && value !== null && 'type' in value) return String((value as { type: unknown }).type);
  return JSON.stringify(value) ?? String(value);
}

const quoted = new Map<string, string>();

/** One JSON object per line: time, level, event, description, spanId and data. */
export function jsonLine(event: TelemetryEvent, description: string): string {
  let text = quoted.get(description);
  if (text === undefined) {
    text = JSON.stringify(description);
    if (quoted.size < 4096) quoted.set(description, text);
  }
  const span = event.spanId === undefined ? '' : `,"spanId":${JSON.stringify(event.spanId)}`;
  const data = event.data;
  const json = dataJson(data);
  return `{"time":"${isoTime(event.timestamp)}","level":"${event.level}","event":"${event.type}","description":${text}${span},"data":${json}}\n`;
}
