import * as types from 'node:util/types';
import type { Attributes, AttributeValue, Context, Span, SpanKind, SpanOptions, TracerProvider } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { describeError } from '../base/errors.js';
import { JSON_LIMITS, MARKERS, safeJson } from '../base/json.js';
import { type Level, severity } from '../base/levels.js';
import { matchPattern } from '../base/patterns.js';
import type { SpanId } from '../catalog/keys.js';
import type { TelemetryEvent } from '../catalog/types.js';
import { EventRecord } from '../core/event.js';
import { IdTable } from '../core/id-table.js';
import { type InternalSinkContext, type Sink, SPAN_EMIT } from '../core/sink.js';
import type { TracerCommonOptions } from '../tracing/options.js';
import {
  EVENT_NAME_ATTRIBUTE,
  type OtelLogger,
  type OtelLoggerProvider,
  type OtelLogRecordExporter,
  SEVERITY_NUMBER,
  SEVERITY_TEXT,
} from './logs.js';
import { buildLoggerProvider, buildResource, buildTracerProvider, type OwnedProvider, otelApi } from './sdk.js';
import { type OtelAttributeNames, type Rename, renaming } from './semconv.js';

/**
 * What the otel tracer needs of an OpenTelemetry `SpanExporter` (`@opentelemetry/sdk-trace` or
 * sdk-trace-base), such as `OTLPTraceExporter`. Declared here rather than imported, so that the
 * package's types fit the exporters of every SDK line the API peer range allows (2.x and 3.x).
 */
export interface OtelSpanExporter {
  /** Sends `spans`; calls `done` with `{ code: 0 }` on success. */
  export(spans: readonly object[], done: (result: { code: number; error?: Error }) => void): void;
  /** Sends what is pending and releases the exporter. */
  shutdown(): Promise<void>;
  /** Sends what is pending. */
  forceFlush?(): Promise<void>;
}

/** Turns each span (start event ... end event) into one OpenTelemetry span. */
export interface OtelTracerOptions extends TracerCommonOptions {
  readonly type: 'otel';
  /**
   * The host's `TracerProvider`, set up with its processors and exporter. Not with `exporter`.
   * @default the global provider (`trace.getTracerProvider()`), unless `exporter` is given
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * An OpenTelemetry `SpanExporter`, such as `OTLPTraceExporter`, for a host with no tracer
   * provider of its own: the tracer builds a `TracerProvider` (`@opentelemetry/sdk-trace`) around it with a
   * `BatchSpanProcessor` (tuned by the `OTEL_BSP_*` environment variables), the resource
   * attributes `service.name` (the telemetry's `service`), `host.name` and `service.instance.id`,
   * and the `sampleRatio` sampler. `telemetry.flush()` force-flushes it and `telemetry.shutdown()`
   * shuts it down; it is never registered as the global provider. Not with `tracerProvider`.
   * @default none: spans go to `tracerProvider`
   */
  readonly exporter?: OtelSpanExporter;
  /**
   * With `exporter`: the share of new traces kept, from 0 to 1, by a
   * `ParentBased(TraceIdRatioBased(sampleRatio))` sampler; a span with a parent follows its
   * parent's decision.
   * @default 1 (every trace)
   */
  readonly sampleRatio?: number;
  /**
   * With `exporter` or `logExporter`: resource attributes added to (or overriding) the built
   * providers' own, such as `{ 'service.version': '1.4.2', 'deployment.environment.name': 'prod' }`.
   * @default {}
   */
  readonly resourceAttributes?: Attributes;
  /**
   * An OpenTelemetry `LoggerProvider` (`@opentelemetry/api-logs`): every event the tracer selects
   * is also emitted as a log record, with the trace and span ids of its span. Not with `logExporter`.
   * @default none: no log records, unless `logExporter` is given
   */
  readonly loggerProvider?: OtelLoggerProvider;
  /**
   * An OpenTelemetry `LogRecordExporter`, such as `OTLPLogExporter`: the tracer builds a
   * `LoggerProvider` around it with a `BatchLogRecordProcessor` and the same resource as
   * `exporter`'s, flushed and shut down with the telemetry. Needs `@opentelemetry/sdk-logs`
   * (an optional peer dependency). Not with `loggerProvider`.
   * @default none: no log records, unless `loggerProvider` is given
   */
  readonly logExporter?: OtelLogRecordExporter;
  /**
   * The names of span, span event and log record attributes: the catalogue's keys (`remoteIp`,
   * `remotePort`, `localIp`, `localPort`, `hostname`, `url`), OpenTelemetry's semantic-convention
   * names in their place (`'semconv'`: `client.address`, `client.port`, `server.address`,
   * `server.port`, `network.peer.address`, `network.peer.port`, `network.local.address`,
   * `network.local.port`, `url.full`), or both side by side. Connections are SERVER spans, whose
   * remote end is the client; delivery attempts are CLIENT spans, whose remote end is the server
   * (`server.address` is the MX `hostname` when the event has it).
   * @default 'catalogue'
   */
  readonly attributes?: OtelAttributeNames;
  /**
   * The instrumentation scope name, of the tracer and of the logger.
   * @default 'mail-telemetry'
   */
  readonly tracerName?: string;
  /**
   * Most spans kept open waiting for their end event; past it the oldest are ended early, marked
   * with the attribute `mail_telemetry.incomplete = true`.
   * @default 10_000
   */
  readonly maxOpenSpans?: number;
  /**
   * Adds events emitted outside any telemetry span as span events of the OpenTelemetry span that
   * was active where they were emitted (such as the host's HTTP request span).
   * @default true
   */
  readonly attachToActiveSpan?: boolean;
}

