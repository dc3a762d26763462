import { describe, expect, it } from 'vitest';
import { type HistoryEvent, HistoryQueryError, TelemetryConfigError } from '../../src/index.js';
import { connection, make, session } from '../support/telemetry.js';

const T0 = Date.UTC(2026, 0, 1);

/** A telemetry with an injected clock and a history, plus a helper that moves the clock. */
function setup(history: Parameters<typeof make>[0] extends infer O ? (O extends { history?: infer H } ? H : never) : never = {}) {
  let now = T0;
  const telemetry = make({ now: () => now, history });
  return { telemetry, tick: (ms: number) => (now += ms), now: () => now };
}

const types = (items: readonly HistoryEvent[]) => items.map((e) => e.type);

describe('history.events', () => {
  it('keeps info and above by default, newest first, with span keys merged in', async () => {
    const { telemetry } = setup();
    session(telemetry, { connection: connection('192.0.2.7'), from: 'alice@example.org', to: ['bob@example.com'] });
    await telemetry.flush();
    const page = await telemetry.history.events();
    // connection-start/end are debug: the default level leaves them out of the event ring.
    expect(types(page.items)).toEqual(['smtp.rcpt-to', 'smtp.mail-from', 'smtp.ehlo']);
    expect(page.items[0]?.data).toMatchObject({ to: 'bob@example.com', remoteIp: '192.0.2.7' });
    expect(page.cursor).toBeUndefined();
    expect(JSON.parse(JSON.stringify(page.items[0]))).toMatchObject({ type: 'smtp.rcpt-to', level: 'info' });
  });

  it('filters by names, wildcards, level, time range and span', async () => {
    const { telemetry, tick } = setup({ level: 'trace' });
    const first = session(telemetry, {
      connection: connection('192.0.2.7'),
      from: 'alice@example.org',
      to: ['bob@example.com'],
    }).id;
    await telemetry.flush();
    tick(60_000);
    const second = session(telemetry, {
      connection: connection('198.51.100.9'),
      from: 'carol@example.net',
      to: ['dave@example.com'],
    }).id;
    telemetry.emit('auth.failed', { accountName: 'mallory', remoteIp: '203.0.113.5' });
    await telemetry.flush();
    const h = telemetry.history;
    expect(types((await h.events({ types: ['smtp.connection-*'] })).items)).toEqual([
      'smtp.connection-end',
      'smtp.connection-start',
      'smtp.connection-end',
      'smtp.connection-start',
    ]);
    expect(types((await h.events({ types: ['auth.failed', 'smtp.ehlo'] })).items)).toEqual([
      'auth.failed',
      'smtp.ehlo',
      'smtp.ehlo',
    ]);
    expect((await h.events({ level: 'info', spanId: first })).items).toHaveLength(3);
    expect((await h.events({ spanId: second })).items.every((e) => e.spanId === second)).toBe(true);
    expect((await h.events({ from: T0 + 60_000 })).items.every((e) => e.timestamp >= T0 + 60_000)).toBe(true);
    expect((await h.events({ to: T0 })).items.every((e) => e.spanId === first)).toBe(true);
    const atInfo = (await h.events({ level: 'info' })).items;
    expect(atInfo.length).toBeGreaterThan(0);
    expect(atInfo.every((e) => e.level === 'info' || e.level === 'warn' || e.level === 'error')).toBe(true);
    expect(types(atInfo)).not.toContain('smtp.connection-start');
  });

  it('matches keys exactly or by substring, arrays by item, and free text over every value', async () => {
    const { telemetry } = setup({ level: 'debug' });
    session(telemetry, {
      connection: connection('192.0.2.7'),
      from: 'alice@example.org',
      to: ['bob@example.com', 'eve@example.net'],
    });
    session(telemetry, { connection: connection('192.0.2.70'), from: 'Zed@Example.ORG', to: ['carol@example.com'] });
    telemetry.emit('smtp.rcpt-to', { to: ['x@a.test', 'y@b.test'] });
    telemetry.emit('auth.failed', { accountName: 'mallory', details: 'Bad PASSWORD for mallory' });
    await telemetry.flush();
    const h = telemetry.history;
    // Exact: 192.0.2.7 must not match 192.0.2.70 (6 events per first session, 5 in the second).
    expect((await h.events({ keys: { remoteIp: '192.0.2.7' } })).items).toHaveLength(6);
    expect((await h.events({ keys: { remoteIp: { contains: '192.0.2.7' } } })).items).toHaveLength(11);
    expect(
      (await h.events({ types: ['smtp.mail-from'], keys: { from: { contains: 'example.org' } } })).items.map((e) => e.data.from),
    ).toEqual(['Zed@Example.ORG', 'alice@example.org']);
    expect((await h.events({ keys: { to: 'y@b.test' } })).items).toHaveLength(1);
    expect((await h.events({ keys: { to: 'eve@example.net', remoteIp: '192.0.2.7' } })).items).toHaveLength(1);
    expect((await h.events({ keys: { accountName: 'mallory' } })).items).toHaveLength(1);
    // `details` is not an indexed key: it is scanned, with the same semantics.
    expect((await h.events({ keys: { details: { contains: 'password' } } })).items).toHaveLength(1);
    expect((await h.events({ text: 'PASSWORD' })).items.map((e) => e.type)).toEqual(['auth.failed']);
    expect((await h.events({ text: 'helo.192.0.2.70' })).items.map((e) => e.type)).toEqual(['smtp.ehlo']);
    expect((await h.events({ keys: { remoteIp: '10.0.0.1' } })).items).toEqual([]);
  });

  it('pages with limit and an opaque cursor, stable while new events arrive', async () => {
    const { telemetry } = setup();
    for (let i = 0; i < 25; i++) telemetry.emit('smtp.ehlo', { domain: `d${i}.test` });
    await telemetry.flush();
    const h = telemetry.history;
    const first = await h.events({ limit: 10 });
    expect(first.items.map((e) => e.data.domain)).toEqual(Array.from({ length: 10 }, (_, i) => `d${24 - i}.test`));
    for (let i = 25; i < 30; i++) telemetry.emit('smtp.ehlo', { domain: `d${i}.test` });
    await telemetry.flush();
    const second = await h.events({ limit: 10, cursor: first.cursor as string });
    expect(second.items.map((e) => e.data.domain)).toEqual(Array.from({ length: 10 }, (_, i) => `d${14 - i}.test`));
    const third = await h.events({ limit: 10, cursor: second.cursor as string });
    expect(third.items).toHaveLength(5);
    expect(third.cursor).toBeUndefined();
  });

  it('keeps only `capacity` events and drops events older than `maxAge`', async () => {
    const { telemetry, tick } = setup({ capacity: 3, maxAge: 1000 });
    for (let i = 0; i < 5; i++) telemetry.emit('smtp.ehlo', { domain: `d${i}.test` });
    await telemetry.flush();
    expect((await telemetry.history.events()).items.map((e) => e.data.domain)).toEqual(['d4.test', 'd3.test', 'd2.test']);
    tick(500);
    telemetry.emit('smtp.ehlo', { domain: 'late.test' });
    await telemetry.flush();
    tick(600);
    await telemetry.history.purge();
    expect((await telemetry.history.events()).items.map((e) => e.data.domain)).toEqual(['late.test']);
  });

  it('takes only the chosen events; raw I/O is left out by default', async () => {
    const { telemetry } = setup({ events: ['smtp.*'], exclude: ['smtp.ehlo'], level: 'trace' });
    telemetry.emit('smtp.ehlo', { domain: 'x.test' });
    telemetry.emit('smtp.mail-from', { from: 'a@x.test' });
    telemetry.emit('smtp.raw-input', { contents: 'MAIL FROM:<a@x.test>' });
    telemetry.emit('auth.failed', { accountName: 'a' });
    await telemetry.flush();
    // smtp.raw-input is excluded only by the default; an explicit exclude replaces it.
    expect(types((await telemetry.history.events()).items)).toEqual(['smtp.raw-input', 'smtp.mail-from']);
    const { telemetry: defaults } = setup({ level: 'trace' });
    defaults.emit('smtp.raw-input', { contents: 'EHLO x' });
    defaults.emit('smtp.ehlo', { domain: 'x' });
    await defaults.flush();
    expect(types((await defaults.history.events()).items)).toEqual(['smtp.ehlo']);
  });

  it('rejects bad queries with HistoryQueryError naming the field', async () => {
    const { telemetry } = setup();
    const h = telemetry.history;
    const bad: [unknown, string][] = [
      [{ limit: 0 }, 'limit'],
      [{ limit: 10_001 }, 'limit'],
      [{ level: 'loud' }, 'level'],
      [{ types: ['SMTP'] }, 'types'],
      [{ types: 'smtp.*' }, 'types'],
      [{ keys: { remoteIp: { contains: '' } } }, 'keys.remoteIp'],
      [{ keys: { 'bad key': 'x' } }, 'keys.bad key'],
      [{ keys: { remoteIp: null } }, 'keys.remoteIp'],
      [{ from: 10, to: 5 }, 'from'],
      [{ from: 'yesterday' }, 'from'],
      [{ cursor: 'nonsense' }, 'cursor'],
      [{ text: '' }, 'text'],
      [{ colour: 'red' }, 'colour'],
      ['everything', 'query'],
    ];
    for (const [query, field] of bad) {
      const error = await h.events(query as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(query)).toBeInstanceOf(HistoryQueryError);
      expect((error as HistoryQueryError).field).toBe(field);
    }
    await expect(h.traces({ type: 'smtp.*' })).rejects.toThrow(HistoryQueryError);
    await expect(h.traces({ limit: -1 })).rejects.toThrow(/limit/);
  });

  it('answers empty results when history is off (history: false)', async () => {
    const telemetry = make({ history: false });
    expect(telemetry.history.enabled).toBe(false);
    expect(telemetry.history.recordsSeries).toBe(false);
    expect(await telemetry.history.events()).toEqual({ items: [] });
    expect(await telemetry.history.series()).toEqual([]);
    expect(await telemetry.history.trace(1)).toBeUndefined();
    await expect(telemetry.history.events({ limit: 0 })).rejects.toThrow(HistoryQueryError);
  });
});

