/**
 * What an instance allocates while no mail flows: its timers alone (history series every second,
 * two alert rules, one reading a window of the series). V8 shrinks an idle young generation only
 * while allocation stays under about 1,000 bytes per millisecond, so an instance above that keeps
 * a busy server's young generation (up to 128 MiB) after the burst is over.
 */
import { createTelemetry, type TelemetryOptions } from '../dist/index.js';
import type { Figure } from './harness.js';
import { sleep } from './stats.js';

const WARM_MS = 3000;
const MEASURE_MS = 10_000;

/** Bytes allocated per second over `ms`: the heap in use, read every 5 ms, summed over its rises. */
async function allocationRate(ms: number): Promise<number> {
  let allocated = 0;
  let last = process.memoryUsage().heapUsed;
  const probe = setInterval(() => {
    const used = process.memoryUsage().heapUsed;
    if (used > last) allocated += used - last;
    last = used;
  }, 5);
  await sleep(ms);
  clearInterval(probe);
  return allocated / (ms / 1000);
}

async function idle(options: TelemetryOptions): Promise<number> {
  const telemetry = createTelemetry(options);
  await sleep(WARM_MS);
  const rate = await allocationRate(MEASURE_MS);
  await telemetry.shutdown();
  return rate;
}

export const figures: Record<string, () => Promise<Figure>> = {
  idleAllocation: async () => {
    // The probe allocates too: an instance with nothing on is the baseline.
    const baseline = await idle({ history: false });
    const busy = await idle({
      history: { series: { interval: 1000 } },
      alerts: {
        interval: '1s',
        rules: [
          { id: 'auth-failures', condition: "increase(metric('auth.failed'), '1m') > 1000", for: '1m' },
          { id: 'queue-backlog', condition: 'queue_count > 10_000', for: '1m' },
        ],
      },
    });
    return {
      title: 'idle: what an instance with history series every second and two alert rules allocates with no events',
      value: Math.max(0, busy - baseline) / 1024,
      unit: 'KiB/s',
      limit: { atMost: 976 },
      note: `the heap in use read every 5 ms over ${MEASURE_MS / 1000} s, its rises summed, minus an instance with nothing on (${Math.round(baseline / 1024)} KiB/s); V8 shrinks an idle young generation only below about 1,000 bytes/ms`,
    };
  },
};
