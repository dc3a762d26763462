import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WRITE_CHARS } from '../../src/base/write-size.js';
import { consoleSink } from '../../src/tracing/console.js';
import { make } from '../support/telemetry.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(`${os.tmpdir()}/mt-write-size-`);
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A stream that keeps each write apart; `slow` answers every write on a later turn, past its 1-byte buffer. */
function recordingStream(slow = false) {
  const writes: string[] = [];
  const stream = new Writable({
    highWaterMark: slow ? 1 : 16_384,
    write(chunk, _encoding, callback) {
      writes.push(String(chunk));
      if (slow) setImmediate(callback);
      else callback();
    },
  });
  return { stream, writes };
}

/** A JSON console tracer on `stream` taking `smtp.ehlo` only. */
function tracerOn(stream: Writable) {
  return make({
    history: false,
    tracers: [
      {
        type: 'custom',
        id: 'json',
        events: ['smtp.ehlo'],
        sink: (context) => consoleSink({ type: 'console', format: 'json' }, context, stream),
      },
    ],
  });
}

const domainsOf = (text: string): string[] =>
  text
    .split('\n')
    .slice(0, -1)
    .map((line) => (JSON.parse(line) as { data: { domain: string } }).data.domain);

describe('a busy batch', () => {
  it('reaches a console stream in writes of whole lines, each about WRITE_CHARS at most, every line in order', async () => {
    for (const slow of [false, true]) {
      const { stream, writes } = recordingStream(slow);
      const telemetry = tracerOn(stream);
      const domains = Array.from({ length: 3000 }, (_, i) => `host-${i}.example.org`);
      for (const domain of domains) telemetry.emit('smtp.ehlo', { domain });
      await telemetry.flush();
      expect(writes.length).toBeGreaterThan(3);
      for (const write of writes) {
        expect(write.endsWith('\n')).toBe(true);
        expect(write.length).toBeLessThan(WRITE_CHARS + 1000);
      }
      expect(domainsOf(writes.join(''))).toEqual(domains);
      await telemetry.shutdown();
    }
  });

  it('writes every line whole and in order, whatever the lines’ sizes (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 2 * WRITE_CHARS }), { maxLength: 40 }), async (sizes) => {
        const { stream, writes } = recordingStream();
        const telemetry = tracerOn(stream);
        const domains = sizes.map((size, i) => `${i}-${'a'.repeat(size)}`);
        for (const domain of domains) telemetry.emit('smtp.ehlo', { domain });
        await telemetry.flush();
        for (const write of writes) expect(write.endsWith('\n')).toBe(true);
        expect(domainsOf(writes.join(''))).toEqual(domains);
        await telemetry.shutdown();
      }),
      { numRuns: 30 },
    );
  });

  it('reaches a log file whole, in order, rotated by size between lines only', async () => {
    const telemetry = make({
      history: false,
      tracers: [{ type: 'file', path: dir, format: 'json', rotate: 'never', maxSize: 100_000, events: ['smtp.ehlo'] }],
    });
    const domains = Array.from({ length: 3000 }, (_, i) => `host-${i}.example.org`);
    for (const domain of domains) telemetry.emit('smtp.ehlo', { domain });
    await telemetry.shutdown();
    const files = fs.readdirSync(dir).sort((a, b) => fs.statSync(join(dir, a)).mtimeMs - fs.statSync(join(dir, b)).mtimeMs);
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) expect(fs.statSync(join(dir, file)).size).toBeLessThanOrEqual(100_000);
    const written = files.flatMap((file) => domainsOf(fs.readFileSync(join(dir, file), 'utf8')));
    expect(written.sort()).toEqual([...domains].sort());
  });
});
