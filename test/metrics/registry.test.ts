import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { BUILTIN_METRICS, OVERFLOW_VALUE, TelemetryConfigError, type TelemetryEvent } from '../../src/index.js';
import { CONNECTION, make, makeWithEvents } from '../support/telemetry.js';
import { histogramOf, metricOf, seriesValue } from './helpers.js';

/** Runs `fn`, which must throw a TelemetryConfigError, and returns it. */
function configError(fn: () => unknown): TelemetryConfigError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected a TelemetryConfigError').toBeInstanceOf(TelemetryConfigError);
  return thrown as TelemetryConfigError;
}

/** createTelemetry as untyped JavaScript sees it (an instance it returns is shut down after the test). */
const createUntyped = make as unknown as (options?: unknown) => unknown;

/** A host metric's methods as untyped JavaScript sees them. */
interface Untyped {
  inc(...args: unknown[]): void;
  dec(...args: unknown[]): void;
  set(...args: unknown[]): void;
  observe(...args: unknown[]): void;
  labels(labels?: unknown): { inc(value?: unknown): void };
}
const untyped = (metric: unknown) => metric as Untyped;

describe('event counters', () => {
  it('count on emit with no subscriber, including span starts and ends', () => {
    const telemetry = make();
    telemetry.emit('delivery.completed', { elapsed: 10 });
    telemetry.emit('delivery.completed');
    const span = telemetry.span('smtp.connection-start', CONNECTION);
    span.end();
    expect(telemetry.metrics.eventCount('delivery.completed')).toBe(2);
    expect(telemetry.metrics.eventCount('smtp.connection-start')).toBe(1);
    expect(telemetry.metrics.eventCount('smtp.connection-end')).toBe(1);
    const snap = telemetry.metrics.snapshot();
    const metric = metricOf(snap, 'delivery.completed');
    expect(metric?.kind).toBe('counter');
    expect(metric?.help).toBe(telemetry.describe('delivery.completed').description);
    expect(seriesValue(snap, 'delivery.completed')).toBe(2);
  });

  it('snapshot() lists every counter-flagged event once and every built-in gauge and histogram', () => {
    const telemetry = make();
    const snap = telemetry.metrics.snapshot();
    const counters = telemetry.events().filter((e) => e.counter);
    expect(counters.length).toBeGreaterThanOrEqual(342);
    for (const event of counters) expect(metricOf(snap, event.name)?.kind, event.name).toBe('counter');
    expect(BUILTIN_METRICS).toHaveLength(27);
    for (const row of BUILTIN_METRICS) expect(metricOf(snap, row.name)?.kind, row.name).toBe(row.kind);
    const names = snap.metrics.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(typeof snap.timestamp).toBe('number');
  });

  it('snapshot(names) copies only the metrics named: the same values a full snapshot has for them', () => {
    const telemetry = make({ metrics: { exclude: ['smtp.*'] } });
    const host = telemetry.metrics.counter('app.jobs', { help: 'Jobs', labels: ['kind'] });
    host.labels({ kind: 'a' }).inc(2);
    telemetry.emit('delivery.completed', { elapsed: 5 });
    telemetry.metrics.histogram('delivery.total-time').observe(3);
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.constantFrom(
            'delivery.completed',
            'delivery.total-time',
            'app.jobs',
            'queue.count',
            'smtp.ehlo',
            'no.such-metric',
            '',
          ),
        ),
        (names) => {
          const { timestamp: _full, metrics: all } = telemetry.metrics.snapshot();
          const picked = telemetry.metrics.snapshot(names).metrics;
          expect(picked).toEqual(all.filter((m) => (names as readonly string[]).includes(m.name)));
          // An excluded metric stays out even when named.
          expect(picked.some((m) => m.name === 'smtp.ehlo')).toBe(false);
        },
      ),
    );
    expect(telemetry.metrics.snapshot('app.jobs').metrics.map((m) => m.name)).toEqual(['app.jobs']);
    expect(telemetry.metrics.snapshot(new Set(['queue.count'])).metrics.map((m) => m.name)).toEqual(['queue.count']);
    expect(telemetry.metrics.snapshot([]).metrics).toEqual([]);
    const untypedSnapshot = telemetry.metrics.snapshot as (names?: unknown) => { readonly metrics: readonly unknown[] };
    expect(configError(() => untypedSnapshot(42)).path).toBe('names');
    expect(configError(() => untypedSnapshot(null)).path).toBe('names');
    // Entries that are no strings name nothing.
    expect(untypedSnapshot([1, {}, 'queue.count']).metrics).toHaveLength(1);
  });

  it('metrics.exclude switches an event counter off: it stays 0 and leaves the snapshot and the scrape', () => {
    const telemetry = make({ metrics: { exclude: ['delivery.completed', 'smtp.*'] } });
    telemetry.emit('delivery.completed', { elapsed: 5 });
    telemetry.span('smtp.connection-start', CONNECTION).end({ elapsed: 300 });
    telemetry.emit('delivery.attempt-start', { queueId: 1 });
    expect(telemetry.metrics.eventCount('delivery.completed')).toBe(0);
    expect(telemetry.metrics.eventCount('smtp.connection-start')).toBe(0);
    expect(telemetry.metrics.eventCount('delivery.attempt-start')).toBe(1);
    const snap = telemetry.metrics.snapshot();
    expect(metricOf(snap, 'delivery.completed')).toBeUndefined();
    expect(metricOf(snap, 'smtp.connection-start')).toBeUndefined();
    // smtp.* also matches the smtp gauge and histogram.
    expect(metricOf(snap, 'smtp.active-connections')).toBeUndefined();
    expect(metricOf(snap, 'smtp.request-time')).toBeUndefined();
    expect(metricOf(snap, 'imap.active-connections')).toBeDefined();
    const text = telemetry.metrics.prometheus();
    expect(text).not.toMatch(/^mail_delivery_completed_total /m);
    expect(text).not.toContain('mail_smtp_connection_start_total');
    expect(text).not.toContain('mail_smtp_request_time_seconds');
    expect(text).toMatch(/^mail_delivery_attempt_start_total 1$/m);
  });

  it('metrics.include keeps only the matching counters, gauges and histograms', () => {
    const telemetry = make({ metrics: { include: ['delivery.*', '*.request-time'] } });
    telemetry.emit('auth.success');
    telemetry.emit('delivery.completed', { elapsed: 1000 });
    telemetry.span('smtp.connection-start', CONNECTION).end({ elapsed: 250 });
    expect(telemetry.metrics.eventCount('auth.success')).toBe(0);
    expect(telemetry.metrics.eventCount('delivery.completed')).toBe(1);
    const snap = telemetry.metrics.snapshot();
    expect(metricOf(snap, 'auth.success')).toBeUndefined();
    expect(metricOf(snap, 'queue.count')).toBeUndefined();
    expect(metricOf(snap, 'server.memory')).toBeUndefined();
    expect(histogramOf(snap, 'smtp.request-time').count).toBe(1);
    expect(histogramOf(snap, 'delivery.total-time').count).toBe(1);
    expect(seriesValue(snap, 'delivery.active-connections')).toBe(0);
    expect(telemetry.metrics.prometheus()).not.toContain('mail_auth_success_total');
  });

  it('counts host events flagged as counters', async () => {
    const { defineEvents } = await import('../../src/index.js');
    const events = defineEvents({
      'billing.invoice-sent': { id: 1000, description: 'Invoice mailed to a customer', counter: true },
      'billing.audit-sent': { id: 1001, description: 'Audit line written' },
    });
    const telemetry = makeWithEvents({ events });
    try {
      telemetry.emit('billing.invoice-sent');
      telemetry.emit('billing.invoice-sent');
      telemetry.emit('billing.audit-sent');
      expect(telemetry.metrics.eventCount('billing.invoice-sent')).toBe(2);
      const snap = telemetry.metrics.snapshot();
      expect(seriesValue(snap, 'billing.invoice-sent')).toBe(2);
      expect(metricOf(snap, 'billing.audit-sent')).toBeUndefined();
      expect(telemetry.metrics.prometheus()).toMatch(/^mail_billing_invoice_sent_total 2$/m);
    } finally {
      await telemetry.shutdown(100);
    }
  });
});

