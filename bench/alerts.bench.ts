/**
 * Alerts: the time one evaluation tick takes with 1,000 rules over the registry's current values
 * (one snapshot, then every condition), as `telemetry.alerts.evaluate()` runs it on its timer.
 */
import { type AlertRuleOptions, createTelemetry } from '../dist/index.js';
import type { Figure } from './harness.js';
import { median } from './stats.js';

const RULES = 1000;
const TICKS = 200;

/** Conditions of the shapes operators write: thresholds, ratios, percentiles, logic. */
const SHAPES = [
  (i: number) => `smtp_connection_start > ${1000 + i}`,
  (i: number) => `queue_count > 5_000 && server_memory > ${i} * 1024 * 1024`,
  (i: number) => `p95(delivery_total_time) > ${30_000 + i}`,
  (i: number) => `metric('delivery.delivered') / max(1, metric('delivery.completed')) > 0.${(i % 9) + 1}`,
  (i: number) => `abs(queue_count - ${i}) >= 10 ^ (auth_failed > 100 || auth_error > ${i})`,
];

export const figures: Record<string, () => Promise<Figure>> = {
  'alerts-evaluate-1000': async () => {
    const rules: AlertRuleOptions[] = Array.from({ length: RULES }, (_, i) => ({
      id: `rule-${i}`,
      condition: (SHAPES[i % SHAPES.length] as (i: number) => string)(i),
      for: '5m',
    }));
    // Current-value rules over the registry: no default history (its series timer) beside them.
    const telemetry = createTelemetry({ history: false, alerts: rules });
    telemetry.metrics.gauge('queue.count').set(2500);
    const times: number[] = [];
    for (let t = 0; t < TICKS; t++) {
      for (let i = 0; i < 50; i++)
        telemetry.emit('smtp.connection-start', { remoteIp: '192.0.2.1', remotePort: 1, listenerId: 'mx', localPort: 25 });
      telemetry.emit('delivery.completed');
      globalThis.gc?.();
      const start = process.hrtime.bigint();
      await telemetry.alerts.evaluate();
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    const states = new Set(telemetry.alerts.state().map((s) => s.state));
    await telemetry.shutdown();
    return {
      title: `alerts: one evaluation tick of ${RULES} rules`,
      value: median(times.slice(TICKS / 4)),
      unit: 'ms',
      limit: { atMost: 10 },
      note: `median of ${TICKS - TICKS / 4} ticks after warm-up; rules ended in states ${[...states].sort().join(', ')}`,
    };
  },
};
