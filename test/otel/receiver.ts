/**
 * A loopback OTLP/HTTP receiver for the real OTLP exporters (JSON encoding): it keeps each signal's
 * decoded requests, and turns OTLP's key-value lists back into plain objects for the assertions.
 */
import { gunzipSync } from 'node:zlib';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { TelemetryEvent } from '../../src/index.js';
import { listenLoopback } from '../support/loopback.js';

/** An OTLP `AnyValue` in its JSON encoding. */
interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: string;
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}

export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

/** One OTLP JSON value as a plain one (ints as numbers). */
export function plainValue(value: AnyValue | undefined): Plain {
  if (value === undefined) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(plainValue);
  if (value.kvlistValue !== undefined) return plainAttributes(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return null;
}

/** An OTLP attribute list as an object. */
export function plainAttributes(list: readonly KeyValue[] | undefined): { [key: string]: Plain } {
  const out: { [key: string]: Plain } = {};
  for (const { key, value } of list ?? []) Object.defineProperty(out, key, { value: plainValue(value), enumerable: true });
  return out;
}

export interface ReceivedSpan {
  readonly resource: Record<string, Plain>;
  readonly scope: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Record<string, Plain>;
  readonly events: readonly { name: string; attributes: Record<string, Plain> }[];
}

export interface ReceivedLog {
  readonly resource: Record<string, Plain>;
  readonly scope: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly body: Plain;
  readonly eventName: string | undefined;
  readonly timeUnixNano: string;
  readonly attributes: Record<string, Plain>;
}

export interface ReceivedMetric {
  readonly resource: Record<string, Plain>;
  readonly name: string;
  readonly unit: string;
  readonly points: readonly { attributes: Record<string, Plain>; value: number | undefined; count: number | undefined }[];
}

// biome-ignore lint/suspicious/noExplicitAny: decoded OTLP JSON, read field by field below
type Json = any;

/** Starts a receiver on 127.0.0.1; `status` makes it answer every request with that HTTP status. */
export async function otlpReceiver(options: { status?: number } = {}) {
  const bodies: { path: string; json: Json }[] = [];
  const { origin } = await listenLoopback((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const status = options.status ?? 200;
      if (status === 200) {
        // JSON.parse throws on an invalid body: the test fails at the source of the breakage.
        bodies.push({ path: req.url ?? '', json: JSON.parse(raw.toString('utf8')) });
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const of = (path: string) => bodies.filter((b) => b.path === path).map((b) => b.json);
  return {
    origin,
    url: (signal: 'traces' | 'logs' | 'metrics') => `${origin}/v1/${signal}`,
    requests: () => bodies.length,
    spans(): ReceivedSpan[] {
      return of('/v1/traces').flatMap((json: Json) =>
        (json.resourceSpans ?? []).flatMap((rs: Json) =>
          (rs.scopeSpans ?? []).flatMap((ss: Json) =>
            (ss.spans ?? []).map(
              (s: Json): ReceivedSpan => ({
                resource: plainAttributes(rs.resource?.attributes),
                scope: ss.scope?.name,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? '',
                name: s.name,
                kind: s.kind,
                attributes: plainAttributes(s.attributes),
                events: (s.events ?? []).map((e: Json) => ({ name: e.name, attributes: plainAttributes(e.attributes) })),
              }),
            ),
          ),
        ),
      );
    },
    logs(): ReceivedLog[] {
      return of('/v1/logs').flatMap((json: Json) =>
        (json.resourceLogs ?? []).flatMap((rl: Json) =>
          (rl.scopeLogs ?? []).flatMap((sl: Json) =>
            (sl.logRecords ?? []).map(
              (l: Json): ReceivedLog => ({
                resource: plainAttributes(rl.resource?.attributes),
                scope: sl.scope?.name,
                traceId: l.traceId ?? '',
                spanId: l.spanId ?? '',
                severityNumber: l.severityNumber,
                severityText: l.severityText,
                body: plainValue(l.body),
                eventName: l.eventName,
                timeUnixNano: String(l.timeUnixNano),
                attributes: plainAttributes(l.attributes),
              }),
            ),
          ),
        ),
      );
    },
    metrics(): ReceivedMetric[] {
      return of('/v1/metrics').flatMap((json: Json) =>
        (json.resourceMetrics ?? []).flatMap((rm: Json) =>
          (rm.scopeMetrics ?? []).flatMap((sm: Json) =>
            (sm.metrics ?? []).map((m: Json): ReceivedMetric => {
              const data = m.sum ?? m.gauge ?? m.histogram ?? {};
              return {
                resource: plainAttributes(rm.resource?.attributes),
                name: m.name,
                unit: m.unit ?? '',
                points: (data.dataPoints ?? []).map((p: Json) => ({
                  attributes: plainAttributes(p.attributes),
                  value: p.asInt !== undefined ? Number(p.asInt) : p.asDouble,
                  count: p.count === undefined ? undefined : Number(p.count),
                })),
              };
            }),
          ),
        ),
      );
    },
  };
}

/** The real OTLP/HTTP span and log exporters sending to `receiver`: an otel tracer's `exporter` and `logExporter`. */
export function otlpExporters(receiver: { url(signal: 'traces' | 'logs'): string }): {
  exporter: OTLPTraceExporter;
  logExporter: OTLPLogExporter;
} {
  return {
    exporter: new OTLPTraceExporter({ url: receiver.url('traces') }),
    logExporter: new OTLPLogExporter({ url: receiver.url('logs') }),
  };
}

/** Collects the `telemetry.otel-exporter-error` events `telemetry` reports from now on. */
export function exporterErrors(telemetry: {
  on(pattern: 'telemetry.otel-exporter-error', listener: (event: TelemetryEvent) => void): unknown;
}): TelemetryEvent[] {
  const errors: TelemetryEvent[] = [];
  telemetry.on('telemetry.otel-exporter-error', (event) => {
    errors.push(event);
  });
  return errors;
}