describe('built-in gauges and histograms are fed as the catalogue says', () => {
  const spans = [
    ['smtp.connection-start', 'smtp.active-connections', 'smtp.request-time'],
    ['imap.connection-start', 'imap.active-connections', 'imap.request-time'],
    ['pop3.connection-start', 'pop3.active-connections', 'pop3.request-time'],
    ['http.connection-start', 'http.active-connections', 'http.request-time'],
    ['manage-sieve.connection-start', 'sieve.active-connections', 'sieve.request-time'],
  ] as const;

  it.each(spans)('%s: %s +1 on start, -1 on end; %s takes elapsed of the end event', (start, gauge, histogram) => {
    const telemetry = make();
    const a = telemetry.span(start, CONNECTION);
    const b = telemetry.span(start, { ...CONNECTION, remotePort: 40001 });
    expect(seriesValue(telemetry.metrics.snapshot(), gauge)).toBe(2);
    a.end({ elapsed: 1500 });
    expect(seriesValue(telemetry.metrics.snapshot(), gauge)).toBe(1);
    b.end({ elapsed: 250 });
    a.end({ elapsed: 99 }); // a second end is ignored
    const snap = telemetry.metrics.snapshot();
    expect(seriesValue(snap, gauge)).toBe(0);
    const h = histogramOf(snap, histogram);
    expect(h.count).toBe(2);
    expect(h.sum).toBe(1750);
    expect(h.bounds[0]).toBe(250);
    expect(h.counts[0]).toBe(1); // 250 ≤ 250
  });

  it('delivery.active-connections follows delivery.attempt-start spans; delivery.attempt-time takes their elapsed', () => {
    const telemetry = make();
    const span = telemetry.span('delivery.attempt-start', { queueId: 42 });
    expect(seriesValue(telemetry.metrics.snapshot(), 'delivery.active-connections')).toBe(1);
    span.end({ elapsed: 600 });
    const snap = telemetry.metrics.snapshot();
    expect(seriesValue(snap, 'delivery.active-connections')).toBe(0);
    expect(histogramOf(snap, 'delivery.attempt-time')).toMatchObject({ count: 1, sum: 600 });
  });

  it('a span ended without elapsed still feeds the request-time histogram', () => {
    const telemetry = make();
    telemetry.span('smtp.connection-start', CONNECTION).end();
    const h = histogramOf(telemetry.metrics.snapshot(), 'smtp.request-time');
    expect(h.count).toBe(1);
    expect(h.sum).toBeGreaterThanOrEqual(0);
  });

  it('message.size takes size of queue.message-queued (and the authenticated and report variants)', () => {
    const telemetry = make();
    telemetry.emit('queue.message-queued', { size: 1000 });
    telemetry.emit('queue.message-queued', { size: 20_000 });
    telemetry.emit('queue.authenticated-message-queued', { size: 700 });
    telemetry.emit('queue.report-queued', { size: 300 });
    const snap = telemetry.metrics.snapshot();
    const size = histogramOf(snap, 'message.size');
    expect(size).toMatchObject({ count: 2, sum: 21_000 });
    expect(size.counts.slice(0, 4)).toEqual([0, 1, 1, 2]); // le 500, 1000, 10000, 100000
    expect(histogramOf(snap, 'message.authenticated-size')).toMatchObject({ count: 1, sum: 700 });
    expect(histogramOf(snap, 'outgoing-report.size')).toMatchObject({ count: 1, sum: 300 });
  });

  it('queue.count goes +1 on every queue.*-queued event and -1 on delivery.completed', () => {
    const telemetry = make();
    telemetry.emit('queue.message-queued', { size: 10 });
    telemetry.emit('queue.dsn-queued');
    telemetry.emit('queue.autogenerated-queued');
    telemetry.emit('queue.report-queued');
    telemetry.emit('queue.authenticated-message-queued');
    expect(seriesValue(telemetry.metrics.snapshot(), 'queue.count')).toBe(5);
    telemetry.emit('delivery.completed', { elapsed: 2000 });
    telemetry.emit('delivery.completed', { elapsed: 40_000 });
    const snap = telemetry.metrics.snapshot();
    expect(seriesValue(snap, 'queue.count')).toBe(3);
    const total = histogramOf(snap, 'delivery.total-time');
    expect(total).toMatchObject({ count: 2, sum: 42_000 });
    expect(total.counts.slice(0, 2)).toEqual([0, 1]); // le 1000, 30000
  });

  it('store.data-write-time and the other store and ingest histograms take elapsed', () => {
    const telemetry = make();
    telemetry.emit('store.data-write', { elapsed: 7 });
    telemetry.emit('store.data-iterate', { elapsed: 3 });
    telemetry.emit('store.blob-read', { elapsed: 12 });
    telemetry.emit('store.blob-write', { elapsed: 50 });
    telemetry.emit('message-ingest.ham', { elapsed: 100 });
    telemetry.emit('message-ingest.search-index', { elapsed: 5 });
    const snap = telemetry.metrics.snapshot();
    const write = histogramOf(snap, 'store.data-write-time');
    expect(write).toMatchObject({ count: 1, sum: 7 });
    expect(write.counts.slice(0, 2)).toEqual([0, 1]); // le 5, 10
    expect(histogramOf(snap, 'store.data-read-time')).toMatchObject({ count: 1, sum: 3 });
    expect(histogramOf(snap, 'store.blob-read-time')).toMatchObject({ count: 1, sum: 12 });
    expect(histogramOf(snap, 'store.blob-write-time')).toMatchObject({ count: 1, sum: 50 });
    expect(histogramOf(snap, 'message-ingest.time')).toMatchObject({ count: 1, sum: 100 });
    expect(histogramOf(snap, 'message-ingest.index-time')).toMatchObject({ count: 1, sum: 5 });
  });

  it('dns.lookup-time takes elapsed of lookups and skips elapsed 0 (cached answers)', () => {
    const telemetry = make();
    telemetry.emit('delivery.mx-lookup', { elapsed: 20 });
    telemetry.emit('delivery.mx-lookup', { elapsed: 0 });
    telemetry.emit('delivery.ip-lookup', { elapsed: 4 });
    telemetry.emit('mta-sts.policy-fetch', { elapsed: 0 });
    telemetry.emit('dane.tlsa-record-fetch', { elapsed: 60 });
    const h = histogramOf(telemetry.metrics.snapshot(), 'dns.lookup-time');
    expect(h).toMatchObject({ count: 3, sum: 84 });
    expect(telemetry.metrics.stats().rejected).toBe(0);
  });

  it('server.memory is a positive number of bytes', () => {
    const telemetry = make();
    const snap = telemetry.metrics.snapshot();
    expect(metricOf(snap, 'server.memory')?.unit).toBe('bytes');
    expect(seriesValue(snap, 'server.memory')).toBeGreaterThan(0);
  });

  it('user.count and domain.count are set by the host', () => {
    const telemetry = make();
    telemetry.metrics.gauge('user.count').set(1234);
    telemetry.metrics.gauge('domain.count').set(3);
    telemetry.metrics.gauge('domain.count').inc();
    const snap = telemetry.metrics.snapshot();
    expect(seriesValue(snap, 'user.count')).toBe(1234);
    expect(seriesValue(snap, 'domain.count')).toBe(4);
    expect(telemetry.metrics.histogram('smtp.request-time').bounds[0]).toBe(250);
  });

  it('a built-in name asked for as the wrong kind throws', () => {
    const telemetry = make();
    const metrics = telemetry.metrics as unknown as { gauge(n: string): unknown; histogram(n: string): unknown };
    configError(() => metrics.gauge('smtp.request-time'));
    configError(() => metrics.histogram('queue.count'));
  });

  it('evaluates a thunk payload once when only a metric needs it', () => {
    const telemetry = make();
    const thunk = vi.fn(() => ({ size: 5000 }));
    telemetry.emit('queue.message-queued', thunk);
    expect(thunk).toHaveBeenCalledTimes(1);
    expect(histogramOf(telemetry.metrics.snapshot(), 'message.size')).toMatchObject({ count: 1, sum: 5000 });
  });

  it('evaluates a thunk payload once when a metric and a subscriber need it', async () => {
    const telemetry = make();
    const got: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['queue.message-queued'] }, (batch) => {
      got.push(...batch);
    });
    const thunk = vi.fn(() => ({ size: 5000 }));
    telemetry.emit('queue.message-queued', thunk);
    await telemetry.flush();
    expect(thunk).toHaveBeenCalledTimes(1);
    expect(got.map((e) => e.data)).toEqual([{ size: 5000 }]);
    expect(histogramOf(telemetry.metrics.snapshot(), 'message.size').count).toBe(1);
  });

  it('an excluded histogram does not evaluate the thunk of an event only it needed', () => {
    // No history: it would want the event (info) for itself.
    const telemetry = make({ history: false, metrics: { exclude: ['message.size', 'queue.count', 'queue.message-queued'] } });
    const thunk = vi.fn(() => ({ size: 5000 }));
    telemetry.emit('queue.message-queued', thunk);
    expect(thunk).not.toHaveBeenCalled();
  });

  it('a bad size or elapsed in event data is refused and counted, never stored', () => {
    const telemetry = make();
    const emit = (name: string, data: unknown) => (telemetry.emit as (n: string, d?: unknown) => void)(name, data);
    emit('queue.message-queued', { size: -5 });
    emit('queue.message-queued', { size: Number.NaN });
    emit('smtp.connection-end', { elapsed: 'soon' });
    const snap = telemetry.metrics.snapshot();
    expect(histogramOf(snap, 'message.size')).toMatchObject({ count: 0, sum: 0 });
    expect(histogramOf(snap, 'smtp.request-time')).toMatchObject({ count: 0, sum: 0 });
    expect(telemetry.metrics.stats().rejected).toBe(3);
  });
});

