/**
 * The trace summary is built as the span's events arrive (`TraceDraft`); it must answer exactly as
 * the old rebuild over every event's merged data at span end (test/history/support/trace-rebuild.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventRecord } from '../../src/core/event.js';
import { keepsMessages, TraceCollector, TraceDraft } from '../../src/history/traces.js';
import type { HistoryEvent, Trace } from '../../src/index.js';
import { makeUnreadable, overfill } from './support/hostile-keys.js';
import { rebuildTrace } from './support/trace-rebuild.js';

const KEYS = ['queueId', 'from', 'size', 'to', 'domain', 'hostname', 'remoteIp', 'messageId', 'other'] as const;

/** Values from a small set, so that keys repeat, collide across keys and differ only in case. */
const scalar = fc.oneof(
  fc.constantFrom('a@x.test', 'A@X.test', 'b@y.test', 'q1', 'Q1', '192.0.2.7', 'mx.example', 'ÜBER', ''),
  fc.integer({ min: 0, max: 3 }),
  fc.boolean(),
  fc.constant(undefined),
  fc.constant(new Date(Date.UTC(2026, 0, 1))),
  fc.constant(null),
);
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }));

/**
 * A key set, sometimes with a getter that throws (read as absent, as the merge leaves it out),
 * sometimes over a prototype holding keys (never read), sometimes with more keys than an event has.
 */
const data = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 5 }),
    fc.option(fc.constantFrom(...KEYS), { nil: undefined }),
    fc.constantFrom('plain', 'plain', 'inherited', 'many'),
  )
  .map(([keys, throwing, kind]) => {
    const out: Record<string, unknown> =
      kind === 'inherited' ? Object.assign(Object.create({ queueId: 'inherited', to: 'x@inherited.test' }), keys) : { ...keys };
    if (kind === 'many') overfill(out);
    if (throwing !== undefined) makeUnreadable(out, throwing);
    return out;
  });

interface Draft {
  readonly own: Record<string, unknown> | undefined;
  /** Which span key set the event carries: most events share the first. */
  readonly span: number;
  /** A plain event (as a store reads back), not a record. */
  readonly plain: boolean;
}

const drafts = fc.tuple(
  fc.array(data, { minLength: 1, maxLength: 2 }),
  fc.array(
    fc.record({
      own: fc.option(data, { nil: undefined }),
      span: fc.constantFrom(0, 0, 0, 1),
      plain: fc.boolean(),
    }),
    { maxLength: 25 },
  ),
);

function events(spans: readonly Record<string, unknown>[], list: readonly Draft[]): HistoryEvent[] {
  return list.map((d, i) => {
    const span = spans[d.span] ?? spans[0];
    if (!d.plain) return new EventRecord(1000 + i, 'smtp.rcpt-to', 0, 'info', 10 + i, 7, d.own, span, undefined);
    let merged: Record<string, unknown> | undefined;
    try {
      merged = new EventRecord(1000 + i, 'smtp.rcpt-to', 0, 'info', 10 + i, 7, d.own, span, undefined).data as Record<
        string,
        unknown
      >;
    } catch {
      merged = {};
    }
    return { id: 1000 + i, type: 'smtp.rcpt-to', level: 'info', timestamp: 10 + i, spanId: 7, data: merged };
  });
}

/** Plain JSON, so that Sets and arrays compare by content; a Date becomes its ISO text. */
const plain = (trace: Trace) => JSON.parse(JSON.stringify({ ...trace, events: trace.events.length }));

