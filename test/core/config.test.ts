import { describe, expect, it } from 'vitest';
import { defineEvents, TelemetryConfigError, type TelemetryEvent } from '../../src/index.js';
import { make, makeWithEvents } from '../support/telemetry.js';

/** createTelemetry as untyped JavaScript sees it (an instance it returns is shut down after the test). */
const createUntyped = make as unknown as (options?: unknown) => unknown;
/** defineEvents as untyped JavaScript sees it. */
const defineUntyped = defineEvents as unknown as (specs: unknown) => unknown;

/** Runs `fn`, which must throw a TelemetryConfigError, and returns that error. */
function configError(fn: () => unknown): TelemetryConfigError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected a TelemetryConfigError to be thrown').toBeInstanceOf(TelemetryConfigError);
  return thrown as TelemetryConfigError;
}

/** The message names the option path, the bad value and what is expected. */
function expectMessage(error: TelemetryConfigError, path: string, value: string, expected: string): void {
  expect(error.name).toBe('TelemetryConfigError');
  expect(error.path).toBe(path);
  expect(error.message).toContain(path);
  expect(error.message).toContain(value);
  expect(error.message).toContain(expected);
}

describe('createTelemetry options', () => {
  const cases: [title: string, options: unknown, path: string, value: string, expected: string][] = [
    ['a number for options', 42, 'options', '42', 'an object'],
    ['a string for options', 'mail', 'options', '"mail"', 'an object'],
    ['an array for options', [], 'options', 'an array', 'an object'],
    ['an unknown top-level key', { servce: 'mx1' }, 'options.servce', '"servce"', 'service'],
    ['an empty service', { service: '' }, 'options.service', '""', 'a non-empty string'],
    ['a blank service', { service: '   ' }, 'options.service', '"   "', 'a non-empty string'],
    ['a number for service', { service: 7 }, 'options.service', '7', 'a non-empty string'],
    ['levels not an object', { levels: 'debug' }, 'options.levels', '"debug"', 'an object'],
    [
      'a bad level value',
      { levels: { 'auth.success': 'loud' } },
      'options.levels["auth.success"]',
      '"loud"',
      'trace, debug, info, warn, error or disable',
    ],
    ['spans.maxOpen 0', { spans: { maxOpen: 0 } }, 'options.spans.maxOpen', '0', 'an integer of at least 1'],
    ['spans.maxOpen -1', { spans: { maxOpen: -1 } }, 'options.spans.maxOpen', '-1', 'an integer of at least 1'],
    ['spans.maxOpen 1.5', { spans: { maxOpen: 1.5 } }, 'options.spans.maxOpen', '1.5', 'an integer of at least 1'],
    ["spans.maxOpen 'x'", { spans: { maxOpen: 'x' } }, 'options.spans.maxOpen', '"x"', 'an integer of at least 1'],
    ['spans.maxAge -5', { spans: { maxAge: -5 } }, 'options.spans.maxAge', '-5', 'a positive finite number'],
    [
      'spans.sweepInterval 0',
      { spans: { sweepInterval: 0 } },
      'options.spans.sweepInterval',
      '0',
      'milliseconds from 1 to 2147483647',
    ],
    [
      'spans.sweepInterval 2^31',
      { spans: { sweepInterval: 2 ** 31 } },
      'options.spans.sweepInterval',
      '2147483648',
      'milliseconds from 1 to 2147483647',
    ],
    ['an unknown spans key', { spans: { maxopen: 3 } }, 'options.spans.maxopen', '"maxopen"', 'maxOpen'],
    ['spans not an object', { spans: 3 }, 'options.spans', '3', 'an object'],
    ['now not a function', { now: 'x' }, 'options.now', '"x"', 'a function'],
    ['now a number', { now: 1700000000000 }, 'options.now', '1700000000000', 'a function'],
  ];

  it.each(cases)('rejects %s', (_title, options, path, value, expected) => {
    expectMessage(
      configError(() => createUntyped(options)),
      path,
      value,
      expected,
    );
  });

  it('rejects an unknown event in levels and suggests the nearest name', () => {
    const error = configError(() => createUntyped({ levels: { 'smtp.ehol': 'debug' } }));
    expectMessage(error, 'options.levels["smtp.ehol"]', '"smtp.ehol"', 'a known event name');
    expect(error.message).toContain('did you mean "smtp.ehlo"');
  });

  it.each([
    ['service', { service: null }, 'options.service'],
    ['spans', { spans: null }, 'options.spans'],
    ['levels', { levels: null }, 'options.levels'],
  ])('does not silently take null for %s', (_title, options, path) => {
    expectMessage(
      configError(() => createUntyped(options)),
      path,
      'null',
      '',
    );
  });

  it('accepts good options', () => {
    const telemetry = make({
      service: 'mx1.example.org',
      levels: { 'smtp.ehlo': 'debug', 'auth.success': 'disable' },
      spans: { maxOpen: 10, maxAge: 60_000, sweepInterval: 1000 },
      now: () => Date.now(),
    });
    expect(telemetry.service).toBe('mx1.example.org');
    expect(make().service).toBe('mail-server');
  });
});

