import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILTIN_EVENTS, BUILTIN_METRICS, COMMON_KEYS, KEY_TYPES, type MetricRow } from '../../src/index.js';
import { make } from '../support/telemetry.js';

interface ReferenceEvent {
  name: string;
  id: number;
  level: string;
  counter: boolean;
  keysSeen: string[];
}
const reference = JSON.parse(readFileSync(new URL('../fixtures/stalwart-events.json', import.meta.url), 'utf8')) as {
  events: ReferenceEvent[];
  keys: string[];
  metrics: { name: string; kind: string; unit: string; buckets?: number[] }[];
  spanStartEvents: string[];
  spanEndEvents: string[];
};
const source = JSON.parse(readFileSync(new URL('../../src/catalog/events.json', import.meta.url), 'utf8')) as {
  events: { name: string; id: number; library?: boolean }[];
};

describe('the catalogue', () => {
  const builtin = BUILTIN_EVENTS.filter((e) => !e.library);

  it('holds the 637 reference events with the same names, ids, levels, counter flags and keys', () => {
    expect(builtin).toHaveLength(637);
    const byName = new Map(builtin.map((e) => [e.name, e]));
    for (const ref of reference.events) {
      const ours = byName.get(ref.name);
      expect(ours, ref.name).toBeDefined();
      expect(ours?.id, ref.name).toBe(ref.id);
      expect(ours?.level, ref.name).toBe(ref.level);
      expect(ours?.counter, ref.name).toBe(ref.counter);
      for (const key of ref.keysSeen) expect(ours?.keys, ref.name).toContain(key);
    }
    expect(builtin.filter((e) => e.counter)).toHaveLength(342);
  });

  it('comes from one data file that the generated module mirrors', () => {
    expect(source.events.map((e) => e.name).sort()).toEqual(BUILTIN_EVENTS.map((e) => e.name).sort());
  });

  it('keeps ids unique, with the library’s own events outside the reference range', () => {
    const ids = BUILTIN_EVENTS.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const e of BUILTIN_EVENTS.filter((e) => e.library)) {
      expect(e.name.startsWith('telemetry.')).toBe(true);
      expect(e.id).toBeGreaterThanOrEqual(700);
      expect(e.id).toBeLessThan(1000);
    }
    const names = BUILTIN_EVENTS.map((e) => e.name);
    for (const required of ['telemetry.subscriber-error', 'telemetry.webhook-error', 'telemetry.events-dropped']) {
      expect(names).toContain(required);
    }
  });

  it('has a unique one-line description for every event', () => {
    const descriptions = BUILTIN_EVENTS.map((e) => e.description);
    for (const d of descriptions) {
      expect(d.length).toBeGreaterThan(5);
      expect(d).not.toMatch(/[\r\n]|\.$/);
    }
    expect(new Set(descriptions).size).toBe(descriptions.length);
  });

  it('types all 66 vocabulary keys and includes the common keys', () => {
    expect(Object.keys(KEY_TYPES).sort()).toEqual([...reference.keys].sort());
    for (const key of COMMON_KEYS) expect(Object.keys(KEY_TYPES)).toContain(key);
    expect(KEY_TYPES.remotePort).toBe('port');
    expect(KEY_TYPES.size).toBe('bytesize');
    expect(KEY_TYPES.elapsed).toBe('duration');
    expect(KEY_TYPES.nextRetry).toBe('time');
    expect(KEY_TYPES.to).toBe('strings');
    expect(KEY_TYPES.causedBy).toBe('cause');
  });

  it('pairs the six span start events with their end events', () => {
    const starts = BUILTIN_EVENTS.filter((e) => e.spanEnd !== undefined);
    expect(starts.map((e) => e.name).sort()).toEqual([...reference.spanStartEvents].sort());
    reference.spanStartEvents.forEach((start, i) => {
      expect(starts.find((e) => e.name === start)?.spanEnd).toBe(reference.spanEndEvents[i]);
    });
  });

  it('holds the 27 gauges and histograms with their units and buckets', () => {
    expect(BUILTIN_METRICS).toHaveLength(27);
    for (const ref of reference.metrics) {
      const ours = (BUILTIN_METRICS as readonly MetricRow[]).find((m) => m.name === ref.name);
      expect(ours?.kind).toBe(ref.kind);
      expect(ours?.unit).toBe(ref.unit);
      expect(ours?.buckets).toEqual(ref.buckets);
    }
  });

  it('is what a telemetry instance describes', async () => {
    const telemetry = make();
    expect(telemetry.events()).toHaveLength(BUILTIN_EVENTS.length);
    expect(telemetry.describe('smtp.connection-start')).toMatchObject({
      id: 417,
      level: 'debug',
      counter: true,
      spanEnd: 'smtp.connection-end',
      origin: 'builtin',
    });
    expect(telemetry.describe('telemetry.subscriber-error').origin).toBe('library');
    await telemetry.shutdown();
  });
});

describe('keys that may hold objects', () => {
  it('are the time, bytes and cause keys an event takes, common keys included; undefined for any-key events', async () => {
    const { Catalog } = await import('../../src/catalog/catalog.js');
    const { defineEvents } = await import('../../src/index.js');
    const host = defineEvents({
      'billing.invoice-due': { id: 1000, description: 'Invoice due', keys: { due: true, amount: 'number', dueAgain: 'time' } },
      'billing.note': { id: 1001, description: 'Any billing note' },
    });
    const catalog = new Catalog(host);
    expect([...(catalog.get('delivery.failed')?.objectKeys ?? [])].sort()).toEqual([
      'causedBy',
      'expires',
      'nextDsn',
      'nextRetry',
    ]);
    expect(catalog.get('smtp.ehlo')?.objectKeys).toEqual(['causedBy']);
    expect(catalog.get('smtp.connection-start')?.objectKeys).toBeUndefined();
    expect([...(catalog.get('billing.invoice-due')?.objectKeys ?? [])].sort()).toEqual(['causedBy', 'due', 'dueAgain']);
    expect(catalog.get('billing.note')?.objectKeys).toBeUndefined();
  });
});
