/**
 * Whole events as Stalwart writes them, by version and by wire:
 * - webhook items `{id, createdAt, type, data}` (`crates/common/src/telemetry/webhooks/mod.rs`,
 *   `JsonEventSerializer::with_id().with_spans()`), both versions;
 * - 0.15 live and trace items `{text, details, createdAt, type, data}` (`v0.15.5:crates/http/src/
 *   management/enterprise/telemetry.rs`, `JsonEventSerializer::with_description().with_explanation()`:
 *   span keys merged, `spanId` left out), parsed by the 0.15 admin's `Event`
 *   (`webadmin:src/pages/enterprise/tracing/event.rs`);
 * - 0.16 live items `{event, timestamp, keyValues}` (`crates/common/src/telemetry/tracers/mod.rs`
 *   `build_trace_events`: the event's own keys only), parsed by the 0.16 WebUI's `TraceEvent`
 *   (`webui:src/features/tracing/types.ts`).
 */
import { eventId, stringJson } from '../base/json.js';
import { EventRecord } from '../core/event.js';
import { wireName } from './names.js';
import { keyValues, rfc3339, stalwartDataJson } from './values.js';
import type { StalwartVersion } from './version.js';

/** What the writers read of an event: a live record, or one read back from a history store. */
export interface EventLike {
  readonly id: number;
  readonly type: string;
  readonly timestamp: number;
  readonly data: Readonly<Record<string, unknown>>;
}

/** A webhook body item under `version`: RFC 3339 times, nested errors as events, 0.15 names under 0.15. */
export function webhookItemJson(event: EventLike, version: StalwartVersion): string {
  const id = event instanceof EventRecord ? event.idJson : eventId(event.id);
  const type = wireName(event.type, version);
  const data = stalwartDataJson(event.data, { errorType: type, vocabulary: false, spanId: true });
  return `{"id":${id},"createdAt":"${rfc3339(event.timestamp)}","type":${stringJson(type)},"data":${data}}`;
}

/**
 * A 0.15 event item `{text, details, createdAt, type, data}`, readable by the 0.15 admin: keys of
 * Stalwart's vocabulary only, `spanId` left out. Stalwart's `details` is a longer explanation of
 * the event type; the catalogue's description stands for both.
 */
export function item015Json(event: EventLike, describe: (type: string) => string, version: StalwartVersion = '0.15'): string {
  const text = stringJson(describe(event.type));
  const type = wireName(event.type, version);
  const data = stalwartDataJson(event.data, { errorType: type, vocabulary: true, spanId: false });
  return `{"text":${text},"details":${text},"createdAt":"${rfc3339(event.timestamp)}","type":${stringJson(type)},"data":${data}}`;
}

/** A 0.15 trace-list item `{createdAt, type, data}` with `spanId` (Stalwart's `with_spans()`). */
export function summary015Json(event: EventLike, version: StalwartVersion = '0.15'): string {
  const type = wireName(event.type, version);
  const data = stalwartDataJson(event.data, { errorType: type, vocabulary: true, spanId: true });
  return `{"createdAt":"${rfc3339(event.timestamp)}","type":${stringJson(type)},"data":${data}}`;
}

/** A 0.16 live item `{event, timestamp, keyValues}`: the event's own keys, without its span's. */
export function item016Json(event: EventLike): string {
  const own = event instanceof EventRecord ? event.own : event.data;
  let pairs: string;
  try {
    pairs = JSON.stringify(keyValues(own, event.type));
  } catch {
    pairs = '[]';
  }
  return `{"event":${stringJson(event.type)},"timestamp":"${rfc3339(event.timestamp)}","keyValues":${pairs}}`;
}
