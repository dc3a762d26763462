import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as vm from 'node:vm';
import type { AttributeValue } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redactBatch } from '../../src/core/redact.js';
import { jsonLine, type TelemetryEvent, textLine } from '../../src/index.js';
import { consoleSink } from '../../src/tracing/console.js';
import { CONNECTION, make } from '../support/telemetry.js';

/** Characters other than \n that some reader takes as a line break. */
const BREAKS = ['\r', '\u000b', '\u000c', '\u001c', '\u001d', '\u001e', '\u0085', '\u2028', '\u2029'];
const breaksIn = (line: string) => [...line].filter((char) => BREAKS.includes(char));

/** The start of every text line the tracers write. */
const TEXT_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (TRACE|DEBUG|INFO|WARN|ERROR) [^\n]+ \([a-z0-9-]+\.[a-z0-9-]+\)/;
const TEXT = { multiline: false, ansi: false, journald: false };
const HUGE = `start\n${'x'.repeat(10 * 1024 * 1024)}`;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(`${os.tmpdir()}/mt-hostile-`);
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** An in-memory stream that keeps what a console sink writes. */
function memoryStream() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** A real pino logger writing into memory; every line must parse. */
function memoryPino() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(line);
      callback();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

/** Every sink this file checks, in one telemetry instance, and the library's reports. */
function setup(sensitiveKeys: string[] = []) {
  // A directory of its own for each call: property runs share one test's directory.
  const path = fs.mkdtempSync(join(dir, 'run-'));
  const textOut = memoryStream();
  const jsonOut = memoryStream();
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const pinoOut = memoryPino();
  const events = ['auth.*', 'smtp.*', 'tls.*'];
  const telemetry = make({
    sensitiveKeys,
    tracers: [
      {
        type: 'custom',
        id: 'text',
        level: 'trace',
        events,
        sink: (context) => consoleSink({ type: 'console' }, context, textOut.stream),
      },
      {
        type: 'custom',
        id: 'json',
        level: 'trace',
        events,
        sink: (context) => consoleSink({ type: 'console', format: 'json' }, context, jsonOut.stream),
      },
      { type: 'file', id: 'file', path, rotate: 'never', level: 'trace', events },
      { type: 'otel', id: 'otel', tracerProvider, level: 'trace', events },
      { type: 'pino', id: 'pino', logger: pinoOut.logger, level: 'trace', events },
    ],
  });
  const reports: TelemetryEvent[] = [];
  telemetry.subscribe({ events: ['telemetry.*'], level: 'trace' }, (batch) => {
    reports.push(...batch);
  });
  const fileText = () =>
    fs
      .readdirSync(path)
      .map((name) => fs.readFileSync(join(path, name), 'utf8'))
      .join('');
  return { telemetry, textOut, jsonOut, exporter, pinoOut, reports, fileText };
}

/** Text lines: each one a whole event line, none broken by a value. */
function textLines(text: string): string[] {
  expect(text.endsWith('\n') || text === '').toBe(true);
  const lines = text.split('\n').slice(0, -1);
  for (const line of lines) {
    expect(line).toMatch(TEXT_LINE);
    expect(breaksIn(line)).toEqual([]);
  }
  return lines;
}

/** JSON lines: each one parses. */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function isAttributeValue(value: AttributeValue | undefined): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return new Set(value.filter((v) => v !== null && v !== undefined).map((v) => typeof v)).size <= 1;
  return ['string', 'number', 'boolean'].includes(typeof value);
}

// ── hostile values ─────────────────────────────────────────────────────────

function circular(): unknown {
  const value: Record<string, unknown> = { name: 'loop' };
  value.self = value;
  value.list = [value];
  return value;
}

function throwingGetter(): unknown {
  return Object.defineProperty({ ok: 1 }, 'boom', {
    enumerable: true,
    get() {
      throw new Error('getter says no');
    },
  });
}

