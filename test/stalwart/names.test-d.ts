/**
 * Stalwart 0.15's names of renamed events are typed in every selector, and a misspelt one is
 * still a compile error: tracers (checked as literals by `createTelemetry`), listeners,
 * subscribers and live filters. Type-checked only, never run.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { type BuiltinEvents, createTelemetry, type EventOf, type SelectorName } from '../../src/index.js';

const sink = { write: () => undefined };

describe('0.15 aliases in selector types', () => {
  it('tracers take them, by name and by wildcard, and refuse a typo', () => {
    createTelemetry({
      tracers: [
        { type: 'custom', events: ['queue.queue-message', 'acme.dns-record-*', 'smtp.*'], exclude: ['telemetry.alert'], sink },
      ],
    });
    // @ts-expect-error: a misspelt 0.15 name
    createTelemetry({ tracers: [{ type: 'custom', events: ['queue.queue-mesage'], sink }] });
    // @ts-expect-error: a wildcard that no name, 0.15 or 0.16, matches
    createTelemetry({ tracers: [{ type: 'custom', events: ['queue.queue-x*'], sink }] });
    // @ts-expect-error: a 0.15 name that 0.16 removed is not an alias
    createTelemetry({ tracers: [{ type: 'custom', events: ['housekeeper.start'], sink }] });
  });

  it('a listener on a 0.15 name gets the 0.16 event', () => {
    const telemetry = createTelemetry();
    telemetry.on('telemetry.alert', (event) => {
      expectTypeOf(event).toEqualTypeOf<EventOf<BuiltinEvents, 'telemetry.alert-event'>>();
    });
    telemetry.on('message-ingest.fts-index', (event) => {
      expectTypeOf(event.type).toEqualTypeOf<'message-ingest.search-index'>();
    });
    // @ts-expect-error: a misspelt 0.15 name
    telemetry.on('message-ingest.fts-idx', () => undefined);
  });

  it('the selectable names are the catalogue and the 14 aliases, nothing else', () => {
    expectTypeOf<'queue.queue-dsn'>().toExtend<SelectorName<BuiltinEvents>>();
    expectTypeOf<'dns.record-created'>().toExtend<SelectorName<BuiltinEvents>>();
    expectTypeOf<'queue.queue-dns'>().not.toExtend<SelectorName<BuiltinEvents>>();
    // An event map without the renamed events has no aliases.
    expectTypeOf<SelectorName<{ 'app.hit': object }>>().toEqualTypeOf<'app.hit'>();
  });
});
