import { TelemetryConfigError } from '../base/errors.js';
import { integer, nonEmptyString, oneOf, record } from '../base/validate.js';
import { loadLogsSdk } from './sdk.js';
import { ATTRIBUTE_NAMES } from './semconv.js';

/** The tracer option names specific to `otel`. */
export const OTEL_TRACER_KEYS: readonly string[] = [
  'tracerProvider',
  'exporter',
  'sampleRatio',
  'resourceAttributes',
  'loggerProvider',
  'logExporter',
  'attributes',
  'tracerName',
  'maxOpenSpans',
  'attachToActiveSpan',
];

const hasMethods = (value: unknown, names: readonly string[]): boolean =>
  typeof value === 'object' &&
  value !== null &&
  names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

/**
 * Validates the otel tracer's own options at `path`. A provider and an exporter for the same signal
 * are refused together, as are the options of a built provider without its exporter: either would
 * leave an option silently unused.
 */
export function checkOtelOptions(t: Record<string, unknown>, path: string): void {
  const provider = t.tracerProvider;
  if (provider !== undefined && !hasMethods(provider, ['getTracer'])) {
    throw new TelemetryConfigError(`${path}.tracerProvider`, provider, 'an OpenTelemetry TracerProvider');
  }
  if (t.exporter !== undefined) {
    if (!hasMethods(t.exporter, ['export', 'shutdown']))
      throw new TelemetryConfigError(
        `${path}.exporter`,
        t.exporter,
        'an OpenTelemetry SpanExporter (export and shutdown methods)',
      );
    if (provider !== undefined)
      throw new TelemetryConfigError(
        `${path}.exporter`,
        t.exporter,
        'no exporter when tracerProvider is given (the provider has its own)',
      );
  }
  if (t.sampleRatio !== undefined) {
    const ratio = t.sampleRatio;
    if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1))
      throw new TelemetryConfigError(`${path}.sampleRatio`, ratio, 'a number from 0 to 1');
    if (t.exporter === undefined)
      throw new TelemetryConfigError(
        `${path}.sampleRatio`,
        ratio,
        'no sampleRatio without exporter (a given provider has its own sampler)',
      );
  }
  const logProvider = t.loggerProvider;
  if (logProvider !== undefined && !hasMethods(logProvider, ['getLogger'])) {
    throw new TelemetryConfigError(`${path}.loggerProvider`, logProvider, 'an OpenTelemetry LoggerProvider');
  }
  if (t.logExporter !== undefined) {
    if (!hasMethods(t.logExporter, ['export', 'shutdown']))
      throw new TelemetryConfigError(
        `${path}.logExporter`,
        t.logExporter,
        'an OpenTelemetry LogRecordExporter (export and shutdown methods)',
      );
    if (logProvider !== undefined)
      throw new TelemetryConfigError(
        `${path}.logExporter`,
        t.logExporter,
        'no logExporter when loggerProvider is given (the provider has its own)',
      );
    loadLogsSdk(`${path}.logExporter`, t.logExporter);
  }
  if (t.resourceAttributes !== undefined) {
    checkResourceAttributes(t.resourceAttributes, `${path}.resourceAttributes`);
    if (t.exporter === undefined && t.logExporter === undefined)
      throw new TelemetryConfigError(
        `${path}.resourceAttributes`,
        t.resourceAttributes,
        'no resourceAttributes without exporter or logExporter (a given provider has its own resource)',
      );
  }
  oneOf(t.attributes, `${path}.attributes`, 'catalogue', ATTRIBUTE_NAMES);
  if (t.tracerName !== undefined) nonEmptyString(t.tracerName, `${path}.tracerName`);
  integer(t.maxOpenSpans, `${path}.maxOpenSpans`, 0, 1);
  if (t.attachToActiveSpan !== undefined && typeof t.attachToActiveSpan !== 'boolean')
    throw new TelemetryConfigError(`${path}.attachToActiveSpan`, t.attachToActiveSpan, 'true or false');
}

/** Resource attributes: strings, finite numbers, booleans, or arrays of one of them. */
function checkResourceAttributes(value: unknown, path: string): void {
  const attributes = record(value, path, 'an object of OpenTelemetry attribute values');
  for (const [key, v] of Object.entries(attributes)) {
    const items = Array.isArray(v) ? v : [v];
    const kinds = new Set(items.map((item) => (typeof item === 'number' && !Number.isFinite(item) ? 'bad' : typeof item)));
    const ok = kinds.size <= 1 && [...kinds].every((kind) => kind === 'string' || kind === 'number' || kind === 'boolean');
    if (!ok || (!Array.isArray(v) && items.length !== 1))
      throw new TelemetryConfigError(
        `${path}[${JSON.stringify(key)}]`,
        v,
        'a string, number or boolean, or an array of one of them',
      );
  }
}