/** What an event type is to a span: it starts a server or a client span, ends one, or falls inside. */
const START_SERVER = 1;
const START_CLIENT = 2;
const END = 3;
const INSIDE = 4;

type Data = Readonly<Record<string, unknown>>;
const EMPTY: Data = Object.freeze({});

/** Keys that may hold objects, or `undefined` when any key may. */
type ObjectKeys = readonly string[] | undefined;

interface TypeInfo {
  readonly role: number;
  readonly objectKeys: ObjectKeys;
  /** True when the tracer's `events` and `exclude` select it: span start and end events come whatever they say. */
  readonly selected: boolean;
  /** The attribute names of the event outside any span: a delivery event's are a client's. */
  readonly rename: Rename | undefined;
}

interface Open {
  readonly span: Span;
  /** The attribute names of the span's events: a server's or a client's. */
  readonly rename: Rename | undefined;
  error: string | undefined;
  /** The context holding the span, made for the first log record of the span. */
  context: Context | undefined;
}

/**
 * The OTel sink, which works at emit time. A span starts with its start event, so that its parent
 * is the telemetry span current through `withSpan` or else the active OTel span. It is named after
 * its start event, with the start event's keys as attributes; each event in between becomes a
 * span event with its own keys (the span's keys are on the span already); an error-level event
 * sets the error status; the end event ends it at the event's time. Delivery attempts are client
 * spans, connections server spans.
 */
