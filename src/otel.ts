/**
 * `mail-telemetry/otel`: OpenTelemetry bridges. Needs `@opentelemetry/api`. The otel tracer itself
 * (`{ type: 'otel' }` in `tracers`) is part of the main entry; this entry holds the metrics bridge
 * and the types of what the tracer takes.
 * @packageDocumentation
 * @module mail-telemetry/otel
 */

export type { OtelLogger, OtelLoggerProvider, OtelLogRecord, OtelLogRecordExporter } from './otel/logs.js';
export type { BridgeSource, OpenTelemetryMetricsBridge, OpenTelemetryMetricsOptions } from './otel/metrics.js';
export { exportMetrics } from './otel/metrics.js';
export type { OtelAttributeNames } from './otel/semconv.js';
export type { OtelSpanExporter, OtelTracerOptions } from './otel/tracer.js';