describe('histograms', () => {
  it('place a value equal to a bound in that bucket (le is inclusive); counts are cumulative and end with +Inf == count', () => {
    const telemetry = make();
    const h = telemetry.metrics.histogram('test.latency', { help: 'Latency', buckets: [1, 2, 5] });
    for (const v of [0, 1, 1.5, 2, 5, 5.0001, 100]) h.observe(v);
    const s = histogramOf(telemetry.metrics.snapshot(), 'test.latency');
    expect(s.bounds).toEqual([1, 2, 5]);
    expect(s.counts).toEqual([2, 4, 5, 7]);
    expect(s.counts.at(-1)).toBe(s.count);
    expect(s.count).toBe(7);
    expect(s.sum).toBeCloseTo(114.5001, 6);
  });

  it('use the default buckets when none are given', async () => {
    const { DEFAULT_BUCKETS } = await import('../../src/index.js');
    const telemetry = make();
    const h = telemetry.metrics.histogram('test.default-buckets', { help: 'Defaults' });
    expect(h.bounds).toEqual(DEFAULT_BUCKETS);
    h.observe(0.005);
    const s = histogramOf(telemetry.metrics.snapshot(), 'test.default-buckets');
    expect(s.counts[0]).toBe(1);
    expect(s.counts).toHaveLength(DEFAULT_BUCKETS.length + 1);
  });
});

