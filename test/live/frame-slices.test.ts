import { describe, expect, it } from 'vitest';
import { traceItemsWriter } from '../../src/live/frames.js';
import { FRAME_SLICE, TraceFrames } from '../../src/live/sources.js';
import type { EventStream } from '../../src/live/stream.js';
import { make } from '../support/telemetry.js';

/** Four slices' worth, within the default stream buffer (10,000). */
const EVENTS = 4 * FRAME_SLICE;

/** Trace frames past their first ping, over a stream holding {@link EVENTS} events. */
async function busyFrames(): Promise<{ stream: EventStream; frames: TraceFrames }> {
  const telemetry = make();
  const stream = telemetry.live.events({ events: ['smtp.ehlo'] }) as EventStream;
  const frames = new TraceFrames(stream, {
    window: 0,
    ping: 30_000,
    items: traceItemsWriter(undefined, () => 'SMTP EHLO received'),
  });
  expect(await frames.next()).toMatch(/^event: ping/);
  for (let i = 0; i < EVENTS; i++) telemetry.emit('smtp.ehlo', { domain: `d${i}` });
  await telemetry.flush();
  return { stream, frames };
}

/** The domains of a trace frame's events, in order. */
function domains(frame: string): string[] {
  const items = JSON.parse(frame.slice('event: trace\ndata: '.length)) as { data: { domain: string } }[];
  return items.map((item) => item.data.domain);
}

describe('trace frames of a busy window', () => {
  it('are built a slice per turn of the event loop, and still come as one frame with every event in order', async () => {
    const { stream, frames } = await busyFrames();
    expect(stream.buffered).toBe(EVENTS);
    // A frame built in one go resolves within microtasks, before any immediate runs.
    let turns = 0;
    let counting = true;
    const tick = (): void => {
      if (!counting) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const frame = (await frames.next()) ?? '';
    counting = false;
    expect(turns).toBeGreaterThanOrEqual(3);
    expect(frame.startsWith('event: trace\ndata: [')).toBe(true);
    expect(domains(frame)).toEqual(Array.from({ length: EVENTS }, (_, i) => `d${i}`));
    frames.close();
  });

  it('end with what was framed when the stream closes between slices', async () => {
    const { frames } = await busyFrames();
    setImmediate(() => frames.close());
    const framed = domains((await frames.next()) ?? '');
    expect(framed.length).toBeGreaterThan(0);
    expect(framed.length).toBeLessThan(EVENTS);
    expect(framed).toEqual(Array.from({ length: framed.length }, (_, i) => `d${i}`));
    expect(await frames.next()).toBeUndefined();
  });
});
