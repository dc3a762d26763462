import { describe, expectTypeOf, it } from 'vitest';
import { createTelemetry, type GaugeMetric } from '../../src/index.js';

const telemetry = createTelemetry();

describe('metrics types', () => {
  it('types label names from the definition', () => {
    const bounces = telemetry.metrics.counter('mta.bounces', { help: 'Bounced messages', labels: ['reason', 'domain'] });
    bounces.inc({ reason: 'mailbox-full', domain: 'example.org' });
    bounces.inc({ reason: 'mailbox-full', domain: 'example.org' }, 2);
    bounces.labels({ reason: 'x', domain: 'y' }).inc();
    // @ts-expect-error: a label is missing
    bounces.inc({ reason: 'mailbox-full' });
    // @ts-expect-error: unknown label
    bounces.inc({ reason: 'x', domain: 'y', status: 'z' });
    // @ts-expect-error: label values are strings
    bounces.inc({ reason: 'x', domain: 42 });
    // @ts-expect-error: a labelled counter needs its labels
    bounces.inc();
  });

  it('keeps unlabelled metrics label-free', () => {
    const jobs = telemetry.metrics.counter('mta.jobs', { help: 'Jobs' });
    jobs.inc();
    jobs.inc(3);
    // @ts-expect-error: no labels were declared
    jobs.inc({ reason: 'x' });
    const latency = telemetry.metrics.histogram('mta.latency', { help: 'Latency', unit: 'seconds', buckets: [0.1, 1] });
    latency.observe(0.2);
    // @ts-expect-error: observe takes a number
    latency.observe('fast');
  });

  it('types built-in gauge and histogram names', () => {
    expectTypeOf(telemetry.metrics.gauge('user.count')).toEqualTypeOf<GaugeMetric>();
    telemetry.metrics.histogram('smtp.request-time').observe(120);
    // @ts-expect-error: not a built-in gauge, and no options to define one
    telemetry.metrics.gauge('user.cuont');
    // @ts-expect-error: a metric name is category.kebab-name
    telemetry.metrics.counter('bounces', { help: 'x' });
    // @ts-expect-error: help is required
    telemetry.metrics.counter('mta.other', {});
  });
});
