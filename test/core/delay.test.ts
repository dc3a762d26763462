/**
 * Delayed subscribers (the mechanisms' intake windows): events gather for the window and arrive as
 * one batch, a full queue does not wait, flush and shutdown never wait, and an unsubscribed
 * consumer leaves no timer behind.
 */
import { describe, expect, it } from 'vitest';
import type { CoreContext } from '../../src/core/mechanism.js';
import { MECHANISM_CONTEXT } from '../../src/core/symbols.js';
import { make } from '../support/telemetry.js';

type WithContext = { [MECHANISM_CONTEXT](): CoreContext };

function subscribe(delay: number, maxBatch = 1024) {
  // No default history: its intake windows would be timers of their own.
  const telemetry = make({ history: false });
  const context = (telemetry as unknown as WithContext)[MECHANISM_CONTEXT]();
  const batches: number[] = [];
  const subscription = context.subscribe(
    { id: 'delayed', path: 'test', events: ['smtp.*'], lossy: false, maxQueue: 100_000, maxBatch, delay },
    (batch) => {
      batches.push(batch.length);
    },
  );
  return { telemetry, batches, subscription };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a subscriber with a delay', () => {
  it('gathers the events of several ticks into one batch per window', async () => {
    const { telemetry, batches } = subscribe(40);
    for (let i = 0; i < 5; i++) {
      telemetry.emit('smtp.ehlo', { domain: `d${i}.example` });
      await tick();
    }
    expect(batches).toEqual([]);
    await sleep(80);
    expect(batches).toEqual([5]);
    await telemetry.shutdown();
  });

  it('delivers a full queue on the next tick, without waiting for the window', async () => {
    const { telemetry, batches } = subscribe(60_000, 10);
    for (let i = 0; i < 25; i++) telemetry.emit('smtp.ehlo', { domain: 'x.example' });
    await tick();
    await tick();
    expect(batches.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10);
    await telemetry.shutdown();
  });

  it('drains a backlog left after a full batch tick by tick, without opening a new window', async () => {
    const { telemetry, batches } = subscribe(60_000, 10);
    for (let i = 0; i < 25; i++) telemetry.emit('smtp.ehlo', { domain: 'x.example' });
    for (let i = 0; i < 5; i++) await tick();
    expect(batches).toEqual([10, 10, 5]);
    await telemetry.shutdown();
  });

  it('flush() delivers at once, and shutdown() neither waits nor loses', async () => {
    const { telemetry, batches } = subscribe(60_000);
    telemetry.emit('smtp.ehlo', { domain: 'a.example' });
    await telemetry.flush();
    expect(batches).toEqual([1]);
    telemetry.emit('smtp.ehlo', { domain: 'b.example' });
    const report = await telemetry.shutdown(1000);
    expect(batches).toEqual([1, 1]);
    expect(report.complete).toBe(true);
  });

  it('unsubscribing stops its window: no timer is left running', async () => {
    const { telemetry, batches, subscription } = subscribe(60_000);
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    telemetry.emit('smtp.ehlo', { domain: 'a.example' });
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before + 1);
    subscription.unsubscribe();
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
    expect(batches).toEqual([]);
    expect(telemetry.stats().droppedEvents).toBe(1);
    await telemetry.shutdown();
  });
});
