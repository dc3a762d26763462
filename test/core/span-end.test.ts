import { describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '../../src/index.js';
import { connection, make } from '../support/telemetry.js';

describe('span.end', () => {
  it('calls a data function once and emits its keys with elapsed', async () => {
    const telemetry = make();
    const seen: TelemetryEvent[] = [];
    telemetry.subscribe({ events: ['smtp.connection-end'] }, (batch) => {
      seen.push(...batch);
    });
    const span = telemetry.span('smtp.connection-start', connection('192.0.2.1', 1));
    let calls = 0;
    span.end(() => {
      calls++;
      return { details: 'closed by peer' };
    });
    span.end(() => {
      calls++;
      return {};
    });
    await telemetry.flush();
    expect(calls).toBe(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.data.details).toBe('closed by peer');
    expect(typeof seen[0]?.data.elapsed).toBe('number');
  });
});
