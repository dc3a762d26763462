import { describe, expectTypeOf, it } from 'vitest';
import type { HostEventMap, HostEvents } from '../../src/catalog/define.js';
import type { BuiltinEvents } from '../../src/catalog/generated.js';
import type { CheckPattern, EventName, MatchPattern, NoEventMatches } from '../../src/catalog/types.js';
import { createTelemetry, defineEvents } from '../../src/index.js';
import type { TelemetryOptions } from '../../src/options.js';

type Names = EventName<BuiltinEvents>;
const telemetry = createTelemetry();
declare const wide: string;
declare const wideList: string[];

const hostEvents = defineEvents({
  'billing.invoice-sent': { id: 1000, description: 'Invoice mailed to a customer', keys: { amount: 'number' } },
});
const host = createTelemetry({ events: hostEvents });
type HostNames = EventName<BuiltinEvents & HostEventMap<{ 'billing.invoice-sent': { id: 1000; description: string } }>>;

/** What `createTelemetry` checks tracer selectors with, once it infers them (`T`) as `subscribe` does. */
declare function configure<const T extends string = string>(options: TelemetryOptions<HostEvents, Names, T>): void;

describe('wildcard selectors are checked against the event names', () => {
  it('accepts names and wildcards that match at least one event, and a wide string', () => {
    expectTypeOf<CheckPattern<'auth.*', Names>>().toEqualTypeOf<'auth.*'>();
    expectTypeOf<CheckPattern<'*', Names>>().toEqualTypeOf<'*'>();
    expectTypeOf<CheckPattern<'*-error', Names>>().toEqualTypeOf<'*-error'>();
    expectTypeOf<CheckPattern<'smtp.*-start', Names>>().toEqualTypeOf<'smtp.*-start'>();
    expectTypeOf<CheckPattern<'*.connection*', Names>>().toEqualTypeOf<'*.connection*'>();
    expectTypeOf<CheckPattern<'smtp.mail-from', Names>>().toEqualTypeOf<'smtp.mail-from'>();
    // `*` may stand for no character at all, as at run time.
    expectTypeOf<CheckPattern<'auth.success*', Names>>().toEqualTypeOf<'auth.success*'>();
    expectTypeOf<CheckPattern<string, Names>>().toEqualTypeOf<string>();
  });

  it('turns a selector that matches nothing into a message the compiler quotes', () => {
    expectTypeOf<CheckPattern<'autth.*', Names>>().toEqualTypeOf<NoEventMatches<'autth.*'>>();
    expectTypeOf<CheckPattern<'*-errror', Names>>().toEqualTypeOf<NoEventMatches<'*-errror'>>();
    expectTypeOf<CheckPattern<'smtp.*-stort', Names>>().toEqualTypeOf<NoEventMatches<'smtp.*-stort'>>();
    // Pieces may not overlap: `auth.success` is not `auth.succ` + … + `success`.
    expectTypeOf<CheckPattern<'auth.succ*success', Names>>().toEqualTypeOf<NoEventMatches<'auth.succ*success'>>();
    expectTypeOf<CheckPattern<'nosuch.event', Names>>().toEqualTypeOf<NoEventMatches<'nosuch.event'>>();
    // A host event's names count as the catalogue's do.
    expectTypeOf<CheckPattern<'billing.*', Names>>().toEqualTypeOf<NoEventMatches<'billing.*'>>();
    expectTypeOf<CheckPattern<'billing.*', HostNames>>().toEqualTypeOf<'billing.*'>();
  });

  it('computes the names a selector matches', () => {
    expectTypeOf<MatchPattern<'smtp.connection-*', Names>>().toEqualTypeOf<'smtp.connection-start' | 'smtp.connection-end'>();
    expectTypeOf<MatchPattern<'auth.*-expired', Names>>().toEqualTypeOf<'auth.credential-expired' | 'auth.token-expired'>();
    expectTypeOf<MatchPattern<'autth.*', Names>>().toBeNever();
  });
});

