import { describe, expect, it } from 'vitest';
import { TelemetryConfigError } from '../../src/index.js';
import { connection, make } from '../support/telemetry.js';
import { buffered, types } from './helpers.js';

describe('live.events(filter): names, wildcards and level', () => {
  it('streams the selected names at or above the level', async () => {
    const telemetry = make();
    const stream = telemetry.live.events({ events: ['smtp.*', 'auth.success'], exclude: ['smtp.quit'], level: 'info' });
    telemetry.emit('smtp.ehlo', { domain: 'a.example' }); // info
    telemetry.emit('smtp.quit'); // excluded
    telemetry.emit('smtp.raw-input', { contents: 'EHLO' }); // trace: below the level
    telemetry.emit('auth.success', { accountName: 'alice' });
    telemetry.emit('auth.error'); // not selected
    await telemetry.flush();
    expect(types(await buffered(stream))).toEqual(['smtp.ehlo', 'auth.success']);
    stream.close();
  });

  it('defaults to every event at debug and above', async () => {
    const telemetry = make();
    const stream = telemetry.live.events();
    telemetry.emit('smtp.raw-input', { contents: 'EHLO' });
    telemetry.emit('smtp.quit');
    telemetry.emit('auth.error');
    await telemetry.flush();
    expect(types(await buffered(stream))).toEqual(['smtp.quit', 'auth.error']);
    stream.close();
  });

  it('gives each stream its own selection when levels and names differ', async () => {
    const telemetry = make();
    const errors = telemetry.live.events({ events: ['auth.*', '*-error'], level: 'warn' });
    const smtp = telemetry.live.events({ events: ['smtp.*'], level: 'trace' });
    const both = telemetry.live.events({ events: ['smtp.ehlo', 'auth.error'], level: 'info' });
    telemetry.emit('smtp.raw-input', { contents: 'x' });
    telemetry.emit('smtp.ehlo', { domain: 'a' });
    telemetry.emit('auth.error');
    await telemetry.flush();
    expect(types(await buffered(errors))).toEqual(['auth.error']);
    expect(types(await buffered(smtp))).toEqual(['smtp.raw-input', 'smtp.ehlo']);
    expect(types(await buffered(both))).toEqual(['smtp.ehlo', 'auth.error']);
    // One core subscription per level in use, however many streams.
    expect(telemetry.live.stats().subscriptions).toBe(3);
    for (const s of [errors, smtp, both]) s.close();
    expect(telemetry.live.stats().subscriptions).toBe(0);
  });

  it('keeps streaming to open streams while another one joins or leaves', async () => {
    const telemetry = make();
    const first = telemetry.live.events({ events: ['smtp.ehlo'] });
    telemetry.emit('smtp.ehlo', { domain: 'one' });
    // Joining widens the shared selection: the events already queued must still reach `first`, once.
    const second = telemetry.live.events({ events: ['auth.*'] });
    telemetry.emit('smtp.ehlo', { domain: 'two' });
    telemetry.emit('auth.error');
    second.close();
    telemetry.emit('smtp.ehlo', { domain: 'three' });
    await telemetry.flush();
    expect((await buffered(first)).map((e) => e.data.domain)).toEqual(['one', 'two', 'three']);
    expect(telemetry.live.stats().subscriptions).toBe(1);
    first.close();
  });

  it('rejects bad filters with the option path', () => {
    const telemetry = make();
    expect(() => telemetry.live.events({ events: ['smtp.ehol' as never] })).toThrow(
      /live\.events\(filter\)\.events\[0\].*did you mean "smtp\.ehlo"/,
    );
    expect(() => telemetry.live.events({ level: 'loud' as never })).toThrow(TelemetryConfigError);
    expect(() => telemetry.live.events({ keys: { remoteIpp: '1' } })).toThrow(/did you mean "remoteIp"/);
    expect(() => telemetry.live.events({ keys: { remoteIp: 5 as never } })).toThrow(/keys\.remoteIp/);
    expect(() => telemetry.live.events({ bufferSize: 1 })).toThrow(/bufferSize/);
    expect(() => telemetry.live.events({ colour: 'red' } as never)).toThrow(/one of the known options/);
    expect(telemetry.live.stats().eventStreams).toBe(0);
  });
});