describe('host metrics', () => {
  it('counter, gauge and histogram with labels, and a bound child', () => {
    const telemetry = make();
    const m = telemetry.metrics;
    const requests = m.counter('app.requests', { help: 'Requests handled', labels: ['method', 'status'] });
    requests.inc({ method: 'GET', status: '200' });
    requests.inc({ method: 'GET', status: '200' }, 2);
    requests.inc({ method: 'POST', status: '500' });
    const child = requests.labels({ method: 'PUT', status: '201' });
    child.inc();
    child.inc(4);
    const plain = m.counter('app.starts', { help: 'Starts' });
    plain.inc();
    plain.inc(0);
    const queue = m.gauge('app.queue', { help: 'Jobs waiting', labels: ['queue'] });
    queue.set({ queue: 'a' }, 10);
    queue.inc({ queue: 'a' });
    queue.dec({ queue: 'a' }, 3);
    queue.dec({ queue: 'b' });
    const temp = m.gauge('app.temperature', { help: 'Degrees' });
    temp.set(-4.5);
    const size = m.histogram('app.size', { help: 'Sizes', labels: ['kind'], buckets: [10, 100] });
    size.observe({ kind: 'x' }, 10);
    size.observe({ kind: 'x' }, 50);
    size.observe({ kind: 'y' }, 1000);

    const snap = m.snapshot();
    expect(seriesValue(snap, 'app.requests', { method: 'GET', status: '200' })).toBe(3);
    expect(seriesValue(snap, 'app.requests', { method: 'POST', status: '500' })).toBe(1);
    expect(seriesValue(snap, 'app.requests', { method: 'PUT', status: '201' })).toBe(5);
    expect(metricOf(snap, 'app.requests')).toMatchObject({ kind: 'counter', help: 'Requests handled' });
    expect(seriesValue(snap, 'app.starts')).toBe(1);
    expect(seriesValue(snap, 'app.queue', { queue: 'a' })).toBe(8);
    expect(seriesValue(snap, 'app.queue', { queue: 'b' })).toBe(-1);
    expect(seriesValue(snap, 'app.temperature')).toBe(-4.5);
    expect(histogramOf(snap, 'app.size', { kind: 'x' })).toMatchObject({ counts: [1, 2, 2], sum: 60, count: 2 });
    expect(histogramOf(snap, 'app.size', { kind: 'y' })).toMatchObject({ counts: [0, 0, 1], sum: 1000, count: 1 });
    expect(m.stats()).toEqual({ rejected: 0, overflowed: 0 });
  });

  it('calling counter() again with the same name returns the same metric', () => {
    const telemetry = make();
    const a = telemetry.metrics.counter('app.jobs', { help: 'Jobs' });
    const b = telemetry.metrics.counter('app.jobs', { help: 'Jobs' });
    expect(b).toBe(a);
    a.inc();
    b.inc();
    expect(seriesValue(telemetry.metrics.snapshot(), 'app.jobs')).toBe(2);
  });

  it('a different kind with the same name throws', () => {
    const telemetry = make();
    telemetry.metrics.counter('app.jobs', { help: 'Jobs' });
    const error = configError(() => telemetry.metrics.gauge('app.jobs', { help: 'Jobs' }));
    expect(error.message).toContain('app.jobs');
    configError(() => telemetry.metrics.histogram('app.jobs', { help: 'Jobs' }));
  });

  it('past maxSeries, label sets go to one overflow series labelled __overflow__, and are counted', () => {
    const telemetry = make();
    const c = telemetry.metrics.counter('app.hits', { help: 'Hits', labels: ['user', 'kind'], maxSeries: 3 });
    for (const user of ['a', 'b', 'c']) c.inc({ user, kind: 'k' });
    c.inc({ user: 'd', kind: 'k' });
    c.inc({ user: 'e', kind: 'z' }, 5);
    c.inc({ user: 'a', kind: 'k' }); // an existing series still counts normally
    const snap = telemetry.metrics.snapshot();
    const series = metricOf(snap, 'app.hits')?.series ?? [];
    expect(series).toHaveLength(4);
    expect(seriesValue(snap, 'app.hits', { user: 'a', kind: 'k' })).toBe(2);
    expect(seriesValue(snap, 'app.hits', { user: OVERFLOW_VALUE, kind: OVERFLOW_VALUE })).toBe(6);
    expect(OVERFLOW_VALUE).toBe('__overflow__');
    expect(telemetry.metrics.stats().overflowed).toBe(2);
    expect(telemetry.metrics.prometheus()).toContain('mail_app_hits_total{user="__overflow__",kind="__overflow__"} 6');
  });

  it('the registry-wide maxSeries option caps host metrics by default', () => {
    const telemetry = make({ metrics: { maxSeries: 2 } });
    const g = telemetry.metrics.gauge('app.level', { help: 'Level', labels: ['id'] });
    for (const id of ['1', '2', '3']) g.set({ id }, 1);
    expect(metricOf(telemetry.metrics.snapshot(), 'app.level')?.series).toHaveLength(3);
    expect(seriesValue(telemetry.metrics.snapshot(), 'app.level', { id: OVERFLOW_VALUE })).toBe(1);
    expect(telemetry.metrics.stats().overflowed).toBe(1);
  });
});