describe('subscribe', () => {
  it('takes names and matching wildcards, and types the batch by them', () => {
    telemetry.subscribe({ events: ['auth.*', '*-error', 'smtp.mail-from'], exclude: ['auth.success'] }, (batch) => {
      expectTypeOf(batch[0]?.type).toExtend<`auth.${string}` | `${string}-error` | 'smtp.mail-from' | undefined>();
    });
    telemetry.subscribe({ events: ['auth.*-expired'] }, (batch) => {
      expectTypeOf(batch[0]?.type).toEqualTypeOf<'auth.credential-expired' | 'auth.token-expired' | undefined>();
    });
    telemetry.subscribe({ events: ['smtp.mail-from'] }, (batch) => {
      expectTypeOf(batch[0]?.data.from).toEqualTypeOf<string | undefined>();
    });
    host.subscribe({ events: ['billing.*'] }, (batch) => {
      expectTypeOf(batch[0]?.type).toEqualTypeOf<'billing.invoice-sent' | undefined>();
    });
  });

  it('rejects a wildcard or a name that matches no event', () => {
    // @ts-expect-error: no event name starts with `autth.`
    telemetry.subscribe({ events: ['autth.*'] }, () => undefined);
    // @ts-expect-error: one bad selector among good ones
    telemetry.subscribe({ events: ['auth.*', '*-errror'] }, () => undefined);
    // @ts-expect-error: not an event name
    telemetry.subscribe({ events: ['smtp.mail-frm'] }, () => undefined);
    // @ts-expect-error: the host's events belong to the instance that declared them
    telemetry.subscribe({ events: ['billing.*'] }, () => undefined);
  });
});

describe('on', () => {
  it('types the event by a name or a wildcard', () => {
    telemetry.on('auth.*', (event) => expectTypeOf(event.type).toExtend<`auth.${string}`>());
    telemetry.on('*', (event) => expectTypeOf(event.type).toEqualTypeOf<Names>());
    telemetry.on('smtp.mail-from', (event) => expectTypeOf(event.data.from).toEqualTypeOf<string | undefined>());
    host.on('billing.*', (event) => expectTypeOf(event.type).toEqualTypeOf<'billing.invoice-sent'>());
    // @ts-expect-error: not an event name
    telemetry.on('smtp.mail-frm', () => undefined);
  });

  it('rejects a wildcard that matches no event, and takes a wide string', () => {
    // @ts-expect-error: no event name starts with `autth.`
    telemetry.on('autth.*', () => undefined);
    // @ts-expect-error: no event name ends with `-errror`
    telemetry.on('*-errror', () => undefined);
    telemetry.on(wide, (event) => expectTypeOf(event.type).toEqualTypeOf<Names>());
  });
});

describe('tracer events and exclude', () => {
  it('take names and matching wildcards, and a wide list read from configuration', () => {
    configure({ tracers: [{ type: 'console', events: ['auth.*', 'smtp.mail-from'], exclude: ['auth.success'] }] });
    configure({ tracers: [{ type: 'custom', sink: { write: () => undefined }, events: ['*-error'] }] });
    configure({ tracers: [{ type: 'console', events: wideList, exclude: [wide] }] });
    createTelemetry({ tracers: [{ type: 'console', events: wideList }] });
    createTelemetry({ tracers: [{ type: 'console', events: ['auth.*'], exclude: ['auth.success'] }] });
  });

  it('reject a selector that matches no event', () => {
    // @ts-expect-error: no event name starts with `autth.`
    configure({ tracers: [{ type: 'console', events: ['autth.*'] }] });
    // @ts-expect-error: exclude is checked too
    configure({ tracers: [{ type: 'console', events: ['auth.*'], exclude: ['nosuch.*'] }] });
    // @ts-expect-error: a misspelt name
    configure({ tracers: [{ type: 'file', path: '/tmp/x.log', events: ['auth.sucess'] }] });
    // @ts-expect-error: createTelemetry checks them as it infers them
    createTelemetry({ tracers: [{ type: 'console', events: ['autth.*'] }] });
    // @ts-expect-error: in exclude too
    createTelemetry({ tracers: [{ type: 'console', events: ['auth.*'], exclude: ['nosuch.*'] }] });
    // The other options of each tracer type stay as they were.
    // @ts-expect-error: a console tracer has no `path`
    configure({ tracers: [{ type: 'console', path: '/tmp/x.log', events: ['auth.*'] }] });
  });
});