function otherRealm(): Record<string, unknown> {
  return vm.runInNewContext(
    '({ date: new Date(0), invalid: new Date(NaN), error: new TypeError("from a realm"), list: ["a", 1, null],' +
      ' bytes: new Uint8Array([104, 105]), nested: { deep: [new Date(NaN)] } })',
  ) as Record<string, unknown>;
}

/** Each kind of hostile value, made fresh for each use. */
const HOSTILE: Record<string, () => unknown> = {
  circular,
  bigint: () => 12345678901234567890n,
  symbol: () => Symbol('sym\nbol'),
  throwingGetter,
  throwingToJSON: () => ({
    toJSON() {
      throw new Error('toJSON says no');
    },
  }),
  undefinedToJSON: () => ({ toJSON: () => undefined }),
  protoKey: () => JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}'),
  huge: () => HUGE,
  invalidDate: () => new Date(Number.NaN),
  otherRealm,
  realmDate: () => otherRealm().invalid,
  realmError: () => otherRealm().error,
  realmArray: () => otherRealm().list,
  nullPrototype: () => Object.assign(Object.create(null), { a: 1 }),
  function: () => () => 'source\ncode',
  mixedList: () => ['a', 1, { b: [2n] }, new Date(Number.NaN), Symbol('s')],
  deep: () => {
    let value: unknown = 'bottom';
    for (let i = 0; i < 200; i++) value = { down: value };
    return value;
  },
  forging: () => 'x remoteIp = 203.0.113.66,\n2026-01-01T00:00:00.000Z ERROR forged (auth.failed) remoteIp = "203.0.113.66"',
  controls: () => '\u0000\u001b[31mred\u001b[0m\u0085\u2028\u2029\u202e"\\',
};

const hostileValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...Object.keys(HOSTILE)).map((kind) => (HOSTILE[kind] as () => unknown)()) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.anything({ withBigInt: true, withDate: true, withNullPrototype: true, withTypedArray: true, maxDepth: 3 }),
  },
);
const hostileKey = fc.constantFrom(
  'details',
  'nextRetry',
  'remoteIp',
  'accountName',
  'causedBy',
  '__proto__',
  'constructor',
  'prototype',
  'a b\n= c, remoteIp',
);

/** The data of one hostile event: its own tag, then the hostile key (as a value or a throwing getter). */
function hostileData(tag: string, key: string, value: unknown, asGetter: boolean): Record<string, unknown> {
  const data: Record<string, unknown> = { reason: tag };
  Object.defineProperty(data, key, {
    enumerable: true,
    configurable: true,
    ...(asGetter
      ? {
          get() {
            throw new Error('hostile getter');
          },
        }
      : { value, writable: true }),
  });
  return data;
}

