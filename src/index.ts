/**
 * mail-telemetry: typed, embeddable telemetry for Node.js mail servers.
 * @packageDocumentation
 */

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
export type { BuiltinEvents, BuiltinSpans, EventRow, MetricRow } from './catalog/generated.js';
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
export type { DataArgs, EventCounters, Span, Telemetry, TelemetryFor } from './telemetry.js';
export { createTelemetry } from './telemetry.js';