describe('subscribe options', () => {
  const subscribeUntyped = (options: unknown, handler: unknown = () => {}) => {
    const telemetry = make();
    return (telemetry.subscribe as unknown as (options: unknown, handler: unknown) => unknown)(options, handler);
  };

  const cases: [title: string, options: unknown, path: string, value: string, expected: string][] = [
    ['options not an object', 'smtp.*', 'subscribe(options)', '"smtp.*"', 'an object'],
    ['an unknown option', { evnets: ['smtp.*'] }, 'subscribe(options).evnets', '"evnets"', 'events'],
    ['a bad level', { level: 'verbose' }, 'subscribe(options).level', '"verbose"', 'trace, debug, info, warn or error'],
    ['disable as a level', { level: 'disable' }, 'subscribe(options).level', '"disable"', 'trace, debug, info, warn or error'],
    ['maxQueue 0', { maxQueue: 0 }, 'subscribe(options).maxQueue', '0', 'an integer of at least 1'],
    ['maxQueue 2.5', { maxQueue: 2.5 }, 'subscribe(options).maxQueue', '2.5', 'an integer of at least 1'],
    ['maxBatch 0', { maxBatch: 0 }, 'subscribe(options).maxBatch', '0', 'an integer of at least 1'],
    ['lossy not a boolean', { lossy: 'yes' }, 'subscribe(options).lossy', '"yes"', 'a boolean'],
    ['an empty id', { id: '' }, 'subscribe(options).id', '""', 'a non-empty string'],
    ['events not an array', { events: 'smtp.*' }, 'subscribe(options).events', '"smtp.*"', 'an array'],
    [
      'a wildcard matching nothing',
      { events: ['nosuch.*'] },
      'subscribe(options).events[0]',
      '"nosuch.*"',
      'a wildcard that matches at least one event',
    ],
    ['upper-case characters', { events: ['SMTP.*'] }, 'subscribe(options).events[0]', '"SMTP.*"', 'an event name or wildcard'],
    ['a $ in a pattern', { events: ['smtp.$'] }, 'subscribe(options).events[0]', '"smtp.$"', 'an event name or wildcard'],
    ['a space in a pattern', { events: ['smtp.*', 'smtp ehlo'] }, 'subscribe(options).events[1]', '"smtp ehlo"', 'an event name'],
    ['a regex in a pattern', { events: ['smtp.(ehlo|helo)'] }, 'subscribe(options).events[0]', '"smtp.(ehlo|helo)"', 'wildcard'],
    ['a number as a pattern', { events: [42] }, 'subscribe(options).events[0]', '42', 'an event name or wildcard'],
    ['a bad exclude pattern', { exclude: ['nosuch.*'] }, 'subscribe(options).exclude[0]', '"nosuch.*"', 'matches at least one'],
  ];

  it.each(cases)('rejects %s', (_title, options, path, value, expected) => {
    expectMessage(
      configError(() => subscribeUntyped(options)),
      path,
      value,
      expected,
    );
  });

  it('rejects an unknown exact event name and suggests the nearest', () => {
    const error = configError(() => subscribeUntyped({ events: ['smtp.ehol'] }));
    expectMessage(error, 'subscribe(options).events[0]', '"smtp.ehol"', 'a known event name');
    expect(error.message).toContain('did you mean "smtp.ehlo"');
  });

  it('rejects a handler that is not a function', () => {
    expectMessage(
      configError(() => subscribeUntyped({}, 'not a function')),
      'subscribe(handler)',
      '"not a function"',
      'a function',
    );
  });

  it('rejects a bad on() pattern', () => {
    const telemetry = make();
    const on = telemetry.on as unknown as (pattern: unknown, listener: unknown) => unknown;
    expectMessage(
      configError(() => on.call(telemetry, 'nosuch.*', () => {})),
      'on(pattern)[0]',
      '"nosuch.*"',
      'matches at least one event',
    );
    expectMessage(
      configError(() => on.call(telemetry, 'smtp.*', 'x')),
      'on(listener)',
      '"x"',
      'a function',
    );
  });
});

