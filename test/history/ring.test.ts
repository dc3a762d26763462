import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventRecord } from '../../src/core/event.js';
import { EventRing } from '../../src/history/event-ring.js';
import { type ResolvedEventQuery, resolveEventQuery } from '../../src/history/query.js';
import type { EventQuery, HistoryEvent } from '../../src/history/types.js';
import { LEVELS, type Level, matchPattern } from '../../src/index.js';
import { keySets } from './support/hostile-keys.js';

const TYPES = ['smtp.ehlo', 'smtp.rcpt-to', 'delivery.completed', 'auth.failed'];
const IPS = ['192.0.2.1', '192.0.2.2', '198.51.100.7'];
const RCPTS = ['a@x.org', 'b@x.org', 'c@y.net'];
const KEYS = ['remoteIp', 'to', 'queueId'];

/** Events with ascending ids and times, random types, levels, keys and spans. */
const events = fc
  .array(
    fc.record({
      type: fc.constantFrom(...TYPES),
      level: fc.constantFrom(...LEVELS),
      gap: fc.nat(3),
      remoteIp: fc.option(fc.constantFrom(...IPS), { nil: undefined }),
      to: fc.option(fc.oneof(fc.constantFrom(...RCPTS), fc.subarray(RCPTS, { minLength: 1 })), { nil: undefined }),
      queueId: fc.option(fc.nat(5), { nil: undefined }),
      note: fc.option(fc.constantFrom('greylisted', 'Spam score HIGH', 'ok'), { nil: undefined }),
      span: fc.option(fc.constantFrom(7, 8, 'text-span'), { nil: undefined }),
    }),
    { maxLength: 120 },
  )
  .map((rows) => {
    let time = 1_000;
    return rows.map((r, i): HistoryEvent => {
      time += r.gap;
      const data: Record<string, unknown> = {};
      if (r.remoteIp !== undefined) data.remoteIp = r.remoteIp;
      if (r.to !== undefined) data.to = r.to;
      if (r.queueId !== undefined) data.queueId = r.queueId;
      if (r.note !== undefined) data.details = r.note;
      return {
        id: 100 + i,
        type: r.type,
        level: r.level,
        timestamp: time,
        ...(r.span === undefined ? {} : { spanId: r.span }),
        data,
      };
    });
  });

const queries: fc.Arbitrary<EventQuery> = fc.record(
  {
    types: fc.subarray(['smtp.*', 'delivery.completed', '*.failed', 'imap.*'], { minLength: 1 }),
    level: fc.constantFrom<Level>(...LEVELS),
    from: fc.integer({ min: 1_000, max: 1_200 }),
    to: fc.integer({ min: 1_200, max: 1_500 }),
    keys: fc.oneof(
      fc.record({ remoteIp: fc.constantFrom(...IPS) }),
      fc.record({ to: fc.constantFrom(...RCPTS) }),
      fc.record({ to: fc.record({ contains: fc.constantFrom('x.org', 'Y.NET', '@') }) }),
      fc.record({ queueId: fc.nat(6) }),
      fc.record({ details: fc.record({ contains: fc.constantFrom('spam', 'grey') }) }),
    ),
    text: fc.constantFrom('high', '192.0.2', 'nothing-like-this'),
    spanId: fc.constantFrom<number | string>(7, 8, 'text-span'),
    limit: fc.integer({ min: 1, max: 7 }),
  },
  { requiredKeys: [] },
);

/** The obvious model: filter an array, newest first. */
function model(all: readonly HistoryEvent[], q: ResolvedEventQuery): HistoryEvent[] {
  const text = (v: unknown): string[] => (Array.isArray(v) ? v.flatMap(text) : v === undefined ? [] : [String(v)]);
  return all
    .filter((e) => {
      if (q.types !== undefined && !q.types.some((p) => matchPattern(p, e.type))) return false;
      if (e.timestamp < q.from || e.timestamp > q.to) return false;
      if (LEVELS.indexOf(e.level) < q.minLevel) return false;
      if (q.spanId !== undefined && String(e.spanId) !== q.spanId) return false;
      for (const c of q.keys) {
        const values = text(e.data[c.key]);
        if (c.exact !== undefined && !values.includes(c.exact)) return false;
        if (c.contains !== undefined && !values.some((v) => v.toLowerCase().includes(c.contains as string))) return false;
      }
      if (
        q.text !== undefined &&
        !Object.values(e.data).some((v) => text(v).some((t) => t.toLowerCase().includes(q.text as string)))
      )
        return false;
      return true;
    })
    .reverse();
}

/** Every page of a query, following cursors. */
function allPages(ring: EventRing, query: EventQuery): HistoryEvent[] {
  const out: HistoryEvent[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const page = ring.query(resolveEventQuery(cursor === undefined ? query : { ...query, cursor }));
    expect(page.items.length).toBeLessThanOrEqual(query.limit ?? 100);
    out.push(...page.items);
    if (page.cursor === undefined) return out;
    expect(page.items.length).toBe(query.limit ?? 100);
    cursor = page.cursor;
  }
  throw new Error('cursor loop');
}

const strip = (e: HistoryEvent) => ({
  id: e.id,
  type: e.type,
  level: e.level,
  timestamp: e.timestamp,
  spanId: e.spanId,
  data: e.data,
});

