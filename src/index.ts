/**
 * mail-telemetry: typed, embeddable telemetry for Node.js mail servers. Its exports are grouped by
 * mechanism: the core (`createTelemetry`), events and the catalogue, tracers, metrics, live streams,
 * webhooks, history, alerts, the dashboard and the HTTP handlers.
 * @packageDocumentation
 * @module mail-telemetry
 */

/** @group Alerts */
export type { AlertWebhookBody } from './alerts/actions.js';
/** @group Alerts */
export type { AlertState, AlertStatus, AlertsApi, AlertTransition } from './alerts/alerts.js';
/** @group Alerts */
export type {
  AlertEmailOptions,
  AlertEventOptions,
  AlertmanagerOptions,
  AlertRuleOptions,
  AlertsOptions,
  AlertWebhookOptions,
  Duration,
  SendMail,
} from './alerts/options.js';
/** @group Core */
export { TelemetryConfigError } from './base/errors.js';
/** @group Core */
export { ID_EPOCH, idTime } from './base/ids.js';
/** @group Events */
export type { Level, LevelSetting } from './base/levels.js';
/** @group Events */
export { LEVELS } from './base/levels.js';
/** @group Events */
export { matchPattern } from './base/patterns.js';
/** @group Events */
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
/** @group Events */
export { defineEvents } from './catalog/define.js';
/** @group Events */
export type { BuiltinEvents, BuiltinMetricName, BuiltinSpans, EventRow, MetricRow } from './catalog/generated.js';
/** @group Events */
export { BUILTIN_EVENTS, BUILTIN_METRICS, KEY_TYPES } from './catalog/generated.js';
/** @group Events */
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
/** @group Events */
export { COMMON_KEYS } from './catalog/keys.js';
/** @group Events */
export type {
  AliasName,
  CheckPattern,
  CurrentName,
  DataOptional,
  EventInput,
  EventMap,
  EventName,
  EventOf,
  EventPattern,
  Glob,
  MatchPattern,
  NoEventMatches,
  SelectorName,
  TelemetryEvent,
  TelemetryEventJSON,
  Wildcard,
  WildcardData,
} from './catalog/types.js';
/** @group Core */
export type { SpanOptions, SubscribeOptions } from './core/options.js';
/** @group Tracers */
export { REDACTED } from './core/redact.js';
/** @group Tracers */
export type { EmitHook, Sink, SinkContext } from './core/sink.js';
/** @group Core */
export type { BatchHandler, SubscriberStats } from './core/subscriber.js';
/** @group Core */
export type { EventInfo, FlushReport, Subscription, TelemetryStats } from './core/types.js';
/** @group Dashboard */
export type { DashboardOptions } from './dashboard/options.js';
/** @group History */
export type { HistoryAuthorize, HistoryAuthRequest, HistoryVerdict } from './history/handler.js';
/** @group History */
export type { HistoryApi, HistoryStats } from './history/history.js';
/** @group History */
export type {
  HistoryOptions,
  SeriesHistoryOptions,
  TraceHistoryOptions,
} from './history/options.js';
/** @group History */
export { DEFAULT_INDEX_KEYS } from './history/options.js';
/** @group History */
export type { KeyCondition, ResolvedEventQuery, ResolvedTraceQuery, TraceCursor } from './history/query.js';
/** @group History */
export { HistoryQueryError } from './history/query.js';
/** @group History */
export type { SeriesPoint, SeriesQuery } from './history/series.js';
/** @group History */
export { avgOver, increase, rate } from './history/series.js';
/** @group History */
export type {
  AppendResult,
  HistoryRecords,
  HistoryStore,
  MaybePromise,
  MemoryStoreOptions,
  RetentionPolicy,
} from './history/store.js';
/** @group History */
export { MemoryHistoryStore } from './history/store.js';
/** @group History */
export { keepsMessages, TRUNCATED_EVENT } from './history/traces.js';
/** @group History */
export type { EventQuery, HistoryEvent, KeyMatch, Page, Trace, TraceMessage, TraceQuery, TraceSummary } from './history/types.js';
/** @group HTTP handlers */
export type { AccessVerdict, Authorize, HttpAuthRequest } from './http/auth.js';
/** @group HTTP handlers */
export type { RequestHandler, TelemetryHandlers } from './http/handler.js';
/** @group Live streams */
export type { LiveAuthorize, LiveAuthRequest, LiveVerdict } from './live/access.js';
/** @group Live streams */
export type { LiveFilter } from './live/filter.js';
/** @group Live streams */
export type { StalwartMetric, StalwartMetric015 } from './live/frames.js';
/** @group Live streams */
export type { LiveApi, LiveStats } from './live/live.js';
/** @group Live streams */
export type { LiveMetricsOptions, LiveMetricsStream } from './live/metrics.js';
/** @group Live streams */
export type { LiveOptions } from './live/options.js';
/** @group Live streams */
export { LiveUnavailableError } from './live/sse.js';
/** @group Live streams */
export type { LiveBatch, LiveEventStream } from './live/stream.js';
/** @group Live streams */
export type { LiveScope, LiveTokenClaims, LiveTokenOptions } from './live/token.js';
/** @group Metrics */
export type { MetricName, MetricsApi } from './metrics/api.js';
/** @group Metrics */
export type { ExpositionFormat } from './metrics/exposition.js';
/** @group Metrics */
export { CONTENT_TYPES } from './metrics/exposition.js';
/** @group Metrics */
export type {
  CounterMetric,
  GaugeMetric,
  HistogramMetric,
  HistogramSeries,
  Labels,
  UpdateArgs,
  ValueSeries,
} from './metrics/instruments.js';
/** @group Metrics */
export { OVERFLOW_VALUE } from './metrics/instruments.js';
/** @group Metrics */
export type { MetricsOptions } from './metrics/options.js';
/** @group Metrics */
export type {
  Collected,
  HistogramOptions,
  MetricOptions,
  MetricSnapshot,
  MetricsSnapshot,
  SeriesSnapshot,
} from './metrics/registry.js';
/** @group Metrics */
export { DEFAULT_BUCKETS } from './metrics/registry.js';
/** @group Core */
export type { TelemetryOptions } from './options.js';
/** @group Tracers */
export type { OtelTracerOptions } from './otel/tracer.js';
/** @group Stalwart compatibility */
export type { Stalwart015Alias } from './stalwart/names.js';
/** @group Stalwart compatibility */
export { STALWART_015_ALIASES } from './stalwart/names.js';
/** @group Stalwart compatibility */
export type { TraceKeyValue, TraceValue } from './stalwart/values.js';
/** @group Stalwart compatibility */
export type { StalwartSetting, StalwartVersion } from './stalwart/version.js';
/** @group Core */
export type {
  BuiltinGaugeName,
  BuiltinHistogramName,
  DataArgs,
  Span,
  Telemetry,
  TelemetryFor,
  TypedTracer,
} from './telemetry.js';
/** @group Core */
export { createTelemetry } from './telemetry.js';
/** @group Tracers */
export type { FileTracerOptions } from './tracing/file.js';
/** @group Tracers */
export type { TextOptions } from './tracing/format.js';
/** @group Tracers */
export { jsonLine, SYSLOG_PRIORITY, textLine } from './tracing/format.js';
/** @group Tracers */
export type { ConsoleTracerOptions, CustomTracerOptions, TracerCommonOptions, TracerOptions } from './tracing/options.js';
/** @group Tracers */
export type { PinoLike, PinoLogMethod, PinoTracerOptions } from './tracing/pino.js';
/** @group Tracers */
export { PINO_METHOD } from './tracing/pino.js';
/** @group Tracers */
export type { TracerOptionsFor, TracerSelection } from './tracing/tracers.js';
/** @group Webhooks */
export type { WebhookState, WebhookStats } from './webhooks/endpoint.js';
/** @group Webhooks */
export type {
  WebhookAuth,
  WebhookDiscardReason,
  WebhookEvent,
  WebhookOptions,
  WebhookPayload,
  WebhookRetryOptions,
  WebhookSigning,
} from './webhooks/options.js';
/** @group Webhooks */
export type { WebhooksApi } from './webhooks/webhooks.js';
