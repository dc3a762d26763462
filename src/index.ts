/**
 * mail-telemetry: typed, embeddable telemetry for Node.js mail servers.
 * @packageDocumentation
 */

export * from './alerts/public.js';
export type {
  CheckSpecs,
  DeclaredKeys,
  HostEventData,
  HostEventMap,
  HostEventSpec,
  HostEventSpecs,
  HostEvents,
  HostSpanMap,
  KeySpec,
  KeyValue,
  RequiredKeys,
} from './catalog/define.js';
export { defineEvents } from './catalog/define.js';
export type { BuiltinEvents, BuiltinMetricName, BuiltinSpans, EventRow, MetricRow } from './catalog/generated.js';
export { BUILTIN_EVENTS, BUILTIN_METRICS, KEY_TYPES } from './catalog/generated.js';
export type {
  AnyKeys,
  Cause,
  CommonKey,
  KeyName,
  KeysOf,
  KeyTypeTag,
  KeyTypeTags,
  SpanId,
  Timestamp,
  Vocabulary,
  WithRequired,
} from './catalog/keys.js';
export { COMMON_KEYS } from './catalog/keys.js';
export type { Level, LevelSetting } from './catalog/levels.js';
export { LEVELS } from './catalog/levels.js';
export type {
  DataOptional,
  EventInput,
  EventMap,
  EventName,
  EventOf,
  EventPattern,
  MatchPattern,
  TelemetryEvent,
  TelemetryEventJSON,
  Wildcard,
  WildcardData,
} from './catalog/types.js';
export { TelemetryConfigError } from './core/errors.js';
export { ID_EPOCH, idTime } from './core/ids.js';
export type { SpanOptions, SubscribeOptions, TelemetryOptions } from './core/options.js';
export { matchPattern } from './core/patterns.js';
export type { EventInfo, FlushReport, Subscription, TelemetryStats } from './core/runtime.js';
export type { BatchHandler, SubscriberStats } from './core/subscriber.js';
export * from './dashboard/public.js';
export * from './history/public.js';
export type { RequestHandler, TelemetryHandlers } from './http/handler.js';
export * from './live/public.js';
export type { MetricName, MetricsApi } from './metrics/api.js';
export type { ExpositionFormat } from './metrics/exposition.js';
export { CONTENT_TYPES } from './metrics/exposition.js';
export type {
  CounterMetric,
  GaugeMetric,
  HistogramMetric,
  HistogramSeries,
  Labels,
  UpdateArgs,
  ValueSeries,
} from './metrics/instruments.js';
export { OVERFLOW_VALUE } from './metrics/instruments.js';
export type { MetricsOptions } from './metrics/options.js';
export type {
  Collected,
  HistogramOptions,
  MetricOptions,
  MetricSnapshot,
  MetricsSnapshot,
  SeriesSnapshot,
} from './metrics/registry.js';
export { DEFAULT_BUCKETS } from './metrics/registry.js';
export type {
  BuiltinGaugeName,
  BuiltinHistogramName,
  DataArgs,
  Span,
  Telemetry,
  TelemetryFor,
  TypedTracer,
} from './telemetry.js';
export { createTelemetry } from './telemetry.js';
export type { FileTracerOptions } from './tracing/file.js';
export type { TextOptions } from './tracing/format.js';
export { jsonLine, SYSLOG_PRIORITY, textLine } from './tracing/format.js';
export type { OtelTracerOptions } from './tracing/otel.js';
export type { PinoLike, PinoLogMethod, PinoTracerOptions } from './tracing/pino.js';
export { PINO_METHOD } from './tracing/pino.js';
export { REDACTED } from './tracing/redact.js';
export type {
  ConsoleTracerOptions,
  CustomTracerOptions,
  EmitHook,
  Sink,
  SinkContext,
  TracerCommonOptions,
  TracerOptions,
} from './tracing/sink.js';
export * from './webhooks/public.js';
