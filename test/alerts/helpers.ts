import { expect } from 'vitest';
import { ExpressionError } from '../../src/alerts/errors.js';
import { parseExpression } from '../../src/alerts/parser.js';
import type { TelemetryEvent } from '../../src/index.js';
import type { Telemetry } from '../support/telemetry.js';

/** Every event matching `patterns` from now on. */
export function collect(
  telemetry: Telemetry,
  patterns: ('telemetry.alert-event' | 'telemetry.alert-message' | 'telemetry.*-error')[],
): TelemetryEvent[] {
  const events: TelemetryEvent[] = [];
  telemetry.subscribe({ events: patterns }, (batch) => {
    events.push(...batch);
  });
  return events;
}

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
