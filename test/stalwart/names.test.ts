/**
 * Stalwart 0.15's names of the events 0.16 renamed (`v0.15.5:crates/trc/src/lib.rs` against
 * 0.16's: `QueueEvent::QueueMessage` … `AcmeEvent::DnsRecord*`), accepted wherever an event is
 * selected, and the `stalwart` option's validation.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { STALWART_015_ALIASES, type Stalwart015Alias, TelemetryConfigError, type TelemetryEvent } from '../../src/index.js';
import { make, makeClocked } from '../support/telemetry.js';

describe('0.15 aliases in selectors', () => {
  it('every alias names a catalogue event', () => {
    const telemetry = make({});
    const names = new Set(telemetry.events().map((e) => e.name));
    for (const [old, now] of Object.entries(STALWART_015_ALIASES)) {
      expect(names.has(now), now).toBe(true);
      expect(names.has(old), old).toBe(false);
    }
    expect(Object.keys(STALWART_015_ALIASES)).toHaveLength(14);
  });

  it('selects the renamed events in tracers, listeners, subscribers, live filters and alerts', async () => {
    const seen: string[] = [];
    const telemetry = makeClocked({
      tracers: [{ type: 'custom', id: 'old-names', events: ['queue.queue-*'], sink: { write: () => undefined } }],
      alerts: [
        { id: 'queued', condition: 'queue_queue_message >= 1' },
        { id: 'exact', condition: "metric('queue.queue-dsn') >= 1" },
      ],
    } as never);
    telemetry.on('queue.queue-message' as never, (event: TelemetryEvent) => seen.push(event.type));
    const sub: string[] = [];
    telemetry.subscribe({ events: ['acme.dns-record-*', 'telemetry.alert'] as never }, (batch) => {
      for (const e of batch) sub.push(e.type);
    });
    const stream = telemetry.live.events({ events: ['message-ingest.fts-index'] as never });
    telemetry.emit('queue.message-queued', {});
    telemetry.emit('queue.dsn-queued', {});
    telemetry.emit('dns.record-created', {});
    telemetry.emit('message-ingest.search-index', {});
    await telemetry.flush();
    expect(seen).toEqual(['queue.message-queued']);
    expect(sub).toEqual(['dns.record-created']);
    const it = stream[Symbol.asyncIterator]();
    expect((await it.next()).value?.type).toBe('message-ingest.search-index');
    await it.return?.();
    const transitions = await telemetry.alerts.evaluate();
    expect(transitions.map((t) => t.id).sort()).toEqual(['exact', 'queued']);
  });

  it('still refuses an unknown name, with a hint', () => {
    expect(() => make({ webhooks: [{ id: 'w', url: 'http://127.0.0.1:1/', events: ['queue.queue-mesage' as never] }] })).toThrow(
      /known event name/,
    );
  });

  it('types the aliases as selectors', () => {
    expectTypeOf<'queue.queue-message'>().toExtend<Stalwart015Alias>();
    // @ts-expect-error a 0.16 name is not an alias
    expectTypeOf<'queue.message-queued'>().toExtend<Stalwart015Alias>();
    make({ webhooks: [{ id: 'w', url: 'http://127.0.0.1:1/', events: ['queue.queue-message', 'acme.dns-record-created'] }] });
  });
});

describe('the stalwart option', () => {
  it('takes "0.15" or "0.16", and names the option and the value otherwise', () => {
    expect(() => make({ stalwart: '0.15' })).not.toThrow();
    expect(() => make({ stalwart: '0.16' })).not.toThrow();
    // @ts-expect-error a number is not a version
    expect(() => make({ stalwart: 0.15 })).toThrow(
      /options\.stalwart: expected "0\.15" or "0\.16", got 0\.15 \(write the version as a string/,
    );
    // @ts-expect-error an unknown version
    expect(() => make({ stalwart: '0.14' })).toThrow(TelemetryConfigError);
    // @ts-expect-error false is for the sections only
    expect(() => make({ stalwart: false })).toThrow(/options\.stalwart/);
    expect(() => make({ live: { stalwart: 'x' as never } })).toThrow(
      /options\.live\.stalwart: expected "0\.15" or "0\.16", or false/,
    );
    expect(() => make({ history: { stalwart: '1' as never } })).toThrow(/options\.history\.stalwart/);
    expect(() => make({ webhooks: [{ id: 'w', url: 'http://127.0.0.1:1/', stalwart: true as never }] })).toThrow(
      /options\.webhooks\[0\]\.stalwart/,
    );
  });
});