export function otelSink(options: OtelTracerOptions, context: InternalSinkContext): Sink {
  const { context: otelContext, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } = otelApi();
  const scope = options.tracerName ?? 'mail-telemetry';
  // Providers built from the host's exporters are the tracer's own: flushed and shut down with it.
  const owned: OwnedProvider[] = [];
  const resource =
    options.exporter === undefined && options.logExporter === undefined
      ? undefined
      : buildResource(context.service, options.resourceAttributes);
  let provider = options.tracerProvider ?? trace.getTracerProvider();
  const drops = resource === undefined ? undefined : new Drops(context);
  if (options.exporter !== undefined && resource !== undefined && drops !== undefined) {
    const exporter = options.exporter as unknown as SpanExporter;
    const built = buildTracerProvider(exporter, resource, options.sampleRatio ?? 1, context.report, drops.counter('spans'));
    owned.push(built.owned);
    provider = built.provider;
  }
  let logger: OtelLogger | undefined;
  if (options.logExporter !== undefined && resource !== undefined && drops !== undefined) {
    const built = buildLoggerProvider(options.logExporter, resource, context.report, drops.counter('log records'));
    owned.push(built.owned);
    logger = built.provider.getLogger(scope);
  } else if (options.loggerProvider !== undefined) logger = options.loggerProvider.getLogger(scope);
  const tracer = provider.getTracer(scope);
  const maxOpen = options.maxOpenSpans ?? 10_000;
  const ends = new Set(context.spans.values());
  const open = new IdTable<Open>();
  const attach = options.attachToActiveSpan ?? true;
  // At emit time OTel's own clock reads the same moment, with sub-millisecond precision; an
  // injected telemetry clock (tests) is followed instead.
  const system = context.systemClock;
  const names = options.attributes ?? 'catalogue';
  const serverNames = renaming(names, false);
  const clientNames = renaming(names, true);

  // Log records follow the tracer's selection: span start and end events reach this sink whatever
  // its level and patterns (the spans need them), but are logged only when selected.
  const minimum = severity(options.level ?? 'info');
  const include = options.events !== undefined && options.events.length > 0 ? options.events : ['*'];
  const exclude = options.exclude ?? [];

  // What each event type is to a span, and which of its keys may hold objects, learnt on first
  // sight: cheaper than string checks and key scans per event.
  const types: TypeInfo[] = [];
  const typeInfo = (typeId: number, type: string): TypeInfo => {
    let known = types[typeId];
    if (known === undefined) {
      const kind = type.startsWith('delivery.') ? START_CLIENT : START_SERVER;
      const role = context.spans.has(type) ? kind : ends.has(type) ? END : INSIDE;
      const selected = include.some((p) => matchPattern(p, type)) && !exclude.some((p) => matchPattern(p, type));
      const rename = kind === START_CLIENT ? clientNames : serverNames;
      known = { role, objectKeys: context.objectKeys(type), selected, rename };
      types[typeId] = known;
    }
    return known;
  };
  // The previous event's span: a session's events come in runs, so most lookups stop here.
  let lastId = -1;
  let last: Open | undefined;

  const start = (id: number, type: string, info: TypeInfo, own: Data, timestamp: number): Open => {
    const parentId = context.parentOf(id);
    const parent = parentId === undefined ? undefined : open.get(parentId as number)?.span;
    const active = otelContext.active();
    const kind = info.role === START_CLIENT ? SpanKind.CLIENT : SpanKind.SERVER;
    const within = parent === undefined ? active : trace.setSpan(active, parent);
    const rename = info.rename;
    let span: Span;
    try {
      // A start event's own keys are its span's keys.
      const attrs = plain({ ...own, spanId: id }, info.objectKeys);
      span = tracer.startSpan(type, spanOptions(kind, named(attrs, rename), system ? undefined : timestamp), within);
    } catch {
      // A hostile value (a throwing getter, an odd array) must not cost the span: start it from a safe copy.
      const attrs = named({ ...copyAttributes(own), spanId: id }, rename);
      span = tracer.startSpan(type, spanOptions(kind, attrs, system ? undefined : timestamp), within);
    }
    const entry: Open = { span, rename, error: undefined, context: undefined };
    open.set(id, entry);
    if (open.size > maxOpen) endOldest(open, maxOpen);
    return entry;
  };

  const end = (entry: Open, id: number, own: Data, timestamp: number) => {
    const elapsed = readKey(own, 'elapsed');
    if (typeof elapsed === 'number') entry.span.setAttribute('elapsed', elapsed);
    if (entry.error !== undefined) entry.span.setStatus({ code: SpanStatusCode.ERROR, message: entry.error });
    if (system) entry.span.end();
    else entry.span.end(timestamp);
    open.delete(id);
  };

  /**
   * One event of span `id`: it starts the OTel span, ends it, or becomes one of its events. Returns
   * the span's entry (ended or not), for the event's log record.
   */
  const inSpan = (id: number, typeId: number, type: string, level: Level, own: Data, timestamp: number): Open | undefined => {
    const entry = id === lastId ? last : open.get(id);
    const info = typeInfo(typeId, type);
    if (entry === undefined) {
      if (info.role === START_SERVER || info.role === START_CLIENT) {
        last = start(id, type, info, own, timestamp);
        lastId = id;
        return last;
      }
      return undefined;
    }
    if (level === 'error') entry.error ??= `${type}: ${context.describe(type)}`;
    if (info.role === END) {
      end(entry, id, own, timestamp);
      lastId = -1;
      last = undefined;
    } else addEvent(entry.span, type, own, info.objectKeys, system ? undefined : timestamp, entry.rename);
    return entry;
  };

  /** The event as a log record, in the context of its span's OTel span (or the active one). */
  const log = (out: OtelLogger, event: TelemetryEvent, entry: Open | undefined) => {
    const level = event.level;
    const info = typeInfo(event.typeId, event.type);
    if (severity(level) < minimum || !info.selected) return;
    const rename = entry === undefined ? info.rename : entry.rename;
    let attrs: Attributes;
    try {
      attrs = { ...named(attributes(event.data), rename), [EVENT_NAME_ATTRIBUTE]: event.type };
    } catch {
      // A throwing getter: the safe copy marks what cannot be read.
      attrs = { ...named(copyAttributes(event.data), rename), [EVENT_NAME_ATTRIBUTE]: event.type };
    }
    let within: Context;
    if (entry === undefined) within = otelContext.active();
    else {
      entry.context ??= trace.setSpan(ROOT_CONTEXT, entry.span);
      within = entry.context;
    }
    out.emit({
      eventName: event.type,
      timestamp: event.timestamp,
      severityNumber: SEVERITY_NUMBER[level],
      severityText: SEVERITY_TEXT[level],
      body: context.describe(event.type),
      attributes: attrs,
      context: within,
    });
  };

  const outside = (event: TelemetryEvent) => {
    const active = trace.getSpan(otelContext.active());
    if (active === undefined) return;
    const rename = typeInfo(event.typeId, event.type).rename;
    addEvent(active, event.type, event.data, undefined, system ? undefined : event.timestamp, rename);
  };

  // Everything happens at emit time, as hand-written OTel calls would: the caller's context is
  // there, and the host's span processor does the exporting off the emitter's stack.
  context.onEmit((event) => {
    const id = event.spanId;
    let entry: Open | undefined;
    if (id === undefined) {
      if (attach) outside(event);
    } else {
      const spanId = typeof id === 'number' ? id : typeof id === 'string' ? Number(id) : Number.NaN;
      if (Number.isSafeInteger(spanId))
        entry = inSpan(spanId, event.typeId, event.type, event.level, ownKeys(event), event.timestamp);
    }
    if (logger !== undefined) log(logger, event, entry);
  });
  // The events of open spans, without an event object. Timestamps are OTel's own clock's then, so
  // an injected clock (tests) keeps the path above, which carries each event's time. Log records
  // need the whole event (its merged keys, level and time), so with a logger every event takes the
  // path above.
  if (system && logger === undefined)
    context[SPAN_EMIT]((id, typeId, type, level, own) => {
      inSpan(id, typeId, type, level, own ?? EMPTY, 0);
    });

  return {
    activate<T>(spanId: SpanId, fn: () => T): T {
      const entry = open.get(spanId as number);
      return entry === undefined ? fn() : otelContext.with(trace.setSpan(otelContext.active(), entry.span), fn);
    },
    async flush() {
      await Promise.all(owned.map((built) => built.forceFlush()));
      drops?.report();
    },
    async close() {
      for (const [, entry] of open.entries()) {
        entry.span.setAttribute('mail_telemetry.incomplete', true);
        entry.span.end();
      }
      open.clear();
      lastId = -1;
      last = undefined;
      // Shutting a built provider down exports what its batch processor holds, the spans just
      // ended included.
      await Promise.all(owned.map((built) => built.shutdown()));
      drops?.report();
    },
  };
}

