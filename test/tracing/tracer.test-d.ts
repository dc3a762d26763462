import { describe, expectTypeOf, it } from 'vitest';
import { createTelemetry, type Span } from '../../src/index.js';
import { CONNECTION } from '../support/telemetry.js';

const telemetry = createTelemetry();

describe('telemetry.tracer', () => {
  it('types startActiveSpan by the catalogue and returns what fn returns', () => {
    const result = telemetry.tracer.startActiveSpan('smtp.connection-start', CONNECTION, (span) => {
      expectTypeOf(span.id).toBeNumber();
      span.emit('smtp.ehlo', { domain: 'client.example.org' });
      // @ts-expect-error: a key of the wrong type
      span.emit('smtp.ehlo', { domain: 42 });
      span.end({ elapsed: 5 });
      return 'done' as const;
    });
    expectTypeOf(result).toEqualTypeOf<'done'>();
    const span = telemetry.tracer.startSpan('smtp.connection-start', CONNECTION);
    expectTypeOf(span).toMatchTypeOf<Span<never>>();
  });

  it('rejects names that do not start a span, and missing connection keys', () => {
    // @ts-expect-error: smtp.ehlo does not start a span
    telemetry.tracer.startActiveSpan('smtp.ehlo', { domain: 'x' }, () => undefined);
    // @ts-expect-error: a span start needs its connection keys
    telemetry.tracer.startSpan('smtp.connection-start', { listenerId: 'smtp' });
  });
});
