/**
 * The mechanisms of one instance, built over the core's context: metrics, webhooks, history, live
 * streams, alerts, and the HTTP handlers that expose them.
 */
import { type AlertsApi, createAlerts } from './alerts/alerts.js';
import { alertsHandler } from './alerts/handler.js';
import { describeError } from './base/errors.js';
import type { Catalog } from './catalog/catalog.js';
import type { CoreContext } from './core/mechanism.js';
import { createDashboard } from './dashboard/dashboard.js';
import { historyHandler } from './history/handler.js';
import { createHistory, type HistoryApi } from './history/history.js';
import type { TelemetryHandlers } from './http/handler.js';
import { prometheusHandler } from './http/prometheus.js';
import { createLive, type LiveApi } from './live/live.js';
import type { MetricsApi } from './metrics/api.js';
import { metricsApi } from './metrics/facade.js';
import type { MetricsRegistry } from './metrics/registry.js';
import type { ResolvedOptions } from './options.js';
import { createWebhooks, type WebhooksApi } from './webhooks/webhooks.js';

/** What the composition root adds to the core. */
export interface Mechanisms {
  readonly metrics: MetricsApi;
  readonly handlers: TelemetryHandlers;
  readonly webhooks: WebhooksApi;
  readonly history: HistoryApi;
  readonly live: LiveApi;
  readonly alerts: AlertsApi;
}

/** The registry the core feeds, with the event counters it increments. */
export interface Metering {
  readonly registry: MetricsRegistry;
  readonly catalog: Catalog;
  readonly counts: Float64Array;
}

/** Builds every mechanism; each subscribes through the finished core. */
export function buildMechanisms(core: CoreContext, metering: Metering, options: ResolvedOptions): Mechanisms {
  const { registry } = metering;
  const metrics = metricsApi(registry, metering.catalog, metering.counts);
  registry.sampleMemory();
  const memory = setInterval(() => registry.sampleMemory(), options.metrics.memoryInterval);
  memory.unref();
  core.attach({ id: 'metrics', close: () => clearInterval(memory) });
  const context = { ...core, metrics };
  const history = createHistory(context, options.history);
  const live = createLive(context, options.live);
  const stalwart = options.historyStalwart;
  // Under a Stalwart version the history answers in Stalwart's bodies: decided here, once.
  const historyHttp =
    stalwart === undefined
      ? history.handler
      : historyHandler(
          history.api,
          () => core.now(),
          options.history?.authorize,
          (error, details) =>
            core.report('telemetry.subscriber-error', { id: 'history.handler', reason: describeError(error), details }),
          { version: stalwart, describe: (type) => core.describe(type) },
        );
  // Webhooks first: their metrics exist before the alert rules bind to the registry.
  const webhooks = createWebhooks(context, options.webhooks);
  const alerts = createAlerts(context, options.alerts, { history: history.api });
  return {
    metrics,
    webhooks,
    history: history.api,
    live: live.api,
    alerts,
    handlers: {
      prometheus: prometheusHandler(
        (format) => registry.prometheus(format),
        options.metrics.auth,
        options.metrics.naming === 'stalwart',
      ),
      liveTracing: live.handlers.liveTracing,
      liveMetrics: live.handlers.liveMetrics,
      liveToken: live.handlers.liveToken,
      history: historyHttp,
      alerts: alertsHandler(alerts, options.alerts.authorize ?? options.history?.authorize, (error, details) =>
        core.report('telemetry.subscriber-error', { id: 'alerts.handler', reason: describeError(error), details }),
      ),
      dashboard: createDashboard(options.dashboard),
    },
  };
}
