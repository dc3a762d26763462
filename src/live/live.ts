import { describeError } from '../base/errors.js';
import type { RequestHandler } from '../http/handler.js';
import type { MechanismContext } from '../metrics/api.js';
import { compileFilter, keyIndex, type LiveFilter } from './filter.js';
import { metricsFrameWriter, traceItemWriter } from './frames.js';
import { Hub } from './hub.js';
import { type LiveMetricsOptions, type LiveMetricsStream, MetricsStream, planMetrics } from './metrics.js';
import type { ResolvedLive } from './options.js';
import { metricsQuery, tracingQuery } from './query.js';
import { type FrameSource, MetricFrames, TraceFrames } from './sources.js';
import { LiveUnavailableError, sseHandler } from './sse.js';
import { EventStream, type LiveEventStream } from './stream.js';
import { type LiveScope, type LiveTokenClaims, type LiveTokenOptions, TokenSigner } from './token.js';
import { tokenHandler } from './token-handler.js';

/** Counters of the live mechanism. */
export interface LiveStats {
  /** Event streams open now, in-process and SSE. */
  readonly eventStreams: number;
  /** Metric streams open now, in-process and SSE. */
  readonly metricStreams: number;
  /** SSE responses streaming now. */
  readonly sse: number;
  /** Core subscriptions held for the event streams (at most one per level in use, two during a hand-over). */
  readonly subscriptions: number;
  /** Events held by event streams for their readers now. */
  readonly buffered: number;
  /** Events dropped by event streams so far because their readers were too slow. */
  readonly dropped: number;
}

/**
 * `telemetry.live`: filtered event and metric streams, and tokens for browser `EventSource` clients.
 * `P` is the event patterns the filter accepts.
 */
export interface LiveApi<P extends string = string> {
  /**
   * A stream of the events matching `filter`, read with `for await`. It has a bounded buffer: a
   * slow reader loses the oldest events, counted in `dropped`. `break` frees it at once.
   * Throws `TelemetryConfigError` for a bad filter, and an `Error` past `live.maxStreams`.
   */
  events(filter?: LiveFilter<P>): LiveEventStream;
  /** A stream of metric frames read from the registry: the first at once, then one per `interval`. */
  metrics(options?: LiveMetricsOptions): LiveMetricsStream;
  /** A signed token that opens one SSE stream for `ttlSeconds`; pass it as `?token=` or `Bearer`. */
  issueToken(options: LiveTokenOptions): string;
  /** The claims of a valid, unexpired token (of `scope`, when given), or undefined. */
  verifyToken(token: string, scope?: LiveScope): LiveTokenClaims | undefined;
  stats(): LiveStats;
}

/** The live mechanism: its API and its SSE request handlers. */
export interface LiveMechanism {
  readonly api: LiveApi;
  readonly handlers: {
    readonly liveTracing: RequestHandler;
    readonly liveMetrics: RequestHandler;
    readonly liveToken: RequestHandler;
  };
}

