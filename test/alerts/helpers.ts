import { afterEach, expect } from 'vitest';
import { ExpressionError } from '../../src/alerts/errors.js';
import { parseExpression } from '../../src/alerts/parser.js';
import { createTelemetry, type TelemetryEvent } from '../../src/index.js';

type Options = NonNullable<Parameters<typeof createTelemetry<Record<never, never>>>[0]>;

const open: { shutdown(timeout?: number): Promise<unknown> }[] = [];

/** A telemetry instance on a hand-driven clock, shut down after the test. */
export function make(options: Options = {}) {
  const clock = { now: Date.UTC(2026, 10, 24, 12) };
  const telemetry = createTelemetry<Record<never, never>>({ now: () => clock.now, ...options });
  open.push(telemetry);
  return Object.assign(telemetry, { clock });
}

/** Every event matching `patterns` from now on. */
export function collect(
  telemetry: ReturnType<typeof make>,
  patterns: ('telemetry.alert-event' | 'telemetry.alert-message' | 'telemetry.*-error')[],
): TelemetryEvent[] {
  const events: TelemetryEvent[] = [];
  telemetry.subscribe({ events: patterns }, (batch) => {
    events.push(...batch);
  });
  return events;
}

/** A connection span's required keys. */
export const CONN = { remoteIp: '192.0.2.10', remotePort: 40000, listenerId: 'mx', localPort: 25 } as const;

afterEach(async () => {
  for (const telemetry of open.splice(0)) await telemetry.shutdown(200);
});

/** The `ExpressionError` that parsing `source` throws; the test fails if it parses. */
export function parseError(source: string): ExpressionError {
  try {
    parseExpression(source);
  } catch (error) {
    expect(error).toBeInstanceOf(ExpressionError);
    return error as ExpressionError;
  }
  throw new Error(`parsed: ${source}`);
}

/** Parses `text`, or checks that the `ExpressionError` it throws points inside it, with a caret. */
export function parsesOrPointsInside(text: string): void {
  try {
    parseExpression(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ExpressionError);
    const e = error as ExpressionError;
    expect(e.position).toBeGreaterThanOrEqual(0);
    expect(e.position).toBeLessThanOrEqual(text.length);
    expect(e.excerpt).toContain('^');
  }
}
