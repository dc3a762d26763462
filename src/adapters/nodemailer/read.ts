import { read } from '../read.js';

export { read };

/** A string property, or undefined. */
export function readText(value: unknown, key: string): string | undefined {
  const found = read(value, key);
  return typeof found === 'string' ? found : undefined;
}

/** The strings of an array property (other entries are skipped), or undefined when it is no array. */
export function readStrings(value: unknown, key: string): string[] | undefined {
  const found = read(value, key);
  if (!Array.isArray(found)) return undefined;
  const out: string[] = [];
  try {
    for (const entry of found) if (typeof entry === 'string') out.push(entry);
  } catch {
    // A hostile array (a throwing iterator) reads as what was read so far.
  }
  return out;
}

/** Calls a method of a host object with no arguments, or undefined when it is missing or throws. */
export function callMethod(value: unknown, key: string): unknown {
  const method = read(value, key);
  if (typeof method !== 'function') return undefined;
  try {
    return (method as (this: unknown) => unknown).call(value);
  } catch {
    return undefined;
  }
}

/** The 3-digit reply code a server reply starts with. */
export function replyCode(reply: string | undefined): number | undefined {
  if (reply === undefined) return undefined;
  const match = /^([2-5]\d\d)(?:[ -]|$)/.exec(reply);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
