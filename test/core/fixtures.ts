import { afterEach } from 'vitest';
import { createTelemetry } from '../../src/index.js';

type Options = Parameters<typeof createTelemetry<Record<never, never>>>[0];

const open: { shutdown(timeout?: number): Promise<unknown> }[] = [];

/** Creates a telemetry instance that is shut down after the test. */
export function make(options?: Options) {
  const telemetry = createTelemetry<Record<never, never>>(options);
  open.push(telemetry);
  return telemetry;
}

afterEach(async () => {
  for (const telemetry of open.splice(0)) await telemetry.shutdown(100);
});