describe('host event declarations', () => {
  const good = { id: 1000, description: 'Invoice mailed to a customer' };
  const at = 'options.events["billing.invoice-sent"]';

  const cases: [title: string, specs: unknown, path: string, value: string, expected: string][] = [
    ['an id below 1000', { 'billing.invoice-sent': { ...good, id: 999 } }, `${at}.id`, '999', 'an integer from 1000 to 65535'],
    ['an id above 65535', { 'billing.invoice-sent': { ...good, id: 65536 } }, `${at}.id`, '65536', 'from 1000 to 65535'],
    ['a fractional id', { 'billing.invoice-sent': { ...good, id: 1000.5 } }, `${at}.id`, '1000.5', 'an integer'],
    ['a string id', { 'billing.invoice-sent': { ...good, id: '1000' } }, `${at}.id`, '"1000"', 'an integer'],
    [
      'a duplicate id',
      { 'billing.invoice-paid': { ...good, id: 1001 }, 'billing.invoice-sent': { ...good, id: 1001 } },
      `${at}.id`,
      '1001',
      'already used by "billing.invoice-paid"',
    ],
    ['a built-in name', { 'smtp.ehlo': good }, 'options.events["smtp.ehlo"]', '"smtp.ehlo"', 'not a built-in event'],
    ['a name without category', { invoice: good }, 'options.events["invoice"]', '"invoice"', 'category.kebab-name'],
    [
      'an upper-case name',
      { 'Billing.InvoiceSent': good },
      'options.events["Billing.InvoiceSent"]',
      '"Billing.InvoiceSent"',
      'category.kebab-name',
    ],
    [
      'an underscore in a name',
      { 'billing.invoice_sent': good },
      'options.events["billing.invoice_sent"]',
      '"billing.invoice_sent"',
      'category.kebab-name',
    ],
    [
      'a vocabulary key not given as true',
      { 'billing.invoice-sent': { ...good, keys: { accountId: 'number' } } },
      `${at}.keys.accountId`,
      '"number"',
      'true',
    ],
    [
      'an unknown type tag',
      { 'billing.invoice-sent': { ...good, keys: { amount: 'money' } } },
      `${at}.keys.amount`,
      '"money"',
      'a type tag',
    ],
    [
      'a key that is not camelCase',
      { 'billing.invoice-sent': { ...good, keys: { 'invoice-no': 'string' } } },
      `${at}.keys.invoice-no`,
      '"invoice-no"',
      'camelCase',
    ],
    [
      'required naming an undeclared key',
      { 'billing.invoice-sent': { ...good, keys: { amount: 'number' }, required: ['invoiceNo'] } },
      `${at}.required[0]`,
      '"invoiceNo"',
      'a key the event declares',
    ],
    [
      'span.end naming an unknown event',
      { 'billing.invoice-sent': { ...good, span: { end: 'billing.nope' } } },
      `${at}.span.end`,
      '"billing.nope"',
      'another event',
    ],
    ['an empty description', { 'billing.invoice-sent': { ...good, description: '' } }, `${at}.description`, '""', 'non-empty'],
    ['a missing description', { 'billing.invoice-sent': { id: 1000 } }, `${at}.description`, 'undefined', 'non-empty'],
    [
      'a multi-line description',
      { 'billing.invoice-sent': { ...good, description: 'one\ntwo' } },
      `${at}.description`,
      '"one\\ntwo"',
      'one-line',
    ],
    ['a bad level', { 'billing.invoice-sent': { ...good, level: 'loud' } }, `${at}.level`, '"loud"', 'trace, debug, info'],
    ['a non-boolean counter', { 'billing.invoice-sent': { ...good, counter: 1 } }, `${at}.counter`, '1', 'a boolean'],
    ['an unknown field', { 'billing.invoice-sent': { ...good, levle: 'warn' } }, `${at}.levle`, '"levle"', 'level'],
  ];

  it.each(cases)('rejects %s', (_title, specs, path, value, expected) => {
    expectMessage(
      configError(() => createUntyped({ events: defineUntyped(specs) })),
      path,
      value,
      expected,
    );
  });

  it('rejects events that did not come from defineEvents', () => {
    expectMessage(
      configError(() => createUntyped({ events: { 'billing.invoice-sent': good } })),
      'options.events',
      'an object',
      'defineEvents',
    );
  });
});