describe('hostile values through every tracer', () => {
  it('never throw into the emitter; every line stays valid, and every innocent event arrives', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(hostileKey, hostileValue, fc.boolean()), { minLength: 1, maxLength: 4 }),
        async (hostile) => {
          const { telemetry, textOut, jsonOut, exporter, pinoOut, reports, fileText } = setup(['accountName']);
          const emit = telemetry.emit.bind(telemetry) as (name: string, data: unknown) => void;
          const session = telemetry.span('smtp.connection-start', CONNECTION);
          const spanEmit = session.emit.bind(session) as (name: string, data: unknown) => void;
          const innocent: string[] = [];
          let n = 0;
          const frame = () => {
            const tag = `innocent-${n++}`;
            innocent.push(tag);
            emit('auth.failed', { remoteIp: '192.0.2.1', reason: tag });
            spanEmit('smtp.ehlo', { domain: 'client.example.org', reason: tag });
          };
          frame();
          for (const [i, [key, value, asGetter]] of hostile.entries()) {
            expect(() => emit('auth.failed', hostileData(`hostile-${i}`, key, value, asGetter))).not.toThrow();
            expect(() => spanEmit('smtp.ehlo', hostileData(`hostile-${i}`, key, value, asGetter))).not.toThrow();
            frame();
          }
          expect(() => session.end()).not.toThrow();
          await telemetry.shutdown();

          expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
          const tags = (lines: string[]) => lines.map((line) => /reason = "(innocent-\d+)"/.exec(line)?.[1]).filter(Boolean);
          const text = textLines(textOut.text());
          // The auth.failed and the EHLO line of each frame.
          expect(tags(text)).toEqual(innocent.flatMap((tag) => [tag, tag]));
          expect(tags(textLines(fileText()))).toEqual(innocent.flatMap((tag) => [tag, tag]));
          const json = jsonLines(jsonOut.text());
          const reasonOf = (o: Record<string, unknown>) => (o.data as Record<string, unknown> | null)?.reason;
          expect(json.map(reasonOf).filter((r) => String(r).startsWith('innocent'))).toEqual(innocent.flatMap((t) => [t, t]));
          const logged = pinoOut.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
          expect(logged.map((o) => o.reason).filter((r) => String(r).startsWith('innocent'))).toEqual(
            innocent.flatMap((t) => [t, t]),
          );
          const [span] = exporter.getFinishedSpans();
          expect(exporter.getFinishedSpans()).toHaveLength(1);
          const ehlo = span?.events.map((e) => e.attributes?.reason).filter((r) => String(r).startsWith('innocent'));
          expect(ehlo).toEqual(innocent);
          for (const event of span?.events ?? [])
            for (const value of Object.values(event.attributes ?? {})) expect(isAttributeValue(value)).toBe(true);
          // Nothing a value did was worth a tracer failure: each was written with markers instead.
          expect(reports.filter((r) => r.type !== 'telemetry.events-dropped')).toEqual([]);
          // No secret under a sensitive key, at any depth, in any output.
          for (const out of [textOut.text(), jsonOut.text(), fileText(), pinoOut.lines.join('\n')])
            expect(out).not.toMatch(/accountName"?\s*[:=]\s*"(?!\[redacted\])/);
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);

  it('one event that cannot be listed costs that event alone: written around, reported and counted', async () => {
    const { telemetry, textOut, fileText, reports } = setup();
    const keyless = new Proxy(
      { reason: 'proxy' },
      {
        ownKeys() {
          throw new Error('no keys for you');
        },
      },
    );
    const emit = telemetry.emit.bind(telemetry) as (name: string, data: unknown) => void;
    emit('auth.failed', { reason: 'before' });
    emit('auth.failed', keyless);
    emit('auth.failed', { reason: 'after' });
    await telemetry.flush();
    const counted = (name: string) => {
      const series = telemetry.metrics.snapshot().metrics.find((m) => m.name === name)?.series[0];
      return series !== undefined && 'value' in series ? series.value : undefined;
    };
    const logErrors = counted('telemetry.log-error');
    const sinkErrors = counted('telemetry.subscriber-error');
    await telemetry.shutdown();
    for (const out of [textOut.text(), fileText()]) {
      expect(textLines(out).map((line) => /reason = "(\w+)"/.exec(line)?.[1])).toEqual(['before', 'after']);
    }
    // Each as its tracer's error event: the file tracer's, and the custom tracer's around the console sink.
    expect(reports.map((r) => [r.type, r.data.id, r.data.reason, r.data.details]).sort()).toEqual([
      ['telemetry.log-error', 'file', 'no keys for you', 'event auth.failed could not be written: 1 event dropped'],
      ['telemetry.subscriber-error', 'text', 'no keys for you', 'event auth.failed could not be written: 1 event dropped'],
    ]);
    expect([logErrors, sinkErrors]).toEqual([1, 1]);
  });

  it('keeps a batch whole around the values that used to lose it (an invalid date, a cycle, a BigInt, a throwing toJSON)', async () => {
    const { telemetry, textOut, jsonOut, fileText, pinoOut, reports } = setup();
    const emit = telemetry.emit.bind(telemetry) as (name: string, data: unknown) => void;
    emit('auth.failed', { reason: 'before' });
    emit('auth.failed', { nextRetry: new Date(Number.NaN) });
    emit('auth.failed', { details: circular() });
    emit('auth.failed', { total: 10n });
    emit('auth.failed', { details: HOSTILE.throwingToJSON?.() });
    emit('auth.failed', { details: throwingGetter() });
    emit('auth.failed', { reason: 'after' });
    await telemetry.shutdown();
    const text = textLines(textOut.text());
    expect(text).toHaveLength(7);
    expect(text[1]).toMatch(/nextRetry = "\[InvalidDate\]"$/);
    expect(text[2]).toContain('"self":"[Circular]"');
    expect(text[3]).toMatch(/total = 10$/);
    expect(text[4]).toMatch(/details = "\[Unreadable\]"$/);
    expect(text[5]).toContain('"boom":"[Unreadable]"');
    expect(textLines(fileText())).toEqual(text);
    expect(jsonLines(jsonOut.text())).toHaveLength(7);
    const logged = pinoOut.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged.map((o) => o.reason ?? null)).toEqual(['before', null, null, null, null, null, 'after']);
    // A throwing toJSON: pino's own marker, or the safe copy's, never a lost line.
    expect(typeof logged[4]?.details).toBe('string');
    expect(reports).toEqual([]);
  });

  it('turns hostile values into valid OTel attributes, and starts a span whatever its start keys hold', async () => {
    const { telemetry, exporter, reports } = setup();
    const realm = otherRealm();
    const start = JSON.parse('{"__proto__":{"x":1}}') as Record<string, unknown>;
    const session = telemetry.span('smtp.connection-start', Object.assign(start, CONNECTION));
    const spanEmit = session.emit.bind(session) as (name: string, data: unknown) => void;
    // An event that accepts any vocabulary key, so every key is converted.
    spanEmit('tls.handshake', {
      details: circular(),
      total: 10n,
      nextRetry: new Date(Number.NaN),
      causedBy: realm.error,
      to: realm.list,
      contents: realm.bytes,
      reason: Symbol('why'),
    });
    spanEmit('tls.handshake', { details: throwingGetter(), reason: 'after' });
    session.end();
    await telemetry.shutdown();
    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes).toMatchObject(CONNECTION);
    const [first, second] = span?.events ?? [];
    expect(first?.attributes).toEqual({
      details: '{"name":"loop","self":"[Circular]","list":["[Circular]"]}',
      total: '10',
      nextRetry: '[InvalidDate]',
      causedBy: 'TypeError: from a realm',
      to: ['a', '1', 'null'],
      contents: 'aGk=',
      reason: 'Symbol(why)',
    });
    expect(second?.attributes).toEqual({ details: '{"ok":1,"boom":"[Unreadable]"}', reason: 'after' });
    expect(reports).toEqual([]);
  });
});

