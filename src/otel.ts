/**
 * `mail-telemetry/otel`: OpenTelemetry bridges. Needs `@opentelemetry/api`; the SDK is the host's.
 * @packageDocumentation
 * @module mail-telemetry/otel
 */

export type { BridgeSource, OpenTelemetryMetricsBridge, OpenTelemetryMetricsOptions } from './otel/metrics.js';
export { exportMetrics } from './otel/metrics.js';