describe('incremental trace summary', () => {
  it('equals the rebuild over every event (fast-check)', () => {
    fc.assert(
      fc.property(drafts, ([spans, list]) => {
        const all = events(spans, list);
        const draft = new TraceDraft();
        for (const event of all) draft.add(event);
        const built = draft.build(7, 'smtp.connection-start', 10, all, 0);
        const rebuilt = rebuildTrace(7, 'smtp.connection-start', 10, all, 0);
        expect(plain(built)).toEqual(plain(rebuilt));
        expect(built.keywords).toBe(rebuilt.keywords);
        expect(draft.messageBearing).toBe(keepsMessages(rebuilt));
      }),
      {
        numRuns: 4000,
        // A message whose first event sets `size` itself, and whose next takes the span's: the span's
        // value still applies to that message.
        examples: [
          [
            [
              [{ queueId: false, size: 0 }, {}],
              [
                { own: { size: [] }, span: 0, plain: false },
                { own: undefined, span: 0, plain: false },
              ],
            ],
          ],
        ],
      },
    );
  });

  it("reads an event's own keys as its data has them: a key that is not enumerable stays out, as in the event's JSON", () => {
    const own = { to: 'seen@x.test' };
    Object.defineProperty(own, 'queueId', { value: 'hidden', enumerable: false });
    const event = new EventRecord(1, 'queue.message-queued', 0, 'info', 1, 7, own, { remoteIp: '192.0.2.7' }, undefined);
    const draft = new TraceDraft();
    draft.add(event);
    const trace = draft.build(7, 'smtp.connection-start', 1, [event], 0);
    expect(event.data).not.toHaveProperty('queueId');
    expect(trace.queueId).toBeUndefined();
    expect(trace.to).toEqual(['seen@x.test']);
    expect(trace.keywords.split('\n').sort()).toEqual(['192.0.2.7', 'seen@x.test']);
  });

  it('equals the rebuild through the collector, truncated spans included (fast-check)', () => {
    fc.assert(
      fc.property(drafts, fc.integer({ min: 2, max: 8 }), ([spans, list], maxEvents) => {
        const span = spans[0] as Record<string, unknown>;
        const start = new EventRecord(999, 'smtp.connection-start', 0, 'debug', 9, 7, span, undefined, undefined);
        const end = new EventRecord(5000, 'smtp.connection-end', 0, 'debug', 99, 7, { elapsed: 3 }, span, undefined);
        const out: { trace: Trace; messageBearing: boolean }[] = [];
        const collector = new TraceCollector(
          new Map([['smtp.connection-start', 'smtp.connection-end']]),
          maxEvents,
          10,
          (trace, messageBearing) => out.push({ trace, messageBearing }),
        );
        collector.add(start);
        for (const event of events(spans, list)) collector.add(event);
        collector.add(end);
        const [got] = out;
        expect(out).toHaveLength(1);
        const { trace, messageBearing } = got as { trace: Trace; messageBearing: boolean };
        const rebuilt = rebuildTrace(7, 'smtp.connection-start', 9, trace.events, trace.truncated);
        expect(plain(trace)).toEqual(plain(rebuilt));
        expect(trace.keywords).toBe(rebuilt.keywords);
        expect(messageBearing).toBe(keepsMessages(rebuilt));
      }),
      { numRuns: 1000 },
    );
  });

  it('gives each span the trace it has alone when the events of several spans interleave (fast-check)', () => {
    const ENDS = new Map([['smtp.connection-start', 'smtp.connection-end']]);
    // Steps: an event of span 1, 2 or 3 (or of span 9, never started), a start or an end; type numbers as the catalogue gives them.
    const step = fc.record({
      span: fc.constantFrom(1, 2, 3, 9),
      kind: fc.constantFrom('start', 'event', 'event', 'event', 'end'),
      data: fc.dictionary(
        fc.constantFrom('queueId', 'to', 'from', 'remoteIp'),
        fc.constantFrom('q1', 'q2', 'a@x.test', 'B@y.test'),
        {
          maxKeys: 2,
        },
      ),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const made = steps.map(({ span, kind, data }, i) => {
          const type = kind === 'start' ? 'smtp.connection-start' : kind === 'end' ? 'smtp.connection-end' : 'smtp.rcpt-to';
          const typeId = kind === 'start' ? 1 : kind === 'end' ? 2 : 3;
          const spanKeys = kind === 'start' ? undefined : { remoteIp: `192.0.2.${span}` };
          return new EventRecord(i + 1, type, typeId, 'info', i + 1, span, data, spanKeys, undefined);
        });
        const together: Trace[] = [];
        const shared = new TraceCollector(ENDS, 100, 10, (trace) => together.push(trace));
        for (const event of made) shared.add(event);
        const alone: Trace[] = [];
        for (const span of [1, 2, 3, 9]) {
          const own = new TraceCollector(ENDS, 100, 10, (trace) => alone.push(trace));
          for (const event of made) if (event.spanId === span) own.add(event);
        }
        const byEnd = (traces: Trace[]) =>
          [...traces].sort((a, b) => (a.events.at(-1)?.id ?? 0) - (b.events.at(-1)?.id ?? 0)).map(plain);
        expect(byEnd(together)).toEqual(byEnd(alone));
      }),
      { numRuns: 500 },
    );
  });
});
