/**
 * The history keeps no record the other consumers got: its ring keeps each event's own and span
 * keys, its traces keep `EventRecord.stored()` copies. A copy reads the same as its record, and once
 * those consumers are done, the records (with the JSON and merged views they cached) can be
 * collected while the history still answers for every event.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventRecord } from '../../src/core/event.js';
import { hostileValue } from '../support/hostile.js';
import { make } from '../support/telemetry.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const data = fc.option(fc.dictionary(fc.string({ maxLength: 8 }), hostileValue(), { maxKeys: 6 }), { nil: undefined });

describe('EventRecord.stored()', () => {
  it('reads as its record, whatever the keys hold, and is made once', () => {
    fc.assert(
      fc.property(
        data,
        data,
        fc.option(fc.oneof(fc.nat(), fc.string({ maxLength: 8 })), { nil: undefined }),
        (own, span, spanId) => {
          const record = new EventRecord(7, 'delivery.completed', 3, 'info', 1_700_000_000_000, spanId, own, span, {});
          const copy = record.stored();
          expect(record.stored()).toBe(copy);
          expect(copy.stored()).toBe(copy);
          expect(copy.origin).toBeUndefined();
          expect(copy.dataJson).toBe(record.dataJson);
          expect(copy.data).toEqual(record.data);
          for (const key of ['spanId', ...Object.keys(own ?? {}), ...Object.keys(span ?? {})]) {
            expect(Object.is(copy.value(key), record.value(key)), key).toBe(true);
          }
        },
      ),
    );
  });

  it('lets the emitted records go once every consumer is done; the history keeps its copies', async () => {
    const telemetry = make({ history: { traces: { keep: () => true } } });
    const emitted: WeakRef<object>[] = [];
    let written = 0;
    // A JSON writer, as the tracers, webhooks and live frames are: it caches the JSON and the merged view on each record.
    telemetry.subscribe({ events: ['smtp.*'] }, (batch) => {
      for (const event of batch) {
        written += (event as EventRecord).dataJson.length + Object.keys(event.data).length;
        emitted.push(new WeakRef(event));
      }
    });
    for (let i = 0; i < 200; i++) {
      const span = telemetry.span('smtp.connection-start', {
        remoteIp: `192.0.2.${i % 250}`,
        remotePort: 40000 + i,
        listenerId: 'mx',
        localPort: 25,
      });
      span.emit('smtp.ehlo', { domain: `client${i}.example.org` });
      span.end();
    }
    await telemetry.flush();
    expect(emitted).toHaveLength(600);
    expect(written).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(emitted.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
    const stored = await telemetry.history.events({ types: ['smtp.ehlo'], limit: 1000 });
    expect(stored.items).toHaveLength(200);
    expect(stored.items.map((e) => e.data.domain)).toContain('client199.example.org');
    const traces = await telemetry.history.traces({ limit: 1000 });
    expect(traces.items).toHaveLength(200);
    const trace = await telemetry.history.trace(traces.items[0]?.id as number);
    expect(trace?.events.map((e) => e.type)).toEqual(['smtp.connection-start', 'smtp.ehlo', 'smtp.connection-end']);
  });
});
