import { hostname } from 'node:os';
import type { Attributes, Counter, Meter, MeterProvider } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { LoggerProvider, LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import { crypto, nodeModule } from '../base/builtins.js';
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

type OtelApi = typeof import('@opentelemetry/api');
type TraceSdk = typeof import('@opentelemetry/sdk-trace');
type Resources = typeof import('@opentelemetry/resources');
type LogsSdk = typeof import('@opentelemetry/sdk-logs');

// Loaded on first use, never at import: the main entry carries this module, and a host without an
// `exporter` or `logExporter` option must not pay for the SDK (test/package/import-cost.test.ts).
let api: OtelApi | undefined;
let traceSdk: TraceSdk | undefined;
let resources: Resources | undefined;
let logsSdk: LogsSdk | undefined;
const load = (): NodeJS.Require => nodeModule().createRequire(import.meta.url);

/**
 * The OpenTelemetry API (a peer dependency: the host's own copy), loaded when an otel tracer is
 * made, so that the main entry never loads it for a host without one. Its global provider and
 * context keys live on `globalThis`, so this copy and the host's own import see the same ones.
 */
export function otelApi(): OtelApi {
  api ??= load()('@opentelemetry/api') as OtelApi;
  return api;
}

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
      `npm install @opentelemetry/sdk-logs@">=0.221.0 <0.300.0 || ^3.1.0": ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
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
  instanceId ??= crypto().randomUUID();
  const own: Attributes = { 'service.name': service, 'host.name': hostname(), 'service.instance.id': instanceId, ...extra };
  return resources.defaultResource().merge(resources.resourceFromAttributes(own));
}

/** Counts items a batch processor dropped because its queue was full. */
export type Dropped = (count: number) => void;

/**
 * A tracer provider around the host's exporter (`TracerProvider` of `@opentelemetry/sdk-trace`,
 * which sdk-trace-base 2.x's `BasicTracerProvider` extends): a `BatchSpanProcessor` tuned by the
 * `OTEL_BSP_*` environment variables and a `ParentBased(TraceIdRatioBased)` sampler. It is not
 * registered as the global provider: the host's own globals stay the host's.
 */
export function buildTracerProvider(
  exporter: SpanExporter,
  resource: Resource,
  sampleRatio: number,
  report: Report,
  dropped: Dropped,
): { readonly provider: TracerProvider; readonly owned: OwnedProvider } {
  traceSdk ??= load()('@opentelemetry/sdk-trace') as TraceSdk;
  const sdk = traceSdk;
  const failures: Failures = { count: 0 };
  const root = sampleRatio >= 1 ? new sdk.AlwaysOnSampler() : new sdk.TraceIdRatioBasedSampler(sampleRatio);
  const reporting = reportingExporter(exporter as OtelLogRecordExporter, report, 'spans', failures) as unknown as SpanExporter;
  const processor = new sdk.BatchSpanProcessor({
    ...batchSettings('OTEL_BSP'),
    exporter: reporting,
    selfObsMeterProvider: dropCounter(SPANS_PROCESSED, dropped),
  });
  const provider = new sdk.TracerProvider({
    resource,
    sampler: new sdk.ParentBasedSampler({ root }),
    spanProcessors: [processor],
  });
  return { provider, owned: settled(provider, failures, report) };
}

/** A `LoggerProvider` around the host's exporter, with a `BatchLogRecordProcessor` tuned by `OTEL_BLRP_*`. */
export function buildLoggerProvider(
  exporter: OtelLogRecordExporter,
  resource: Resource,
  report: Report,
  dropped: Dropped,
): { readonly provider: LoggerProvider; readonly owned: OwnedProvider } {
  const sdk = logsSdk as LogsSdk; // loaded by loadLogsSdk when the options were validated
  const failures: Failures = { count: 0 };
  const reporting = reportingExporter(exporter, report, 'log records', failures) as unknown as LogRecordExporter;
  // The options-object constructors are sdk-logs 0.221's (before, `(exporter, config?)`), as is
  // `selfObsMeterProvider`: hence the peer range's floor.
  const processor = new sdk.BatchLogRecordProcessor({
    ...batchSettings('OTEL_BLRP'),
    exporter: reporting,
    selfObsMeterProvider: dropCounter(LOGS_PROCESSED, dropped),
  });
  const provider = new sdk.LoggerProvider({ resource, processors: [processor] });
  return { provider, owned: settled(provider, failures, report) };
}

interface BatchSettings {
  maxQueueSize?: number;
  maxExportBatchSize?: number;
  scheduledDelayMillis?: number;
  exportTimeoutMillis?: number;
}

/** The batch settings and the environment variables that set them (after `OTEL_BSP_` or `OTEL_BLRP_`). */
const BATCH_ENV: readonly (readonly [keyof BatchSettings, string, number])[] = [
  ['maxQueueSize', 'MAX_QUEUE_SIZE', 1],
  ['maxExportBatchSize', 'MAX_EXPORT_BATCH_SIZE', 1],
  ['scheduledDelayMillis', 'SCHEDULE_DELAY', 0],
  ['exportTimeoutMillis', 'EXPORT_TIMEOUT', 0],
];

/**
 * A batch processor's settings from the standard environment variables, which sdk-trace-base's
 * `BatchSpanProcessor` read and sdk-trace's no longer does. An unset or invalid one keeps the
 * SDK's default, as OpenTelemetry's own reading does.
 */
function batchSettings(prefix: 'OTEL_BSP' | 'OTEL_BLRP'): BatchSettings {
  const settings: BatchSettings = {};
  for (const [key, name, least] of BATCH_ENV) {
    const text = process.env[`${prefix}_${name}`]?.trim();
    if (text === undefined || text === '') continue;
    const value = Number(text);
    if (Number.isSafeInteger(value) && value >= least) settings[key] = value;
  }
  return settings;
}

/** The batch processors' self-observability counters (OTel semantic conventions), whose drops are counted. */
const SPANS_PROCESSED = 'otel.sdk.processor.span.processed';
const LOGS_PROCESSED = 'otel.sdk.processor.log.processed';

/**
 * A meter provider for a batch processor's `selfObsMeterProvider`: the one way its drops (queue
 * full) come out besides OpenTelemetry's diagnostic logger, which most hosts never set up. The
 * processor counts each item it finished on `counter`, with `error.type: 'queue_full'` for those it
 * dropped; those are passed to `dropped`, and every other instrument is a no-op.
 */
function dropCounter(counter: string, dropped: Dropped): MeterProvider {
  const noop = otelApi().createNoopMeter();
  const drops: Counter = {
    add(value, attributes) {
      if (attributes?.['error.type'] === 'queue_full') dropped(value);
    },
  };
  const meter: Meter = Object.create(noop);
  meter.createCounter = ((name: string, options) =>
    name === counter ? drops : noop.createCounter(name, options)) as Meter['createCounter'];
  return { getMeter: () => meter };
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
