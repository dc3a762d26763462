import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '../../src/index.js';
import { checkFileOptions, type FileTracerOptions, fileSink } from '../../src/tracing/file.js';
import { make } from '../support/telemetry.js';

const START = Date.UTC(2026, 0, 15, 10, 30, 15);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const LINE =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z DEBUG Authentication failed \(auth\.failed\) remoteIp = "192\.0\.2\.7", reason = "[^"]+"$/;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(`${os.tmpdir()}/mt-`);
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A telemetry instance with one file sink over `dir`, an injectable clock and the library's reports. */
function setup(options: Partial<FileTracerOptions> = {}) {
  const clock = { now: START };
  const reports: TelemetryEvent[] = [];
  const telemetry = make({
    now: () => clock.now,
    tracers: [
      {
        type: 'custom',
        level: 'trace',
        events: ['auth.*'],
        sink: (context) => fileSink({ type: 'file', path: dir, ...options }, context),
      },
    ],
  });
  telemetry.subscribe({ events: ['telemetry.*'] }, (batch) => {
    reports.push(...batch);
  });
  const emit = (...tags: string[]) => {
    for (const tag of tags) telemetry.emit('auth.failed', { remoteIp: '192.0.2.7', reason: tag });
  };
  return { telemetry, clock, reports, emit };
}

const files = () => fs.readdirSync(dir).sort();
const read = (name: string) => fs.readFileSync(join(dir, name), 'utf8');
/** The reason tags written to a file, in order. */
const tags = (content: string) => [...content.matchAll(/reason = "([^"]+)"/g)].map((m) => m[1]);