describe('bad input never corrupts state', () => {
  /** Subscribes to the library's own events; returns the metric-rejected ones seen. */
  function rejections(telemetry: ReturnType<typeof make>): TelemetryEvent[] {
    const got: TelemetryEvent[] = [];
    telemetry.on('telemetry.*', (event) => {
      if (event.type === 'telemetry.metric-rejected') got.push(event);
    });
    return got;
  }

  it('refuses bad counter increments, counts them and reports telemetry.metric-rejected', async () => {
    const telemetry = make();
    const seen = rejections(telemetry);
    const c = telemetry.metrics.counter('app.count', { help: 'Count' });
    c.inc(2);
    const bad: unknown[] = [Number.NaN, -1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '3', true, {}];
    for (const value of bad) untyped(c).inc(value);
    await telemetry.flush();
    expect(seriesValue(telemetry.metrics.snapshot(), 'app.count')).toBe(2);
    expect(telemetry.metrics.stats().rejected).toBe(bad.length);
    expect(seen).toHaveLength(bad.length);
    expect(seen[0]?.data).toMatchObject({ id: 'app.count' });
    expect(typeof seen[0]?.data.reason).toBe('string');
    expect(telemetry.metrics.eventCount('telemetry.metric-rejected')).toBe(bad.length);
    expect(telemetry.metrics.prometheus()).toMatch(/^mail_app_count_total 2$/m);
  });

  it('refuses bad gauge values and histogram observations', () => {
    const telemetry = make();
    const g = telemetry.metrics.gauge('app.gauge', { help: 'Gauge' });
    g.set(7);
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, '8', null]) untyped(g).set(value);
    for (const value of [Number.NaN, Number.NEGATIVE_INFINITY, '1']) {
      untyped(g).inc(value);
      untyped(g).dec(value);
    }
    const h = telemetry.metrics.histogram('app.histogram', { help: 'Histogram', buckets: [1, 10] });
    h.observe(3);
    for (const value of [Number.NaN, -0.5, Number.POSITIVE_INFINITY, '3', undefined, null]) untyped(h).observe(value);
    const snap = telemetry.metrics.snapshot();
    expect(seriesValue(snap, 'app.gauge')).toBe(7);
    expect(histogramOf(snap, 'app.histogram')).toMatchObject({ counts: [0, 1, 1], sum: 3, count: 1 });
    expect(telemetry.metrics.stats().rejected).toBe(4 + 6 + 6);
    expect(telemetry.metrics.prometheus()).not.toMatch(/NaN|Inf[^"]/);
  });

  it('refuses a built-in histogram observation that is negative or NaN', () => {
    const telemetry = make();
    const h = telemetry.metrics.histogram('smtp.request-time');
    h.observe(-1);
    h.observe(Number.NaN);
    h.observe(300);
    expect(histogramOf(telemetry.metrics.snapshot(), 'smtp.request-time')).toMatchObject({ count: 1, sum: 300 });
    expect(telemetry.metrics.stats().rejected).toBe(2);
  });

  it('refuses missing labels, non-string label values and unknown label names', async () => {
    const telemetry = make();
    const seen = rejections(telemetry);
    const c = telemetry.metrics.counter('app.labelled', { help: 'Labelled', labels: ['method', 'status'] });
    c.inc({ method: 'GET', status: '200' });
    const badLabels: unknown[] = [
      undefined,
      null,
      'GET',
      {},
      { method: 'GET' },
      { method: 'GET', status: 200 },
      { method: 1, status: '200' },
      { method: 'GET', status: '201', extra: 'x' },
    ];
    for (const labels of badLabels) untyped(c).inc(labels);
    await telemetry.flush();
    const snap = telemetry.metrics.snapshot();
    expect(metricOf(snap, 'app.labelled')?.series).toHaveLength(1);
    expect(seriesValue(snap, 'app.labelled', { method: 'GET', status: '200' })).toBe(1);
    expect(telemetry.metrics.stats().rejected).toBe(badLabels.length);
    expect(seen).toHaveLength(badLabels.length);
    for (const event of seen) expect(event.data).toMatchObject({ id: 'app.labelled' });
  });

  it('refuses an unknown label name even when the known labels name an existing series', () => {
    const telemetry = make();
    const c = telemetry.metrics.counter('app.known', { help: 'Known', labels: ['method'] });
    c.inc({ method: 'GET' });
    untyped(c).inc({ method: 'GET', bogus: 'x' });
    expect(seriesValue(telemetry.metrics.snapshot(), 'app.known', { method: 'GET' })).toBe(1);
    expect(telemetry.metrics.stats().rejected).toBe(1);
  });

  it('a bound child refuses bad increments and bad labels', () => {
    const telemetry = make();
    const c = telemetry.metrics.counter('app.bound', { help: 'Bound', labels: ['kind'] });
    const child = c.labels({ kind: 'a' });
    child.inc(2);
    for (const value of [Number.NaN, -1, Number.POSITIVE_INFINITY]) untyped(child).inc(value);
    const broken = untyped(c).labels({ kind: 7 });
    broken.inc();
    const snap = telemetry.metrics.snapshot();
    expect(seriesValue(snap, 'app.bound', { kind: 'a' })).toBe(2);
    expect(metricOf(snap, 'app.bound')?.series).toHaveLength(1);
    expect(telemetry.metrics.stats().rejected).toBeGreaterThanOrEqual(4);
  });

  it('a bound child refuses non-number increments (a numeric string must not be concatenated)', () => {
    const telemetry = make();
    const c = telemetry.metrics.counter('app.bound-type', { help: 'Bound', labels: ['kind'] });
    const child = c.labels({ kind: 'a' });
    child.inc(2);
    untyped(child).inc('5');
    untyped(child).inc(true);
    const value = seriesValue(telemetry.metrics.snapshot(), 'app.bound-type', { kind: 'a' });
    expect(typeof value).toBe('number');
    expect(value).toBe(2);
    expect(telemetry.metrics.stats().rejected).toBe(2);
    expect(telemetry.metrics.prometheus()).toMatch(/^mail_app_bound_type_total\{kind="a"\} 2$/m);
  });
});

