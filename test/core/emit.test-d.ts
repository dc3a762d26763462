import { describe, expectTypeOf, it } from 'vitest';
import { type BuiltinEvents, createTelemetry, defineEvents, type Level, type Span, type SpanId } from '../../src/index.js';

const telemetry = createTelemetry();

describe('emit types', () => {
  it('accepts known names with their keys and value types', () => {
    telemetry.emit('smtp.mail-from', { spanId: 1, from: 'a@example.org' });
    telemetry.emit('smtp.rcpt-to', { to: ['a@example.org', 'b@example.org'] });
    telemetry.emit('delivery.delivered', () => ({ hostname: 'mx.example.org', code: 250, elapsed: 12 }));
    telemetry.emit('queue.rescheduled', { nextRetry: new Date(), queueId: 7 });
    telemetry.emit('acme.auth-error', { remoteIp: '192.0.2.1' }); // no keys seen: any vocabulary key
    telemetry.emit('auth.success');
    telemetry.emit('acme.error', { causedBy: new Error('boom') });
  });

  it('rejects an unknown event name', () => {
    // @ts-expect-error: typo in the event name
    telemetry.emit('smtp.mail-frm', { from: 'a@example.org' });
    // @ts-expect-error: unknown category
    telemetry.enabled('nosuch.event');
  });

  it('rejects an unknown key', () => {
    // @ts-expect-error: `form` is not a key of smtp.mail-from
    telemetry.emit('smtp.mail-from', { form: 'a@example.org' });
    // @ts-expect-error: `remoteIp` was never seen with smtp.mail-from
    telemetry.emit('smtp.mail-from', { remoteIp: '192.0.2.1' });
    // @ts-expect-error: unknown key returned by a thunk
    telemetry.emit('smtp.mail-from', () => ({ sender: 'a@example.org' }));
  });

  it('rejects a wrong value type', () => {
    // @ts-expect-error: size is a number
    telemetry.emit('queue.message-queued', { size: '12kB' });
    // @ts-expect-error: to is a string or string array
    telemetry.emit('smtp.rcpt-to', { to: 42 });
    // @ts-expect-error: elapsed is milliseconds
    telemetry.emit('delivery.delivered', { elapsed: '12ms' });
    // @ts-expect-error: nextRetry is a Date or epoch ms
    telemetry.emit('queue.rescheduled', { nextRetry: 'tomorrow' });
  });
});

describe('span types', () => {
  it('requires the connection keys of a span start', () => {
    const span = telemetry.span('smtp.connection-start', {
      remoteIp: '192.0.2.1',
      remotePort: 4000,
      listenerId: 'smtp',
      localPort: 25,
    });
    expectTypeOf(span.id).toEqualTypeOf<number>();
    span.emit('smtp.ehlo', { domain: 'client.example.org' });
    span.end();
    span.end({ elapsed: 10 });
    // @ts-expect-error: remoteIp and remotePort are missing
    telemetry.span('smtp.connection-start', { listenerId: 'smtp', localPort: 25 });
    // @ts-expect-error: not a span start event
    telemetry.span('smtp.ehlo', { domain: 'x' });
    // @ts-expect-error: delivery attempts need their queueId
    telemetry.span('delivery.attempt-start', { from: 'a@example.org' });
  });
});

