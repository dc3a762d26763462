import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { LoggerProvider, LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { BasicTracerProvider, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { TelemetryConfigError } from '../base/errors.js';
import type { OtelLogRecordExporter } from './logs.js';

/** A provider the library built, and therefore flushes and shuts down. */
export interface OwnedProvider {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Counts the failed exports reported, so that a flush that fails because of one is not reported twice. */
interface Failures {
  count: number;
}

/**
 * The provider's flush and shutdown, never rejecting: a failure is reported as the tracer's error
 * event, unless the exporter's report already said it (a batch processor rejects its flush when
 * an export failed).
 */
function settled(provider: OwnedProvider, failures: Failures, report: Report): OwnedProvider {
  const guard = async (what: 'forceFlush' | 'shutdown') => {
    const before = failures.count;
    try {
      await provider[what]();
    } catch (error) {
      if (failures.count === before) report(error, `${what === 'forceFlush' ? 'flush' : 'shutdown'} failed`);
    }
  };
  return { forceFlush: () => guard('forceFlush'), shutdown: () => guard('shutdown') };
}

/** Reports an export failure as the tracer's error event. */
type Report = (error: unknown, details?: string) => void;

/** OTLP export result codes (`ExportResultCode` of `@opentelemetry/core`). */
const FAILED = 1;

type TraceSdk = typeof import('@opentelemetry/sdk-trace-base');
type Resources = typeof import('@opentelemetry/resources');
type LogsSdk = typeof import('@opentelemetry/sdk-logs');

// Loaded on first use, never at import: the main entry carries this module, and a host without an
// `exporter` or `logExporter` option must not pay for the SDK (test/package/import-cost.test.ts).
let traceSdk: TraceSdk | undefined;
let resources: Resources | undefined;
let logsSdk: LogsSdk | undefined;
const load = (): NodeJS.Require => createRequire(import.meta.url);

/**
 * `@opentelemetry/sdk-logs`, an optional peer: loaded when a tracer has a `logExporter`, so a
 * missing install is a configuration error at `createTelemetry`, naming the option.
 */
export function loadLogsSdk(path: string, exporter: unknown): void {
  if (logsSdk !== undefined) return;
  try {
    logsSdk = load()('@opentelemetry/sdk-logs') as LogsSdk;
  } catch (error) {
    throw new TelemetryConfigError(
      path,
      exporter,
      'a LogRecordExporter with @opentelemetry/sdk-logs installed',
      `npm install @opentelemetry/sdk-logs@">=0.221.0 <0.300.0": ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
}

/** One id per process: `service.instance.id` names this process among the service's instances. */
let instanceId: string | undefined;

/**
 * The resource of the providers the library builds: `service.name` from the telemetry's `service`,
 * `host.name`, `service.instance.id`, over the SDK's defaults (`telemetry.sdk.*`); the host's
 * `resourceAttributes` win.
 */
export function buildResource(service: string, extra: Attributes | undefined): Resource {
  resources ??= load()('@opentelemetry/resources') as Resources;
  instanceId ??= randomUUID();
  const own: Attributes = { 'service.name': service, 'host.name': hostname(), 'service.instance.id': instanceId, ...extra };
  return resources.defaultResource().merge(resources.resourceFromAttributes(own));
}

/**
 * A `BasicTracerProvider` around the host's exporter: a `BatchSpanProcessor` (its queue and delay
 * follow the `OTEL_BSP_*` environment variables) and a `ParentBased(TraceIdRatioBased)` sampler.
 * It is not registered as the global provider: the host's own globals stay the host's.
 */
export function buildTracerProvider(
  exporter: SpanExporter,
  resource: Resource,
  sampleRatio: number,
  report: Report,
): { readonly provider: BasicTracerProvider; readonly owned: OwnedProvider } {
  traceSdk ??= load()('@opentelemetry/sdk-trace-base') as TraceSdk;
  const sdk = traceSdk;
  const failures: Failures = { count: 0 };
  const root = sampleRatio >= 1 ? new sdk.AlwaysOnSampler() : new sdk.TraceIdRatioBasedSampler(sampleRatio);
  const reporting = reportingExporter(exporter as OtelLogRecordExporter, report, 'spans', failures) as unknown as SpanExporter;
  const provider = new sdk.BasicTracerProvider({
    resource,
    sampler: new sdk.ParentBasedSampler({ root }),
    spanProcessors: [new sdk.BatchSpanProcessor(reporting)],
  });
  return { provider, owned: settled(provider, failures, report) };
}

/** A `LoggerProvider` around the host's exporter, with a `BatchLogRecordProcessor`. */
export function buildLoggerProvider(
  exporter: OtelLogRecordExporter,
  resource: Resource,
  report: Report,
): { readonly provider: LoggerProvider; readonly owned: OwnedProvider } {
  const sdk = logsSdk as LogsSdk; // loaded by loadLogsSdk when the options were validated
  const failures: Failures = { count: 0 };
  const reporting = reportingExporter(exporter, report, 'log records', failures) as unknown as LogRecordExporter;
  // The options-object constructor is sdk-logs 0.221's (before, `(exporter, config?)`): hence the
  // peer range's floor.
  const provider = new sdk.LoggerProvider({ resource, processors: [new sdk.BatchLogRecordProcessor({ exporter: reporting })] });
  return { provider, owned: settled(provider, failures, report) };
}

/**
 * The exporter, with each failed export reported as the tracer's error event (how many items were
 * lost): the batch processors report failures only to OTel's diagnostic logger, which most hosts
 * never set up. A throw from `export` is a failed export, not a crash of the processor.
 */
function reportingExporter(
  exporter: OtelLogRecordExporter,
  report: Report,
  what: string,
  failures: Failures,
): OtelLogRecordExporter {
  return {
    export(items: readonly object[], done: (result: { code: number; error?: Error }) => void): void {
      const failed = (error: unknown) => {
        failures.count++;
        report(error, `${items.length} ${what} not exported`);
      };
      try {
        exporter.export(items as object[], (result) => {
          if (result?.code !== 0) failed(result?.error ?? new Error('export failed'));
          done(result);
        });
      } catch (error) {
        failed(error);
        done({ code: FAILED, error: error instanceof Error ? error : new Error(String(error)) });
      }
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => (typeof exporter.forceFlush === 'function' ? exporter.forceFlush() : Promise.resolve()),
  };
}