type Signal = 'spans' | 'log records';

/** The registry counter of the items the built providers' batch processors dropped. */
const DROPPED_METRIC = 'telemetry.otel-dropped';

/**
 * Drops inside the built providers' batch processors (their queue was full: spans ended, or log
 * records emitted, faster than the exporter sends them). Each is counted at once in the registry
 * counter `telemetry.otel-dropped` (labels `tracer` and `signal`), and reported as the tracer's
 * error event once per burst: at the next turn of the event loop, or at flush and shutdown.
 */
class Drops {
  readonly #context: InternalSinkContext;
  readonly #pending = new Map<Signal, number>();
  #scheduled: NodeJS.Immediate | undefined;

  constructor(context: InternalSinkContext) {
    this.#context = context;
  }

  /** The callback that counts one signal's drops. */
  counter(signal: Signal): (count: number) => void {
    const counter = this.#context.counter(DROPPED_METRIC, {
      help: "Spans and log records an otel tracer's batch processors dropped, their queue full",
      unit: '',
      labels: ['tracer', 'signal'],
    });
    const labels = { tracer: this.#context.id, signal: signal === 'spans' ? 'spans' : 'logs' };
    return (count) => {
      if (!(count > 0)) return;
      counter.inc(labels, count);
      this.#pending.set(signal, (this.#pending.get(signal) ?? 0) + count);
      this.#scheduled ??= setImmediate(() => this.report());
    };
  }

  /** Reports what was dropped since the last report. */
  report(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    for (const [signal, count] of this.#pending) {
      this.#context.report(
        new Error(`the ${signal === 'spans' ? 'BatchSpanProcessor' : 'BatchLogRecordProcessor'} queue is full`),
        `${count} ${signal} dropped`,
      );
    }
    this.#pending.clear();
  }
}

