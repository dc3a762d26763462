import type { TelemetryEvent } from '../catalog/types.js';
import type { SinkContext } from '../core/sink.js';
import { jsonLine, type TextOptions, textLine } from './format.js';

/** How a console or file tracer writes its lines. */
export interface LineFormat {
  readonly json: boolean;
  readonly text: TextOptions;
}

/**
 * Each event of the batch as one line. An event that still cannot be written (its keys cannot be
 * listed, its data getter throws) is left out alone and reported as the tracer's error event,
 * which counts it; the rest of the batch is written.
 */
export function linesOf(batch: readonly TelemetryEvent[], format: LineFormat, context: SinkContext): string[] {
  const lines: string[] = [];
  for (let i = 0; i < batch.length; i++) {
    const event = batch[i] as TelemetryEvent;
    try {
      const description = context.describe(event.type);
      lines.push(format.json ? jsonLine(event, description) : textLine(event, description, format.text));
    } catch (error) {
      context.report(error, `event ${event.type} could not be written: 1 event dropped`);
    }
  }
  return lines;
}