describe('history options', () => {
  const bad: [unknown, string][] = [
    ['yes', 'options.history'],
    [{ capacity: 0 }, 'options.history.capacity'],
    [{ capacity: 1.5 }, 'options.history.capacity'],
    [{ maxAge: -1 }, 'options.history.maxAge'],
    [{ level: 'verbose' }, 'options.history.level'],
    [{ events: 'smtp.*' }, 'options.history.events'],
    [{ events: ['smtp.nope'] }, 'options.history.events[0]'],
    [{ exclude: ['Bad Pattern'] }, 'options.history.exclude[0]'],
    [{ indexKeys: ['remote ip'] }, 'options.history.indexKeys[0]'],
    [{ traces: { maxSpanEvents: 1 } }, 'options.history.traces.maxSpanEvents'],
    [{ traces: { keep: true } }, 'options.history.traces.keep'],
    [{ traces: { events: ['nope.*'] } }, 'options.history.traces.events[0]'],
    [{ traces: { colour: 1 } }, 'options.history.traces.colour'],
    [{ traces: { level: 'loud' } }, 'options.history.traces.level'],
    [{ series: { interval: 0 } }, 'options.history.series.interval'],
    [{ series: { metrics: [] } }, 'options.history.series.metrics'],
    [{ series: { metrics: ['Bad Name'] } }, 'options.history.series.metrics[0]'],
    [{ store: {} }, 'options.history.store'],
    [{ store: { append() {} } }, 'options.history.store'],
    [{ maxQueue: 0 }, 'options.history.maxQueue'],
    [{ colour: 'red' }, 'options.history.colour'],
    [{ authorize: 'admin' }, 'options.history.authorize'],
  ];
  it.each(bad)('rejects %j at %s', (history, path) => {
    let error: unknown;
    try {
      make({ history: history as never });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TelemetryConfigError);
    expect((error as TelemetryConfigError).path).toBe(path);
  });

  it('lists the known options for an unknown key', () => {
    expect(() => make({ history: { colour: 'red' } as never })).toThrow(/known options: events, exclude, level/);
  });
});