describe('consumer types', () => {
  it('narrows listener events by wildcard', () => {
    telemetry.on('delivery.*', (event) => {
      expectTypeOf(event.type).toExtend<`delivery.${string}`>();
      expectTypeOf(event.level).toEqualTypeOf<Level>();
      expectTypeOf(event.spanId).toEqualTypeOf<SpanId | undefined>();
    });
    telemetry.on('smtp.mail-from', (event) => {
      expectTypeOf(event.type).toEqualTypeOf<'smtp.mail-from'>();
      expectTypeOf(event.data.from).toEqualTypeOf<string | undefined>();
      // the span's keys are merged into data
      expectTypeOf(event.data.remoteIp).toEqualTypeOf<string | undefined>();
    });
    telemetry.on('*-error', (event) => {
      expectTypeOf(event.type).toExtend<`${string}-error`>();
    });
    // @ts-expect-error: not a name or a wildcard
    telemetry.on('smtp.nosuch', () => {});
  });

  it('types subscriber batches from the selected events', () => {
    telemetry.subscribe({ events: ['auth.*'], level: 'info', lossy: true, maxQueue: 100 }, (batch) => {
      for (const event of batch) expectTypeOf(event.type).toExtend<`auth.${string}`>();
    });
    telemetry.subscribe({ events: ['smtp.*'], exclude: ['smtp.raw-*'] }, (batch) => {
      for (const event of batch) expectTypeOf(event.type).toExtend<`smtp.${string}`>();
    });
    // @ts-expect-error: bad level
    telemetry.subscribe({ level: 'verbose' }, () => {});
    // @ts-expect-error: unknown exact name in exclude
    telemetry.subscribe({ exclude: ['smtp.nosuch'] }, () => {});
  });
});

describe('options types', () => {
  it('types level overrides by event name', () => {
    createTelemetry({ levels: { 'auth.success': 'debug', 'smtp.raw-input': 'disable' } });
    // @ts-expect-error: unknown event in levels
    createTelemetry({ levels: { 'auth.sucess': 'debug' } });
    // @ts-expect-error: unknown level
    createTelemetry({ levels: { 'auth.success': 'loud' } });
  });
});

describe('host events', () => {
  const events = defineEvents({
    'billing.invoice-sent': {
      id: 1000,
      description: 'Invoice mailed to a customer',
      counter: true,
      keys: { accountId: true, amount: 'number', customer: 'string' },
      required: ['accountId'],
    },
    'billing.job-start': { id: 1001, description: 'Billing job started', span: { end: 'billing.job-end' } },
    'billing.job-end': { id: 1002, description: 'Billing job finished' },
  });
  const host = createTelemetry({ events, levels: { 'billing.invoice-sent': 'warn' } });

  it('gets the same typing as built-in events', () => {
    host.emit('billing.invoice-sent', { accountId: 3, amount: 12.5, customer: 'ACME' });
    host.emit('smtp.mail-from', { from: 'a@example.org' });
    // @ts-expect-error: accountId is required
    host.emit('billing.invoice-sent', { amount: 1 });
    // @ts-expect-error: amount is a number
    host.emit('billing.invoice-sent', { accountId: 3, amount: 'twelve' });
    // @ts-expect-error: unknown key
    host.emit('billing.invoice-sent', { accountId: 3, total_: 1 });
    // @ts-expect-error: unknown host event
    host.emit('billing.invoice-sen', { accountId: 3 });
    const job = host.span('billing.job-start', {});
    job.end();
    host.on('billing.*', (event) => expectTypeOf(event.type).toExtend<`billing.${string}`>());
  });

  it('rejects bad declarations at compile time', () => {
    // @ts-expect-error: vocabulary keys keep their type and are declared as `true`
    defineEvents({ 'billing.x': { id: 1003, description: 'x', keys: { remoteIp: 'number' } } });
    // @ts-expect-error: unknown type tag
    defineEvents({ 'billing.y': { id: 1004, description: 'y', keys: { amount: 'money' } } });
    // @ts-expect-error: a built-in name cannot be redeclared
    defineEvents({ 'smtp.ehlo': { id: 1005, description: 'z' } });
  });
});

describe('a span kept by the host', () => {
  it('is typed `Span` for the built-in events, and keeps checking what it emits', () => {
    const sessions = new Map<string, Span>();
    sessions.set(
      's1',
      telemetry.span('smtp.connection-start', { remoteIp: '192.0.2.1', remotePort: 1, listenerId: 'smtp', localPort: 25 }),
    );
    const kept = sessions.get('s1');
    kept?.emit('smtp.ehlo', { domain: 'client.example.org' });
    // @ts-expect-error: `form` is not a key of smtp.mail-from
    kept?.emit('smtp.mail-from', { form: 'a@example.org' });
    expectTypeOf<Span>().toEqualTypeOf<Span<BuiltinEvents>>();
  });
});
