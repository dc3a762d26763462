import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '../../src/index.js';
import { make } from '../support/telemetry.js';

describe('emit-time sinks (context.onEmit)', () => {
  it("run on the emitter's stack, see its async context, and get only the tracer's selection", async () => {
    const request = new AsyncLocalStorage<string>();
    const seen: [string, string | undefined, boolean][] = [];
    const telemetry = make({
      tracers: [
        {
          type: 'custom',
          level: 'info',
          events: ['queue.*'],
          redact: ['from'],
          sink: (context) => {
            context.onEmit((event: TelemetryEvent) =>
              seen.push([event.type, request.getStore(), event.data.from === '[redacted]']),
            );
            return {};
          },
        },
      ],
    });
    request.run('req-1', () => {
      telemetry.emit('queue.message-queued', { queueId: 1, from: 'a@example.org' });
      telemetry.emit('smtp.ehlo', { domain: 'x.example' }); // not selected
    });
    expect(seen).toEqual([['queue.message-queued', 'req-1', true]]); // already there: no flush needed
    const report = await telemetry.flush();
    expect(report.complete).toBe(true);
    await telemetry.shutdown();
  });

  it('isolate a throwing hook: the emitter goes on and the failure is reported', async () => {
    const errors: unknown[] = [];
    const telemetry = make({
      tracers: [
        {
          type: 'custom',
          id: 'fragile',
          level: 'info',
          sink: (context) => {
            context.onEmit((event) => {
              if (event.type === 'queue.message-queued') throw new Error('exporter exploded');
            });
            return {};
          },
        },
      ],
    });
    telemetry.on('telemetry.subscriber-error', (event) => errors.push(event.data));
    expect(() => telemetry.emit('queue.message-queued', { queueId: 1 })).not.toThrow();
    await telemetry.flush();
    await telemetry.flush();
    expect(errors).toEqual([expect.objectContaining({ id: 'tracer:fragile:emit', reason: 'exporter exploded' })]);
    // Its own error report never comes back to it.
    expect(telemetry.stats().subscribers.find((s) => s.id === 'tracer:fragile:emit')).toMatchObject({
      delivered: 1,
      failures: 1,
    });
    await telemetry.shutdown();
  });

  it('refuse a sink with neither write nor a hook', () => {
    expect(() => make({ tracers: [{ type: 'custom', sink: () => ({}) }] })).toThrow(/write\(batch\) method or an onEmit hook/);
  });
});