describe('host events work like built-in ones', () => {
  const events = defineEvents({
    'billing.invoice-sent': {
      id: 1000,
      description: 'Invoice mailed to a customer',
      level: 'warn',
      counter: true,
      keys: { accountId: true, amount: 'number' },
      required: ['accountId'],
    },
    'billing.session-start': {
      id: 1001,
      description: 'Billing session opened',
      keys: { accountId: true, region: 'string' },
      required: ['accountId'],
      span: { end: 'billing.session-end' },
    },
    'billing.session-end': { id: 1002, description: 'Billing session closed', counter: true },
    'billing.audit-sent': { id: 1003, description: 'Audit line written', level: 'debug' },
  });

  it('emit, count with no subscriber, carry their level and match wildcards', async () => {
    const telemetry = makeWithEvents({ events });
    telemetry.emit('billing.invoice-sent', { accountId: 7, amount: 12.5 });
    expect(telemetry.metrics.eventCount('billing.invoice-sent')).toBe(1);
    expect(telemetry.enabled('billing.audit-sent')).toBe(false);

    const billing: TelemetryEvent[] = [];
    const sent: TelemetryEvent[] = [];
    const warn: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['billing.*'] }, (batch) => {
      billing.push(...batch);
    });
    telemetry.subscribe({ events: ['*-sent'] }, (batch) => {
      sent.push(...batch);
    });
    telemetry.subscribe({ level: 'warn', events: ['billing.*'] }, (batch) => {
      warn.push(...batch);
    });
    telemetry.emit('billing.invoice-sent', () => ({ accountId: 8, amount: 3 }));
    telemetry.emit('billing.audit-sent', { details: 'ok' });
    await telemetry.flush();
    expect(telemetry.metrics.eventCount('billing.invoice-sent')).toBe(2);
    expect(billing.map((e) => [e.type, e.level, e.typeId])).toEqual([
      ['billing.invoice-sent', 'warn', 1000],
      ['billing.audit-sent', 'debug', 1003],
    ]);
    expect(billing[0]!.data).toEqual({ accountId: 8, amount: 3 });
    expect(sent.map((e) => e.type)).toEqual(['billing.invoice-sent', 'billing.audit-sent']);
    expect(warn.map((e) => e.type)).toEqual(['billing.invoice-sent']);
    expect(telemetry.describe('billing.invoice-sent')).toMatchObject({
      name: 'billing.invoice-sent',
      id: 1000,
      level: 'warn',
      counter: true,
      origin: 'host',
      description: 'Invoice mailed to a customer',
    });
    expect(telemetry.events().filter((e) => e.origin === 'host')).toHaveLength(4);
    expect(telemetry.metrics.eventCounts()).toMatchObject({ 'billing.invoice-sent': 2, 'billing.session-end': 0 });
  });

  it('take level overrides', async () => {
    const telemetry = makeWithEvents({ events, levels: { 'billing.invoice-sent': 'disable', 'billing.audit-sent': 'error' } });
    const got: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['billing.*'], level: 'error' }, (batch) => {
      got.push(...batch);
    });
    telemetry.emit('billing.invoice-sent', { accountId: 1 });
    telemetry.emit('billing.audit-sent');
    await telemetry.flush();
    expect(got.map((e) => [e.type, e.level])).toEqual([['billing.audit-sent', 'error']]);
    expect(telemetry.metrics.eventCount('billing.invoice-sent')).toBe(0);
  });

  it('a host span start/end pair works', async () => {
    let clock = Date.UTC(2025, 2, 3);
    const telemetry = makeWithEvents({ events, now: () => clock });
    const got: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['billing.*'] }, (batch) => {
      got.push(...batch);
    });
    const span = telemetry.span('billing.session-start', { accountId: 42, region: 'eu' });
    expect(telemetry.describe('billing.session-start').spanEnd).toBe('billing.session-end');
    span.emit('billing.invoice-sent', { accountId: 43, amount: 9 });
    clock += 750;
    span.end();
    await telemetry.flush();
    expect(got.map((e) => e.type)).toEqual(['billing.session-start', 'billing.invoice-sent', 'billing.session-end']);
    for (const e of got) expect(e.spanId).toBe(span.id);
    expect(got[1]!.data).toEqual({ accountId: 43, amount: 9, region: 'eu', spanId: span.id });
    expect(got[2]!.data).toEqual({ accountId: 42, region: 'eu', spanId: span.id, elapsed: 750 });
    expect(telemetry.metrics.eventCount('billing.session-end')).toBe(1);
    expect(telemetry.stats().openSpans).toBe(0);
  });
});