describe('EventRing (property tests against an array model)', () => {
  it('keeps exactly the newest `capacity` events, newest first', () => {
    fc.assert(
      fc.property(events, fc.integer({ min: 1, max: 40 }), (list, capacity) => {
        const ring = new EventRing(capacity, KEYS);
        for (const e of list) ring.append(e);
        expect(ring.size).toBe(Math.min(capacity, list.length));
        const got = ring.query(resolveEventQuery({ limit: 10_000 })).items.map(strip);
        expect(got).toEqual(list.slice(-capacity).reverse().map(strip));
      }),
      { numRuns: 300 },
    );
  });

  it('answers every query like the model, across every page', () => {
    fc.assert(
      fc.property(events, fc.integer({ min: 1, max: 60 }), queries, (list, capacity, query) => {
        const ring = new EventRing(capacity, KEYS);
        for (const e of list) ring.append(e);
        const expected = model(list.slice(-capacity), resolveEventQuery(query)).map(strip);
        expect(allPages(ring, query).map(strip)).toEqual(expected);
      }),
      { numRuns: 600 },
    );
  });

  it('gives the same answers whether a key is indexed or scanned', () => {
    fc.assert(
      fc.property(events, queries, (list, query) => {
        const indexed = new EventRing(32, KEYS);
        const scanned = new EventRing(32, []);
        for (const e of list) {
          indexed.append(e);
          scanned.append(e);
        }
        expect(allPages(indexed, query).map(strip)).toEqual(allPages(scanned, query).map(strip));
      }),
      { numRuns: 300 },
    );
  });

  it('drops events by age from the old end, and clears', () => {
    fc.assert(
      fc.property(events, fc.integer({ min: 1, max: 30 }), fc.nat(1_600), (list, capacity, cut) => {
        const ring = new EventRing(capacity, ['remoteIp', 'to']);
        for (const e of list) ring.append(e);
        ring.dropOlderThan(cut);
        const survivors = ring.query(resolveEventQuery({ limit: 10_000 })).items;
        expect(survivors.map(strip)).toEqual(
          list
            .slice(-capacity)
            .filter((e) => e.timestamp >= cut)
            .reverse()
            .map(strip),
        );
        // Key queries see only the survivors: evicted slots keep no values behind.
        for (const ip of IPS)
          expect(ring.query(resolveEventQuery({ keys: { remoteIp: ip }, limit: 10_000 })).items.map(strip)).toEqual(
            survivors.filter((e) => e.data.remoteIp === ip).map(strip),
          );
        ring.clear();
        expect(ring.size).toBe(0);
        expect(ring.query(resolveEventQuery({ keys: { remoteIp: { contains: '.' } } })).items).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('wraps around many times without losing order', () => {
    const ring = new EventRing(5, ['queueId']);
    for (let i = 0; i < 1003; i++)
      ring.append({ id: i, type: 'smtp.ehlo', level: 'info', timestamp: i, data: { queueId: i % 3 } });
    expect(ring.query(resolveEventQuery({ keys: { queueId: 1 } })).items.map((e) => e.id)).toEqual([1000]);
    expect(ring.query(resolveEventQuery({ keys: { queueId: 2 } })).items.map((e) => e.id)).toEqual([1001, 998]);
  });
});

describe('EventRing with event records', () => {
  it('a key indexed twice is read once, from the event or its span', () => {
    const twice = new EventRing(8, ['to', 'to', 'remoteIp']);
    twice.append(new EventRecord(1, 'smtp.rcpt-to', 0, 'info', 1, 7, { to: 'a@x.org' }, { remoteIp: '192.0.2.1' }, undefined));
    for (const keys of [{ to: 'a@x.org' }, { remoteIp: '192.0.2.1' }])
      expect(twice.query(resolveEventQuery({ keys })).items.map((e) => e.id)).toEqual([1]);
  });

  const NAMES = ['remoteIp', 'to', 'queueId', 'spanId'] as const;
  const VALUES = ['192.0.2.1', 'a@x.org', 3, 'q7', undefined] as const;
  /** Keys an event or a span sets, sometimes to undefined, sometimes behind a getter that throws. */
  const keys = keySets(NAMES, VALUES, 'queueId', true);

  it('indexes a record as its merged data, its span read once per run (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keys, fc.constantFrom(0, 0, 1), fc.boolean()), { maxLength: 30 }),
        fc.array(keys, { minLength: 2, maxLength: 2 }),
        (rows, spans) => {
          const records = new EventRing(64, [...NAMES]);
          const merged = new EventRing(64, [...NAMES]);
          rows.forEach(([own, span, inSpan], i) => {
            const spanKeys = inSpan ? spans[span] : undefined;
            const record = new EventRecord(
              100 + i,
              'smtp.rcpt-to',
              0,
              'info',
              1000 + i,
              inSpan ? 7 + span : undefined,
              own,
              spanKeys,
              undefined,
            );
            records.append(record);
            merged.append({
              id: record.id,
              type: record.type,
              level: record.level,
              timestamp: record.timestamp,
              data: record.data,
            });
          });
          for (const key of NAMES)
            for (const value of [...VALUES, 7, 8])
              if (value !== undefined) {
                const query = resolveEventQuery({ keys: { [key]: value }, limit: 1000 });
                expect(
                  records.query(query).items.map((e) => e.id),
                  `${key}=${value}`,
                ).toEqual(merged.query(query).items.map((e) => e.id));
              }
        },
      ),
      { numRuns: 400 },
    );
  });
});
