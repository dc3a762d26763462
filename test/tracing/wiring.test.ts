import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '../../src/index.js';
import { make } from '../support/telemetry.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('a file tracer configured by options', () => {
  it('writes daily files and reports an unusable path as telemetry.log-error', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mt-wiring-'));
    dirs.push(root);
    const path = join(root, 'logs');
    const clock = Date.UTC(2026, 10, 24, 12);
    const telemetry = make({
      now: () => clock,
      levels: { 'auth.failed': 'info' },
      tracers: [{ type: 'file', path, prefix: 'mx', format: 'json', events: ['auth.*'] }],
    });
    const errors: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['telemetry.log-error'] }, (batch) => {
      errors.push(...batch);
    });
    telemetry.emit('auth.failed', { remoteIp: '192.0.2.7' });
    await telemetry.flush();
    expect(readdirSync(path)).toEqual(['mx.2026-11-24.log']);
    expect(JSON.parse(readFileSync(join(path, 'mx.2026-11-24.log'), 'utf8'))).toMatchObject({
      event: 'auth.failed',
      data: { remoteIp: '192.0.2.7' },
    });

    rmSync(path, { recursive: true });
    writeFileSync(path, 'not a directory');
    telemetry.emit('auth.failed', { remoteIp: '192.0.2.8' });
    await telemetry.flush();
    expect(errors.map((e) => e.data.id)).toContain('file-0');
    expect(errors.every((e) => e.type === 'telemetry.log-error')).toBe(true);
    await telemetry.shutdown();
  });

  it('refuses a bad file option with its path', () => {
    expect(() => make({ tracers: [{ type: 'file', path: '/tmp/x', rotate: 'weekly' } as never] })).toThrow(
      /options\.tracers\[0\]\.rotate/,
    );
    expect(() => make({ tracers: [{ type: 'file' } as never] })).toThrow(/options\.tracers\[0\]\.path/);
  });
});