/** The event's own keys, where the library knows them apart from its span's. */
function ownKeys(event: TelemetryEvent): Readonly<Record<string, unknown>> {
  return event instanceof EventRecord ? event.own : event.data;
}

/** Ends the oldest spans (ids are time-ordered) down to seven eighths of the bound, marked incomplete. */
function endOldest(open: IdTable<Open>, maxOpen: number): void {
  const ids = [...open.entries()].map(([id]) => id).sort((a, b) => a - b);
  const keep = Math.max(1, maxOpen - (maxOpen >> 3));
  for (const id of ids.slice(0, ids.length - keep)) {
    const entry = open.get(id) as Open;
    entry.span.setAttribute('mail_telemetry.incomplete', true);
    entry.span.end();
    open.delete(id);
  }
}

function spanOptions(kind: SpanKind, attributes: Attributes, startTime: number | undefined): SpanOptions {
  return startTime === undefined ? { kind, attributes } : { kind, startTime, attributes };
}

/**
 * Adds a span event. The fast attributes are the event's keys themselves, which the SDK reads
 * again; when that throws (a getter, a hostile array), the event is added from a safe copy instead.
 */
function addEvent(
  span: Span,
  type: string,
  data: Data,
  objectKeys: ObjectKeys,
  time: number | undefined,
  rename: Rename | undefined,
): void {
  try {
    const attrs = rename === undefined ? plain(data, objectKeys) : rename(plain(data, objectKeys));
    if (time === undefined) span.addEvent(type, attrs);
    else span.addEvent(type, attrs, time);
  } catch {
    if (time === undefined) span.addEvent(type, named(copyAttributes(data), rename));
    else span.addEvent(type, named(copyAttributes(data), rename), time);
  }
}

/** The attributes under the names the tracer was asked for. */
function named(attributes: Attributes, rename: Rename | undefined): Attributes {
  return rename === undefined ? attributes : rename(attributes);
}