describe('the text line', () => {
  it('cannot be forged: any keys and string values read back as exactly the pairs written, on one line', () => {
    const PAIR = /^(?:("(?:[^"\\]|\\.)*")|([A-Za-z_$][A-Za-z0-9_$.-]*)) = ("(?:[^"\\]|\\.)*")(, |$)/;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 30 })), {
          selector: ([key]) => key,
          maxLength: 6,
        }),
        (pairs) => {
          const data: Record<string, unknown> = {};
          for (const [key, value] of pairs)
            Object.defineProperty(data, key, { value, enumerable: true, writable: true, configurable: true });
          const line = textLine(event(data), 'Authentication failed', TEXT);
          expect(line.indexOf('\n')).toBe(line.length - 1);
          expect(breaksIn(line)).toEqual([]);
          expect(line).not.toContain('\u001b');
          let rest = line.slice(line.indexOf('(auth.failed)') + '(auth.failed)'.length, -1);
          const read: [string, string][] = [];
          if (rest !== '') {
            expect(rest.startsWith(' ')).toBe(true);
            rest = rest.slice(1);
          }
          while (rest !== '') {
            const m = PAIR.exec(rest);
            expect(m, rest).not.toBeNull();
            const [whole, quotedKey, bareKey, value] = m as RegExpExecArray;
            read.push([quotedKey === undefined ? (bareKey as string) : JSON.parse(quotedKey), JSON.parse(value as string)]);
            rest = rest.slice(whole.length);
          }
          expect(read).toEqual(Object.keys(data).map((key) => [key, data[key]]));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('quotes addresses too, so a newline in remoteIp stays inside its value', () => {
    const line = textLine(
      event({ remoteIp: '192.0.2.7\n2026-01-01T00:00:00.000Z INFO x (auth.failed) remoteIp = 203.0.113.66' }),
      'Authentication failed',
      TEXT,
    );
    expect(line).toMatch(
      /\(auth\.failed\) remoteIp = "192\.0\.2\.7\\n2026-01-01T00:00:00\.000Z INFO x \(auth\.failed\) remoteIp = 203\.0\.113\.66"\n$/,
    );
  });

  it('escapes control characters in a host description', () => {
    const line = textLine(event({}), 'Invoice\u0085sent\u2028now\u001b[31m', TEXT);
    expect(line).toContain('Invoice\\u0085sent\\u2028now\\u001b[31m (auth.failed)');
  });
});

