/** One property of a host value, or undefined when it cannot be read (a throwing getter, a proxy). */
export function read(value: unknown, key: string): unknown {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * ESMTP parameters as one line, `SIZE=1024 BODY=8BITMIME SMTPUTF8`: a flag (`true`, or `null` as
 * Haraka stores it) is written as its name alone.
 */
export function paramsText(params: unknown): string {
  if (typeof params !== 'object' || params === null) return '';
  const parts: string[] = [];
  for (const key of Object.keys(params)) {
    const value = read(params, key);
    parts.push(value === true || value === null ? key : `${key}=${typeof value === 'string' ? value : ''}`);
  }
  return parts.join(' ');
}