export function createLive(context: MechanismContext, options: ResolvedLive): LiveMechanism {
  const signer = new TokenSigner(options.tokenKey, () => context.now());
  const hub = new Hub(context);
  const keys = keyIndex(context.catalog);
  const spanEnds = new Set(context.spans.values());
  const eventStreams = new Set<EventStream>();
  const metricStreams = new Set<MetricsStream>();
  const sources = new Set<FrameSource>();
  let dropped = 0;
  let closed = false;

  const checkLimit = () => {
    if (closed) throw new LiveUnavailableError('mail-telemetry: this instance has been shut down');
    if (eventStreams.size + metricStreams.size >= options.maxStreams)
      throw new LiveUnavailableError(`mail-telemetry: live stream limit reached (live.maxStreams = ${options.maxStreams})`);
  };

  const openEvents = (filter: unknown, path: string): EventStream => {
    const compiled = compileFilter(context.catalog, keys, filter, path);
    const f = (filter ?? {}) as LiveFilter;
    checkLimit();
    const size = f.bufferSize ?? options.bufferSize;
    const stream = new EventStream(compiled, size, options.maxStickySpans, spanEnds, f.signal, (s) => {
      if (!eventStreams.delete(s)) return;
      dropped += s.dropped;
      hub.remove(s);
    });
    if (f.signal?.aborted === true) {
      stream.close();
      return stream;
    }
    eventStreams.add(stream);
    try {
      hub.add(stream);
    } catch (error) {
      eventStreams.delete(stream);
      stream.close();
      throw error;
    }
    return stream;
  };

  const openMetrics = (o: unknown, path: string, minimum: number): MetricsStream => {
    const plan = planMetrics(o, options.metricsInterval, minimum, path);
    checkLimit();
    const signal = (o as LiveMetricsOptions | undefined)?.signal;
    const stream = new MetricsStream(context.metrics, plan, signal, (s) => metricStreams.delete(s));
    if (signal?.aborted === true) stream.close();
    else metricStreams.add(stream);
    return stream;
  };

  /** Counts an SSE response for `flush`, `pending` and `stats` until its writer closes it. */
  const track = (source: FrameSource): FrameSource => {
    sources.add(source);
    return {
      next: () => source.next(),
      hurry: () => source.hurry(),
      get pending() {
        return source.pending;
      },
      close: () => {
        sources.delete(source);
        source.close();
      },
    };
  };

  const failed = (error: unknown) => {
    context.report('telemetry.subscriber-error', { id: 'live', reason: describeError(error) });
  };

  context.attach({
    id: 'live',
    pending: () => {
      let count = 0;
      for (const source of sources) count += source.pending;
      return count;
    },
    flush: async () => {
      await Promise.all([...sources].map((source) => source.hurry()));
    },
    close: () => {
      closed = true;
      hub.close();
      for (const stream of [...eventStreams]) stream.end();
      for (const stream of [...metricStreams]) stream.close();
    },
  });

  const api: LiveApi = {
    events: (filter) => openEvents(filter, 'live.events(filter)'),
    metrics: (o) => openMetrics(o, 'live.metrics(options)', options.minMetricsInterval),
    issueToken: (o) => signer.issue(o),
    verifyToken: (token, scope) => {
      const check = signer.check(token, scope);
      return check.ok ? check.claims : undefined;
    },
    stats: () => {
      let streamDrops = dropped;
      let buffered = 0;
      for (const stream of eventStreams) {
        streamDrops += stream.dropped;
        buffered += stream.buffered;
      }
      return {
        eventStreams: eventStreams.size,
        metricStreams: metricStreams.size,
        sse: sources.size,
        subscriptions: hub.subscriptions,
        buffered,
        dropped: streamDrops,
      };
    },
  };

  const describe = (type: string) => context.describe(type);
  // The item writers are chosen here, once: no per-event branch on the Stalwart setting.
  const traceItems = traceItemWriter(options.stalwart, describe);
  const metricsFrame = metricsFrameWriter(options.stalwart);
  return {
    api,
    handlers: {
      liveTracing: sseHandler({
        scope: 'tracing',
        signer,
        authorize: options.authorize,
        failed,
        open: (params) =>
          track(
            new TraceFrames(openEvents(tracingQuery(params, keys), 'query'), {
              window: options.batchWindow,
              ping: options.pingInterval,
              items: traceItems,
            }),
          ),
      }),
      liveMetrics: sseHandler({
        scope: 'metrics',
        signer,
        authorize: options.authorize,
        failed,
        open: (params) =>
          track(
            new MetricFrames(
              openMetrics(metricsQuery(params, options.minMetricsInterval), 'query', options.minMetricsInterval),
              options.pingInterval,
              metricsFrame,
            ),
          ),
      }),
      liveToken: tokenHandler(signer, options.authorize, options.stalwart, failed),
    },
  };
}