describe('the JSON line', () => {
  it('stays valid JSON with a function-valued spanId and data whose toJSON returns undefined', () => {
    const withFunction = { ...event({ reason: 'x' }), spanId: (() => 1) as unknown as number };
    expect(() => JSON.parse(jsonLine(withFunction, 'Authentication failed'))).not.toThrow();
    const undefinedData = event({ toJSON: () => undefined });
    const parsed = JSON.parse(jsonLine(undefinedData, 'Authentication failed'));
    expect(parsed).toHaveProperty('data');
    expect(jsonLine(undefinedData, 'd')).not.toContain('undefined');
  });
});

describe('redaction', () => {
  it('reads own keys only and never sets a prototype: a __proto__ key cannot smuggle a secret into any tracer', async () => {
    const { telemetry, textOut, jsonOut, fileText, pinoOut, exporter } = setup(['accountName']);
    const emit = telemetry.emit.bind(telemetry) as (name: string, data: unknown) => void;
    emit('auth.failed', JSON.parse('{"__proto__":{"accountName":"SECRET"}}'));
    emit('auth.failed', { details: { accountName: 'SECRET', list: [{ accountName: 'SECRET' }] } });
    const session = telemetry.span('smtp.connection-start', CONNECTION);
    (session.emit.bind(session) as (name: string, data: unknown) => void)(
      'smtp.ehlo',
      JSON.parse('{"__proto__":{"accountName":"SECRET"},"constructor":{"accountName":"SECRET"},"prototype":"kept"}'),
    );
    session.end();
    await telemetry.shutdown();
    const outputs = [textOut.text(), jsonOut.text(), fileText(), pinoOut.lines.join('\n')];
    for (const out of outputs) {
      expect(out).not.toContain('SECRET');
      expect(out).toContain('[redacted]');
    }
    expect(textOut.text()).toContain('prototype = "kept"');
    const attributes = JSON.stringify(exporter.getFinishedSpans().map((s) => [s.attributes, s.events]));
    expect(attributes).not.toContain('SECRET');
    expect(Object.hasOwn(Object.prototype, 'accountName')).toBe(false);
  });

  it('copies with a __proto__ key as plain data, and leaves events without sensitive keys as they are', () => {
    const data = JSON.parse('{"__proto__":{"accountName":"SECRET"},"accountName":"alice","reason":"r"}');
    const [copy] = redactBatch([event(data)], new Set(['accountName']));
    const out = copy?.data as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'accountName', 'reason']);
    expect(out.accountName).toBe('[redacted]');
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ accountName: '[redacted]' });
    // Inherited values are never read.
    const inherited = Object.create({ accountName: 'SECRET' }) as Record<string, unknown>;
    inherited.reason = 'r';
    const plain = event(inherited);
    expect(redactBatch([plain], new Set(['accountName']))[0]).toBe(plain);
  });
});

function event(data: Record<string, unknown>): TelemetryEvent {
  const base = { id: 1, type: 'auth.failed', level: 'info' as const, timestamp: Date.UTC(2026, 10, 24, 12), data };
  return { ...base, typeId: 35, spanId: undefined, toJSON: () => base };
}
