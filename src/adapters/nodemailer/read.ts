/** One property of a host value, or undefined when it cannot be read (a throwing getter, a proxy). */
export function read(value: unknown, key: string): unknown {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

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