describe('the file sink', () => {
  it('writes text lines to <prefix>.<day>.log', async () => {
    const { telemetry, emit } = setup();
    emit('one', 'two');
    await telemetry.flush();
    expect(files()).toEqual(['mail-telemetry.2026-01-15.log']);
    const lines = read('mail-telemetry.2026-01-15.log').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(LINE);
    expect(lines[0]).toContain('2026-01-15T10:30:15.000Z');
    await telemetry.shutdown();
  });

  it('writes JSON lines, and multiline text, under a custom prefix', async () => {
    const json = setup({ format: 'json', prefix: 'mail.json_1' });
    json.emit('one');
    await json.telemetry.shutdown();
    const object = JSON.parse(read('mail.json_1.2026-01-15.log'));
    expect(object).toMatchObject({
      time: '2026-01-15T10:30:15.000Z',
      level: 'debug', // auth.failed is debug by default
      event: 'auth.failed',
      description: 'Authentication failed',
      data: { remoteIp: '192.0.2.7', reason: 'one' },
    });
    const multi = setup({ multiline: true, prefix: 'multi' });
    multi.emit('two');
    await multi.telemetry.shutdown();
    expect(read('multi.2026-01-15.log')).toMatch(/\(auth\.failed\)\n {4}remoteIp = "192\.0\.2\.7"\n {4}reason = "two"\n$/);
  });

  it.each([
    ['daily', DAY, ['mail-telemetry.2026-01-15.log', 'mail-telemetry.2026-01-16.log', 'mail-telemetry.2026-01-17.log']],
    [
      'hourly',
      HOUR,
      ['mail-telemetry.2026-01-15T10.log', 'mail-telemetry.2026-01-15T11.log', 'mail-telemetry.2026-01-15T12.log'],
    ],
    [
      'minutely',
      MINUTE,
      ['mail-telemetry.2026-01-15T10-30.log', 'mail-telemetry.2026-01-15T10-31.log', 'mail-telemetry.2026-01-15T10-32.log'],
    ],
  ] as const)('rotates %s by the injected clock', async (rotate, step, names) => {
    const { telemetry, clock, emit } = setup({ rotate });
    for (const tag of ['a', 'b', 'c']) {
      emit(`${tag}1`, `${tag}2`);
      await telemetry.flush();
      clock.now += step;
    }
    await telemetry.shutdown();
    expect(files()).toEqual(names);
    expect(names.map((name) => tags(read(name)))).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
      ['c1', 'c2'],
    ]);
  });

  it('keeps one file with rotate: never', async () => {
    const { telemetry, clock, emit } = setup({ rotate: 'never' });
    emit('a');
    await telemetry.flush();
    clock.now += 40 * DAY;
    emit('b');
    await telemetry.shutdown();
    expect(files()).toEqual(['mail-telemetry.log']);
    expect(tags(read('mail-telemetry.log'))).toEqual(['a', 'b']);
  });

  it('starts .1, .2… files within a period when maxSize would be exceeded', async () => {
    const line = `${new Date(START).toISOString()} DEBUG Authentication failed (auth.failed) remoteIp = "192.0.2.7", reason = "x0"\n`;
    const maxSize = 2 * Buffer.byteLength(line) + 10; // two lines fit, not three
    const { telemetry, emit } = setup({ maxSize });
    emit('x0', 'x1', 'x2', 'x3', 'x4');
    await telemetry.flush();
    emit('x5');
    await telemetry.shutdown();
    expect(files()).toEqual([
      'mail-telemetry.2026-01-15.1.log',
      'mail-telemetry.2026-01-15.2.log',
      'mail-telemetry.2026-01-15.log',
    ]);
    expect(tags(read('mail-telemetry.2026-01-15.log'))).toEqual(['x0', 'x1']);
    expect(tags(read('mail-telemetry.2026-01-15.1.log'))).toEqual(['x2', 'x3']);
    expect(tags(read('mail-telemetry.2026-01-15.2.log'))).toEqual(['x4', 'x5']);
    for (const name of files()) expect(fs.statSync(join(dir, name)).size).toBeLessThanOrEqual(maxSize);
  });

  it('keeps at most maxFiles rotated files, deleting the oldest', async () => {
    const { telemetry, clock, emit } = setup({ rotate: 'minutely', maxFiles: 2 });
    for (let i = 0; i < 5; i++) {
      emit(`m${i}`);
      await telemetry.flush();
      clock.now += MINUTE;
    }
    await telemetry.shutdown();
    // the active file (10-34) plus the two newest rotated ones
    expect(files()).toEqual([
      'mail-telemetry.2026-01-15T10-32.log',
      'mail-telemetry.2026-01-15T10-33.log',
      'mail-telemetry.2026-01-15T10-34.log',
    ]);
    expect(tags(read('mail-telemetry.2026-01-15T10-32.log'))).toEqual(['m2']);
  });

  it('gzips rotated files, never the active one, and applies maxFiles to them', async () => {
    const { telemetry, clock, emit } = setup({ rotate: 'hourly', gzip: true, maxFiles: 2 });
    for (let i = 0; i < 4; i++) {
      emit(`h${i}a`, `h${i}b`);
      await telemetry.flush();
      clock.now += HOUR;
    }
    await telemetry.flush();
    expect(files()).toEqual([
      'mail-telemetry.2026-01-15T11.log.gz',
      'mail-telemetry.2026-01-15T12.log.gz',
      'mail-telemetry.2026-01-15T13.log',
    ]);
    const gunzip = (name: string) => gunzipSync(fs.readFileSync(join(dir, name))).toString('utf8');
    expect(tags(gunzip('mail-telemetry.2026-01-15T11.log.gz'))).toEqual(['h1a', 'h1b']);
    expect(gunzip('mail-telemetry.2026-01-15T12.log.gz').trimEnd().split('\n')[0]).toMatch(LINE);
    expect(tags(read('mail-telemetry.2026-01-15T13.log'))).toEqual(['h3a', 'h3b']);
    await telemetry.shutdown();
  });

  it('reports a deleted directory with its errno code and recreates it, losing nothing', async () => {
    const { telemetry, reports, emit } = setup();
    emit('before');
    await telemetry.flush();
    fs.rmSync(dir, { recursive: true, force: true });
    emit('during');
    await telemetry.flush();
    expect(reports.map((e) => e.type)).toEqual(['telemetry.subscriber-error']);
    expect(String(reports[0]?.data.reason)).toContain('ENOENT');
    emit('after');
    await telemetry.shutdown();
    expect(tags(read('mail-telemetry.2026-01-15.log'))).toEqual(['during', 'after']);
  });

  it('reports an unusable path, drops that batch and recovers once the directory is back', async () => {
    const { telemetry, reports, emit } = setup();
    emit('before');
    await telemetry.flush();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.writeFileSync(dir, 'not a directory');
    emit('lost1', 'lost2');
    await telemetry.flush();
    expect(reports).toHaveLength(1);
    expect(String(reports[0]?.data.reason)).toMatch(/ENOTDIR|EEXIST/);
    expect(String(reports[0]?.data.details)).toContain('2 events dropped');
    emit('lost3');
    await telemetry.flush();
    expect(reports).toHaveLength(2); // every failed batch is reported; the emitter never throws
    fs.rmSync(dir);
    fs.mkdirSync(dir);
    emit('back');
    await telemetry.shutdown();
    expect(reports).toHaveLength(2);
    expect(tags(read('mail-telemetry.2026-01-15.log'))).toEqual(['back']);
  });

  it('names the file after the epoch, and loses nothing, when the clock returns NaN', async () => {
    const { telemetry, clock, reports, emit } = setup();
    clock.now = Number.NaN;
    emit('nan');
    await telemetry.shutdown();
    expect(files()).toEqual(['mail-telemetry.1970-01-01.log']);
    expect(tags(read('mail-telemetry.1970-01-01.log'))).toEqual(['nan']);
    expect(reports).toEqual([]);
  });

  it('writes everything out on shutdown', async () => {
    const { telemetry, emit } = setup({ format: 'json' });
    emit(...Array.from({ length: 500 }, (_, i) => `e${i}`));
    await telemetry.shutdown();
    const lines = read('mail-telemetry.2026-01-15.log').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line).data.reason)).toEqual(Array.from({ length: 500 }, (_, i) => `e${i}`));
  });
});

describe('checkFileOptions', () => {
  const check = (options: Record<string, unknown>) => () =>
    checkFileOptions({ type: 'file', path: '/var/log/mail', ...options }, 'options.tracers[2]');

  it('accepts good options', () => {
    expect(check({})).not.toThrow();
    expect(
      check({ prefix: 'mx-1.log_a', format: 'json', multiline: true, rotate: 'never', maxSize: 1, maxFiles: 3, gzip: true }),
    ).not.toThrow();
  });

  it.each([
    ['path', { path: undefined }],
    ['path', { path: '' }],
    ['path', { path: 7 }],
    ['prefix', { prefix: 'a/b' }],
    ['prefix', { prefix: '' }],
    ['prefix', { prefix: 3 }],
    ['format', { format: 'xml' }],
    ['rotate', { rotate: 'weekly' }],
    ['maxSize', { maxSize: 0 }],
    ['maxSize', { maxSize: 1.5 }],
    ['maxSize', { maxSize: '1M' }],
    ['maxFiles', { maxFiles: -1 }],
    ['maxFiles', { maxFiles: 2.5 }],
    ['gzip', { gzip: 'yes' }],
    ['multiline', { multiline: 1 }],
  ])('rejects a bad %s', (key, options) => {
    expect(check(options)).toThrow(new RegExp(`^options\\.tracers\\[2\\]\\.${key}: expected`));
  });
});
