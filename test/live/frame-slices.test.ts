import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WRITE_CHARS } from '../../src/base/write-size.js';
import type { TelemetryEvent } from '../../src/index.js';
import { TRACE_HEAD, TRACE_TAIL, type TraceItemWriter, traceItemWriter } from '../../src/live/frames.js';
import { TraceFrames } from '../../src/live/sources.js';
import type { EventStream } from '../../src/live/stream.js';
import { make } from '../support/telemetry.js';

/** Several parts' worth (items of about 200 characters), within the default stream buffer (10,000). */
const EVENTS = 4000;
const library = traceItemWriter(undefined, () => 'SMTP EHLO received');

/** Trace frames past their first ping, over a stream holding one event per domain. */
async function busyFrames(
  domains: readonly string[],
  items: TraceItemWriter = library,
): Promise<{ stream: EventStream; frames: TraceFrames }> {
  const telemetry = make();
  const stream = telemetry.live.events({ events: ['smtp.ehlo'] }) as EventStream;
  const frames = new TraceFrames(stream, { window: 0, ping: 30_000, items });
  expect(await frames.next()).toMatch(/^event: ping/);
  for (const domain of domains) telemetry.emit('smtp.ehlo', { domain });
  await telemetry.flush();
  return { stream, frames };
}

const numbered = (count: number): string[] => Array.from({ length: count }, (_, i) => `d${i}`);

/** The parts of one trace frame, up to the one that ends it, and how many event-loop turns passed meanwhile. */
async function readFrame(frames: TraceFrames): Promise<{ parts: string[]; turns: number }> {
  let turns = 0;
  let counting = true;
  const tick = (): void => {
    if (!counting) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const parts: string[] = [];
  for (;;) {
    const part = await frames.next();
    if (part === undefined) throw new Error('the stream ended inside a frame');
    parts.push(part);
    if (part.endsWith(TRACE_TAIL)) break;
  }
  counting = false;
  return { parts, turns };
}

/** The domains of a whole trace frame's events, in order. */
function domainsOf(frame: string): string[] {
  expect(frame.startsWith(TRACE_HEAD)).toBe(true);
  const items = JSON.parse(frame.slice(TRACE_HEAD.length - 1, -TRACE_TAIL.length + 1)) as { data: { domain: string } }[];
  return items.map((item) => item.data.domain);
}

describe('trace frames of a busy window', () => {
  it('come in parts of bounded size, one per turn of the event loop, that make one frame with every event in order', async () => {
    const { stream, frames } = await busyFrames(numbered(EVENTS));
    expect(stream.buffered).toBe(EVENTS);
    const { parts, turns } = await readFrame(frames);
    expect(parts.length).toBeGreaterThan(3);
    expect(turns).toBeGreaterThanOrEqual(parts.length - 1);
    // Only the last part ends the frame; each holds at most WRITE_CHARS of items plus the one that crossed it.
    for (const part of parts.slice(0, -1)) expect(part.endsWith(TRACE_TAIL)).toBe(false);
    for (const part of parts) expect(part.length).toBeLessThan(WRITE_CHARS + 1000);
    expect(domainsOf(parts.join(''))).toEqual(numbered(EVENTS));
    expect(stream.buffered).toBe(0);
    frames.close();
  });

  it('end with what was framed when the stream closes between parts', async () => {
    const { frames } = await busyFrames(numbered(EVENTS));
    const first = (await frames.next()) ?? '';
    frames.close();
    const rest = (await frames.next()) ?? '';
    expect(rest.endsWith(TRACE_TAIL)).toBe(true);
    const framed = domainsOf(first + rest);
    expect(framed.length).toBeGreaterThan(0);
    expect(framed.length).toBeLessThan(EVENTS);
    expect(framed).toEqual(numbered(framed.length));
    expect(await frames.next()).toBeUndefined();
  });

  it('join into one valid frame of exactly the writable events, whatever their sizes (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ size: fc.nat({ max: 3 * WRITE_CHARS }), writable: fc.boolean() }), { maxLength: 60 }),
        async (specs) => {
          const domains = specs.map((spec, i) => `${spec.writable ? 'w' : 'x'}${i}-${'a'.repeat(spec.size)}`);
          // Items a writer cannot write (undefined) are left out, anywhere in any part.
          const items: TraceItemWriter = (event: TelemetryEvent) =>
            String(event.data.domain).startsWith('x') ? undefined : library(event);
          const { frames } = await busyFrames(domains, items);
          if (domains.length === 0) return;
          const { parts } = await readFrame(frames);
          expect(domainsOf(parts.join(''))).toEqual(domains.filter((d) => d.startsWith('w')));
          frames.close();
        },
      ),
      { numRuns: 40 },
    );
  });
});