describe('invalid metric definitions throw TelemetryConfigError', () => {
  type Define = (name: unknown, options?: unknown) => unknown;

  it('bad names, built-in names and a missing help', () => {
    const telemetry = make();
    const m = telemetry.metrics;
    const counter = m.counter as unknown as Define;
    for (const name of [
      '',
      'nodot',
      'App.jobs',
      'app.Jobs',
      'app..jobs',
      'app.jobs_total',
      'app.jobs-',
      '1app.jobs',
      'app.jo bs',
      42,
    ]) {
      configError(() => counter(name, { help: 'x' }));
    }
    // Built-in gauges, histograms and event counters keep their names.
    configError(() => m.counter('smtp.connection-start', { help: 'x' }));
    configError(() => m.gauge('queue.count', { help: 'x' }));
    configError(() => m.histogram('smtp.request-time', { help: 'x' }));
    configError(() => m.counter('server.memory', { help: 'x' }));
    for (const options of [undefined, {}, { help: '' }, { help: '   ' }, { help: 'two\nlines' }, { help: 5 }]) {
      configError(() => counter('app.undocumented', options));
    }
    expect(m.snapshot().metrics.some((x) => x.name === 'app.undocumented')).toBe(false);
  });

  it('bad label names: le, __x, duplicates, non-identifiers, clashes with defaultLabels', () => {
    const telemetry = make({ metrics: { defaultLabels: { node: 'mx1' } } });
    const gauge = telemetry.metrics.gauge as unknown as Define;
    for (const labels of [['le'], ['__x'], ['a', 'a'], ['1a'], ['a-b'], [''], [3], 'method', ['node']]) {
      const error = configError(() => gauge('app.labels', { help: 'x', labels }));
      expect(error.path).toContain('labels');
    }
  });

  it('bad buckets: unsorted, duplicated, empty, NaN, Infinity, not an array', () => {
    const telemetry = make();
    const histogram = telemetry.metrics.histogram as unknown as Define;
    for (const buckets of [[5, 1], [1, 1], [], [1, Number.NaN], [1, Number.POSITIVE_INFINITY], '1,2', [1, '2']]) {
      const error = configError(() => histogram('app.buckets', { help: 'x', buckets }));
      expect(error.path).toContain('buckets');
    }
  });

  it('bad maxSeries and bad unit', () => {
    const telemetry = make();
    const counter = telemetry.metrics.counter as unknown as Define;
    for (const maxSeries of [0, -1, 1.5, Number.NaN, '10', Number.POSITIVE_INFINITY]) {
      configError(() => counter('app.capped', { help: 'x', maxSeries }));
    }
    for (const unit of ['Seconds', 'per second', 5]) configError(() => counter('app.units', { help: 'x', unit }));
  });

  it('a failed definition does not reserve the name', () => {
    const telemetry = make();
    configError(() => telemetry.metrics.counter('app.retry', { help: '' }));
    const c = telemetry.metrics.counter('app.retry', { help: 'Retried' });
    c.inc();
    expect(seriesValue(telemetry.metrics.snapshot(), 'app.retry')).toBe(1);
  });
});