describe('live.events(filter): keys and free text', () => {
  it('matches camelCase keys, also spelled remote-ip and remote_ip (Stalwart lower-cases them and misses)', async () => {
    const telemetry = make();
    const spellings = ['remoteIp', 'remote-ip', 'remote_ip', 'remoteip'].map((key) =>
      telemetry.live.events({ events: ['smtp.ehlo'], keys: { [key]: '192.0.2.' } }),
    );
    telemetry.span('smtp.connection-start', connection('192.0.2.7')).emit('smtp.ehlo', { domain: 'a' });
    telemetry.span('smtp.connection-start', connection('198.51.100.1')).emit('smtp.ehlo', { domain: 'b' });
    await telemetry.flush();
    for (const stream of spellings) {
      expect((await buffered(stream)).map((e) => e.data.domain)).toEqual(['a']);
      stream.close();
    }
  });

  it('needs every key to match, case-insensitively, on the span keys too', async () => {
    const telemetry = make();
    const stream = telemetry.live.events({ level: 'info', keys: { remoteIp: '10.0.0.1', from: 'ALICE@' }, sticky: false });
    const alice = telemetry.span('smtp.connection-start', connection('10.0.0.1'));
    alice.emit('smtp.mail-from', { from: 'alice@example.org' });
    alice.emit('smtp.rcpt-to', { to: 'bob@example.org' }); // no `from`: no match without stickiness
    const other = telemetry.span('smtp.connection-start', connection('10.0.0.2'));
    other.emit('smtp.mail-from', { from: 'alice@example.org' });
    await telemetry.flush();
    const events = await buffered(stream);
    expect(types(events)).toEqual(['smtp.mail-from']);
    expect(events[0]?.data).toMatchObject({ remoteIp: '10.0.0.1', from: 'alice@example.org', spanId: alice.id });
    stream.close();
  });

  it('matches free text across every value: strings, numbers, lists, errors, dates', async () => {
    const telemetry = make();
    const find = (text: string) => telemetry.live.events({ text, level: 'trace' });
    const byPort = find('2525');
    const byList = find('carol@');
    const byError = find('disk full');
    const byDate = find('2026-01-02T');
    const none = find('nowhere');
    telemetry.emit('smtp.ehlo', { domain: 'a', spanId: 2525 });
    telemetry.emit('delivery.delivered', { to: ['bob@x', 'Carol@Example.org'] });
    telemetry.emit('store.data-write', { causedBy: new Error('Disk full') });
    telemetry.emit('delivery.failed', { queueId: 1, nextRetry: new Date('2026-01-02T03:04:05Z') });
    await telemetry.flush();
    expect(types(await buffered(byPort))).toEqual(['smtp.ehlo']);
    expect(types(await buffered(byList))).toEqual(['delivery.delivered']);
    expect(types(await buffered(byError))).toEqual(['store.data-write']);
    expect(types(await buffered(byDate))).toEqual(['delivery.failed']);
    expect(await buffered(none)).toEqual([]);
    for (const s of [byPort, byList, byError, byDate, none]) s.close();
  });
});

describe('span stickiness', () => {
  it('streams the rest of a span once one of its events matched, until the span ends', async () => {
    const telemetry = make();
    const stream = telemetry.live.events({ events: ['smtp.*'], level: 'debug', keys: { from: 'alice@' } });
    const span = telemetry.span('smtp.connection-start', connection('10.0.0.1'));
    span.emit('smtp.ehlo', { domain: 'before.example' }); // before the match: not streamed
    span.emit('smtp.mail-from', { from: 'alice@example.org' }); // the match
    span.emit('smtp.rcpt-to', { to: 'bob@example.org' }); // sticky
    span.emit('smtp.raw-input', { contents: 'DATA' }); // trace: below the level, still not streamed
    span.end(); // sticky: the end event streams, then the span is forgotten
    const other = telemetry.span('smtp.connection-start', connection('10.0.0.2'));
    other.emit('smtp.rcpt-to', { to: 'bob@example.org' }); // another span: not streamed
    await telemetry.flush();
    expect(types(await buffered(stream))).toEqual(['smtp.mail-from', 'smtp.rcpt-to', 'smtp.connection-end']);
    stream.close();
  });

  it('can be turned off, and forgets the oldest span past maxStickySpans', async () => {
    const telemetry = make({ live: { maxStickySpans: 2 } });
    const sticky = telemetry.live.events({ level: 'info', keys: { from: 'alice@' } });
    const plain = telemetry.live.events({ level: 'info', keys: { from: 'alice@' }, sticky: false });
    const spans = [1, 2, 3].map((i) => telemetry.span('smtp.connection-start', connection(`10.0.0.${i}`)));
    for (const span of spans) span.emit('smtp.mail-from', { from: 'alice@example.org' });
    for (const span of spans) span.emit('smtp.rcpt-to', { to: 'bob@example.org' });
    await telemetry.flush();
    const events = await buffered(sticky);
    // Span 1 was evicted when span 3 matched: its rcpt-to is not streamed.
    expect(events.filter((e) => e.type === 'smtp.rcpt-to').map((e) => e.spanId)).toEqual([spans[1]?.id, spans[2]?.id]);
    expect(types(await buffered(plain))).toEqual(['smtp.mail-from', 'smtp.mail-from', 'smtp.mail-from']);
    sticky.close();
    plain.close();
  });

  it('forgets a sticky span at its end even when the end event is not selected', async () => {
    const telemetry = make();
    const stream = telemetry.live.events({ events: ['smtp.mail-from', 'smtp.rcpt-to'], level: 'info', keys: { from: 'alice@' } });
    // Span ids are unique per process, so a re-used id can only be simulated with explicit spanIds.
    telemetry.emit('smtp.mail-from', { spanId: 'same', from: 'alice@example.org' });
    telemetry.emit('smtp.connection-end', { spanId: 'same' });
    telemetry.emit('smtp.rcpt-to', { spanId: 'same', to: 'bob@example.org' });
    await telemetry.flush();
    expect(types(await buffered(stream))).toEqual(['smtp.mail-from']);
    stream.close();
  });
});
