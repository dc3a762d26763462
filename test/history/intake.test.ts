/**
 * The history takes events in through windows (one batch per 100 ms), yet a query sees every event
 * emitted before it, with no flush first.
 */
import { describe, expect, it } from 'vitest';
import { make } from '../support/telemetry.js';

describe('history intake', () => {
  it('a query right after an emit finds the event and the trace of a span that just ended', async () => {
    const telemetry = make({ history: { level: 'trace' } });
    const session = telemetry.span('smtp.connection-start', {
      remoteIp: '192.0.2.1',
      remotePort: 1,
      listenerId: 'smtp',
      localPort: 25,
    });
    session.emit('queue.message-queued', { queueId: 'Q1', from: 'a@example.org', to: ['b@example.org'], size: 10 });
    session.end();
    const events = await telemetry.history.events({ keys: { queueId: 'Q1' } });
    expect(events.items.map((e) => e.type)).toEqual(['queue.message-queued']);
    const traces = await telemetry.history.traces({ queueId: 'Q1' });
    expect(traces.items.map((t) => t.type)).toEqual(['smtp.connection-start']);
    await telemetry.shutdown();
  });
});