/** A key's value, or undefined when its getter throws. */
function readKey(data: Data, key: string): unknown {
  try {
    return data[key];
  } catch {
    return undefined;
  }
}

/**
 * `data` as OTel attributes, scanned only where its event's declared types allow an object: most
 * events hold strings and numbers, and a scan of every event costs more than the rest of the sink.
 * (An untyped caller's object under a string key is dropped by the SDK, which only takes primitives.)
 */
function plain(data: Data, objectKeys: ObjectKeys): Attributes {
  if (objectKeys === undefined) return attributes(data);
  for (let i = 0; i < objectKeys.length; i++) {
    const value = data[objectKeys[i] as string];
    if (typeof value === 'object' && value !== null) return attributes(data);
  }
  return data as Attributes;
}

/** OTel attributes from event keys: primitives and primitive arrays as they are, the rest as text. */
function attributes(data: Data): Attributes {
  // Most events hold only strings and numbers: then the data object itself will do (OTel copies it).
  for (const key of Object.keys(data)) {
    const type = typeof data[key];
    if (type !== 'string' && type !== 'number' && type !== 'boolean') return copyAttributes(data);
  }
  return data as Attributes;
}

/** A new attributes object from the own keys of `data`; never throws. */
function copyAttributes(data: Data): Attributes {
  const out: Attributes = {};
  let keys: string[];
  try {
    keys = Object.keys(data);
  } catch {
    return out;
  }
  for (const key of keys) {
    let value: AttributeValue | undefined;
    try {
      value = attribute(data[key]);
    } catch {
      value = MARKERS.unreadable;
    }
    if (value === undefined) continue;
    // Defined, not assigned: a `__proto__` key stays a plain key.
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}

/** One value as an attribute: primitives as they are, times as RFC 3339, anything else as text. */
function attribute(value: unknown): AttributeValue | undefined {
  switch (typeof value) {
    case 'string':
      return value.length > JSON_LIMITS.maxString ? `${value.slice(0, JSON_LIMITS.maxString)}…${MARKERS.truncated}` : value;
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'symbol':
      return JSON.parse(safeJson(value)) as string;
    case 'undefined':
    case 'function':
      return undefined;
  }
  if (value === null) return undefined;
  if (types.isDate(value)) {
    const time = Date.prototype.getTime.call(value);
    return Number.isNaN(time) ? MARKERS.invalidDate : new Date(time).toISOString();
  }
  if (types.isNativeError(value) || value instanceof Error) return `${errorName(value as Error)}: ${describeError(value)}`;
  if (types.isUint8Array(value)) {
    const bytes = value as Uint8Array;
    return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, JSON_LIMITS.maxString)).toString('base64');
  }
  if (Array.isArray(value)) return list(value);
  const type = (value as { type?: unknown }).type;
  if (typeof type === 'string') return type;
  return text(value);
}

/** A list as one homogeneous attribute array: kept when it is one already, else each item as text. */
function list(items: readonly unknown[]): AttributeValue {
  const length = Math.min(items.length, JSON_LIMITS.maxMembers);
  const out: unknown[] = [];
  let kind: string | undefined;
  let mixed = false;
  for (let i = 0; i < length; i++) {
    let item: unknown;
    try {
      item = items[i];
    } catch {
      item = MARKERS.unreadable;
    }
    const type = typeof item;
    if (type !== 'string' && type !== 'number' && type !== 'boolean') mixed = true;
    else if (kind === undefined) kind = type;
    else if (kind !== type) mixed = true;
    out.push(item);
  }
  if (!mixed) return out as AttributeValue;
  return out.map((item) => (typeof item === 'string' ? item : text(item)));
}

/** Any value as text: a JSON string's own text, else the JSON itself. */
function text(value: unknown): string {
  const json = safeJson(value);
  return json.startsWith('"') ? (JSON.parse(json) as string) : json;
}

function errorName(error: Error): string {
  try {
    const name = error.name;
    return typeof name === 'string' ? name : 'Error';
  } catch {
    return 'Error';
  }
}
