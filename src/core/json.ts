/** JSON for event data, shared by every writer (JSON-lines tracers, webhooks, SSE, history). */

let lastTimestamp = Number.NaN;
let lastIso = '';

/** RFC 3339 time of an epoch-ms timestamp; events of one batch share a clock reading, so it is cached. */
export function isoTime(timestamp: number): string {
  if (timestamp !== lastTimestamp) {
    lastTimestamp = timestamp;
    lastIso = new Date(timestamp).toISOString();
  }
  return lastIso;
}

/** Errors, byte arrays and bigints in JSON. */
export function jsonValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { type: value.name, message: value.message };
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** The data as JSON. A replacer slows `JSON.stringify` down a lot: only data that needs one gets it. */
export function dataJson(data: Readonly<Record<string, unknown>>): string {
  return needsReplacer(data) ? JSON.stringify(data, jsonValue) : JSON.stringify(data);
}

function needsReplacer(data: Readonly<Record<string, unknown>>): boolean {
  for (const key in data) {
    const value = data[key];
    if (typeof value === 'bigint') return true;
    if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
      if (!Array.isArray(value) || value.some((v) => typeof v === 'object' || typeof v === 'bigint')) return true;
    }
  }
  return false;
}