describe('bad metrics options throw TelemetryConfigError', () => {
  it.each([
    ['unknown key', { metric: true }, 'options.metrics.metric'],
    ['not an object', 'yes', 'options.metrics'],
    ['bad naming', { naming: 'openmetrics' }, 'options.metrics.naming'],
    ['bad prefix', { prefix: 'mail-' }, 'options.metrics.prefix'],
    ['prefix starting with a digit', { prefix: '1mail_' }, 'options.metrics.prefix'],
    ['defaultLabels not an object', { defaultLabels: ['node'] }, 'options.metrics.defaultLabels'],
    ['defaultLabels with le', { defaultLabels: { le: '1' } }, 'options.metrics.defaultLabels'],
    ['defaultLabels with __name', { defaultLabels: { __name: 'x' } }, 'options.metrics.defaultLabels'],
    ['defaultLabels with a bad name', { defaultLabels: { 'node-name': 'x' } }, 'options.metrics.defaultLabels'],
    ['defaultLabels with a number value', { defaultLabels: { node: 1 } }, 'options.metrics.defaultLabels.node'],
    ['include not an array', { include: 'smtp.*' }, 'options.metrics.include'],
    ['bad include pattern', { include: ['smtp .*'] }, 'options.metrics.include[0]'],
    ['bad exclude pattern', { exclude: [42] }, 'options.metrics.exclude[0]'],
    ['maxSeries 0', { maxSeries: 0 }, 'options.metrics.maxSeries'],
    ['memoryInterval negative', { memoryInterval: -1 }, 'options.metrics.memoryInterval'],
    ['auth without password', { auth: { username: 'prom' } }, 'options.metrics.auth.password'],
    ['auth with an empty username', { auth: { username: '', password: 'x' } }, 'options.metrics.auth.username'],
  ])('%s', (_label, metrics, path) => {
    const error = configError(() => createUntyped({ metrics }));
    expect(error.path).toBe(path);
  });

  it('never shows the password in an error', () => {
    const secret = 'hunter2-S3cret';
    const cases: unknown[] = [
      { username: 'a:b', password: secret },
      { username: 'prom', password: secret, realm: 'x' },
      { username: 42, password: secret },
      { password: secret },
      { username: 'prom', password: [secret] },
      { username: 'prom', password: { value: secret } },
    ];
    for (const auth of cases) {
      const error = configError(() => createUntyped({ metrics: { auth } }));
      expect(error.message, JSON.stringify(auth)).not.toContain(secret);
      expect(String(error.stack)).not.toContain(secret);
    }
  });

  it('never shows the password in an error, even when auth is given as a "user:password" string', () => {
    const secret = 'hunter2-S3cret';
    const error = configError(() => createUntyped({ metrics: { auth: `prom:${secret}` } }));
    expect(error.path).toBe('options.metrics.auth');
    expect(error.message).not.toContain(secret);
  });

  it('accepts a valid full set of options', () => {
    const telemetry = make({
      metrics: {
        naming: 'stalwart',
        prefix: 'x_',
        include: ['*'],
        exclude: ['dns.*'],
        defaultLabels: { node: 'mx1' },
        maxSeries: 10,
        memoryInterval: 1000,
        auth: { username: 'prom', password: 'secret' },
      },
    });
    expect(telemetry.metrics.snapshot().metrics.length).toBeGreaterThan(300);
  });
});
