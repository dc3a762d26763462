/** What the sqlite store's tests share: a temp folder for their files, the keys they index, and retention that keeps everything. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A temp folder for this test file's databases, removed after its tests. */
export function sqliteFolder(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mail-telemetry-${name}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const KEYS = ['remoteIp', 'to', 'queueId', 'from'];

/** Retention that keeps every record. */
export const KEEP_ALL = {
  events: { maxAge: 1e12, capacity: 1e9 },
  traces: { maxAge: 1e12, capacity: 1e9 },
  series: { maxAge: 1e12, capacity: 1e9 },
};

/** A value as its JSON round trip gives it back, for comparing stored answers. */
export const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;
