import type { Attributes, Context } from '@opentelemetry/api';
import type { Level } from '../base/levels.js';

/**
 * One OpenTelemetry log record, as `Logger.emit` of `@opentelemetry/api-logs` takes it. Declared
 * here rather than imported, so that the package's types do not need the logs API installed.
 */
export interface OtelLogRecord {
  /** The event name (the OTel data model's `EventName`). */
  readonly eventName?: string;
  /** When the event happened, in epoch ms. */
  readonly timestamp?: number;
  /** OTel severity: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17. */
  readonly severityNumber?: number;
  /** The level as text, such as `INFO`. */
  readonly severityText?: string;
  /** The event's description. */
  readonly body?: string;
  /** The event's keys. */
  readonly attributes?: Attributes;
  /** The context whose span the record belongs to (trace and span ids). */
  readonly context?: Context;
}

/** What the otel tracer needs of an OpenTelemetry `Logger`. */
export interface OtelLogger {
  /** Emits one log record. */
  emit(record: OtelLogRecord): void;
}

/**
 * What the otel tracer needs of an OpenTelemetry `LoggerProvider` (`@opentelemetry/api-logs`),
 * such as `@opentelemetry/sdk-logs`' `LoggerProvider` or the one `@opentelemetry/sdk-node` sets up.
 */
export interface OtelLoggerProvider {
  /** The logger of an instrumentation scope. */
  getLogger(name: string, version?: string): OtelLogger;
}

/** OTel severity numbers by level (`SeverityNumber` of `@opentelemetry/api-logs`). */
export const SEVERITY_NUMBER: Readonly<Record<Level, number>> = { trace: 1, debug: 5, info: 9, warn: 13, error: 17 };

/** OTel severity texts by level, the short names of the OTel data model. */
export const SEVERITY_TEXT: Readonly<Record<Level, string>> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
};

/** The attribute that names the event on each log record. */
export const EVENT_NAME_ATTRIBUTE = 'event.name';

/**
 * What the otel tracer needs of an OpenTelemetry `LogRecordExporter` (`@opentelemetry/sdk-logs`),
 * such as `OTLPLogExporter`. Declared here rather than imported, so that the package's types do
 * not need `@opentelemetry/sdk-logs` installed.
 */
export interface OtelLogRecordExporter {
  /** Sends `records`; calls `done` with `{ code: 0 }` on success. */
  export(records: readonly object[], done: (result: { code: number; error?: Error }) => void): void;
  /** Sends what is pending and releases the exporter. */
  shutdown(): Promise<void>;
  /** Sends what is pending. */
  forceFlush?(): Promise<void>;
}
