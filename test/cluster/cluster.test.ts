/**
 * One scrape across the workers of a real node:cluster host: a primary process forks real worker
 * processes (test/cluster/fixtures/primary.ts), each with its own telemetry instance, and serves
 * the summed scrape on 127.0.0.1. The tests run in order against one host: each one's traffic
 * adds to the totals the next one expects.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsProgram } from '../support/needs-program.js';
import { type Host, monotonic, type Scrape, startHost } from './helpers.js';

// Long enough that a worker of a loaded test machine always answers in time.
const TIMEOUT = 3000;
const root = fileURLToPath(new URL('../..', import.meta.url));

let host: Host;
/** Cluster worker id of each slot, as the fixture forked them. */
let ids: Record<number, number>;

beforeAll(async () => {
  host = await startHost(TIMEOUT);
  ids = ((await host.control({ do: 'workers' })) as { slots: Record<number, number> }).slots;
}, 60_000);

afterAll(async () => {
  await host?.stop();
});

const workerIds = async () => ((await host.control({ do: 'workers' })) as { slots: Record<number, number> }).slots;

function value(scrape: Scrape, key: string): number | undefined {
  return scrape.samples.get(key);
}

describe('mail-telemetry/cluster on a real node:cluster host', () => {
  it('sums counters, merges histograms bucket by bucket and sums gauges across two workers', async () => {
    await host.control({
      do: 'emit',
      slot: 1,
      sessions: 3,
      open: 1,
      deliveries: { ok: 5 },
      latency: [0.05, 0.7],
      size: [50, 700, 20_000],
      queue: 4,
    });
    await host.control({
      do: 'emit',
      slot: 2,
      sessions: 2,
      open: 2,
      deliveries: { ok: 1, failed: 2 },
      latency: [3, 0.3],
      size: [400, 4000],
      queue: 6,
    });
    const s = await host.scrape();
    expect(s.status).toBe(200);
    expect(s.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    // Event counters (slot 3 shares an idle telemetry: zeros).
    expect(value(s, 'mail_smtp_connection_start_total')).toBe(8);
    expect(value(s, 'mail_smtp_connection_end_total')).toBe(5);
    // A host counter with labels.
    expect(value(s, 'mail_test_deliveries_total{result="ok"}')).toBe(6);
    expect(value(s, 'mail_test_deliveries_total{result="failed"}')).toBe(2);
    // A host histogram with the same bounds in both workers: 0.05, 0.7 | 3, 0.3.
    expect(value(s, 'mail_test_latency_seconds_bucket{le="0.1"}')).toBe(1);
    expect(value(s, 'mail_test_latency_seconds_bucket{le="0.5"}')).toBe(2);
    expect(value(s, 'mail_test_latency_seconds_bucket{le="1"}')).toBe(3);
    expect(value(s, 'mail_test_latency_seconds_bucket{le="5"}')).toBe(4);
    expect(value(s, 'mail_test_latency_seconds_bucket{le="+Inf"}')).toBe(4);
    expect(value(s, 'mail_test_latency_seconds_sum')).toBeCloseTo(4.05, 12);
    expect(value(s, 'mail_test_latency_seconds_count')).toBe(4);
    // A built-in histogram (ms in the workers, seconds on export): five sessions of 10 ms.
    expect(value(s, 'mail_smtp_request_time_seconds_bucket{le="0.25"}')).toBe(5);
    expect(value(s, 'mail_smtp_request_time_seconds_sum')).toBeCloseTo(0.05, 12);
    expect(value(s, 'mail_smtp_request_time_seconds_count')).toBe(5);
    // Bounds that differ ([100, 1000, 10000] and [100, 500, 1000, 5000, 10000]): the shared ones stay, exact.
    expect(value(s, 'mail_test_size_bytes_bucket{le="100"}')).toBe(1);
    expect(value(s, 'mail_test_size_bytes_bucket{le="1000"}')).toBe(3);
    expect(value(s, 'mail_test_size_bytes_bucket{le="10000"}')).toBe(4);
    expect(value(s, 'mail_test_size_bytes_bucket{le="+Inf"}')).toBe(5);
    expect(value(s, 'mail_test_size_bytes_bucket{le="500"}')).toBeUndefined();
    expect(value(s, 'mail_test_size_bytes_bucket{le="5000"}')).toBeUndefined();
    expect(value(s, 'mail_test_size_bytes_sum')).toBe(25_150);
    expect(value(s, 'mail_test_size_bytes_count')).toBe(5);
    // Gauges summed: a host gauge, and the event-fed gauge of open sessions.
    expect(value(s, 'mail_test_queue_depth')).toBe(10);
    expect(value(s, 'mail_smtp_active_connections')).toBe(3);
    // The primary's own metrics; the fixture's own (untagged) cluster messages were left alone.
    expect(value(s, 'mail_telemetry_cluster_workers')).toBe(3);
    expect(value(s, 'mail_telemetry_cluster_workers_missing')).toBe(0);
    expect(value(s, 'mail_telemetry_cluster_missed_answers_total')).toBe(0);
    expect(value(s, 'mail_telemetry_cluster_rejected_messages_total')).toBe(0);
  });

  it("keeps gauges per worker with gauges: 'per-worker', labelled with the cluster worker id", async () => {
    const s = await host.scrape('/metrics/per-worker');
    expect(value(s, `mail_test_queue_depth{worker="${ids[1]}"}`)).toBe(4);
    expect(value(s, `mail_test_queue_depth{worker="${ids[2]}"}`)).toBe(6);
    expect(value(s, `mail_smtp_active_connections{worker="${ids[1]}"}`)).toBe(1);
    expect(value(s, `mail_smtp_active_connections{worker="${ids[2]}"}`)).toBe(2);
    expect(value(s, `mail_smtp_active_connections{worker="${ids[3]}"}`)).toBe(0);
    expect(value(s, 'mail_test_queue_depth')).toBeUndefined();
    // Counters are summed whatever the gauge mode.
    expect(value(s, 'mail_test_deliveries_total{result="ok"}')).toBe(6);
  });

  it('negotiates OpenMetrics like a worker scrape does, and refuses other methods', async () => {
    const s = await host.scrape('/metrics', 'application/openmetrics-text; version=1.0.0');
    expect(s.contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(s.text.endsWith('# EOF\n')).toBe(true);
    expect(s.text).toContain('# TYPE mail_test_deliveries counter\n');
    expect(value(s, 'mail_test_deliveries_total{result="ok"}')).toBe(6);
    const post = await fetch(`${host.origin}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('leaves a worker that does not answer in time out of that scrape, counts it, and holds its counters', async () => {
    const before = await host.scrape();
    await host.control({ do: 'stall', slot: 2, ms: TIMEOUT + 2000 });
    const [s, perWorker] = await Promise.all([host.scrape(), host.scrape('/metrics/per-worker')]);
    expect(value(s, 'mail_telemetry_cluster_workers_missing')).toBe(1);
    expect(value(s, 'mail_telemetry_cluster_workers')).toBe(2);
    expect(value(s, 'mail_telemetry_cluster_missed_answers_total')).toBe(1);
    // Its gauges are left out; its counters stay at what it last said, so nothing goes backwards.
    expect(value(s, 'mail_test_queue_depth')).toBe(4);
    expect(value(perWorker, `mail_test_queue_depth{worker="${ids[2]}"}`)).toBeUndefined();
    expect(value(perWorker, `mail_test_queue_depth{worker="${ids[1]}"}`)).toBe(4);
    for (const [key, n] of monotonic(before.text)) {
      if (key.startsWith('mail_telemetry_cluster_')) continue;
      expect(value(s, key), key).toBe(n);
    }
    // Once the worker is free again (this command waits for it), it is back in the next scrape.
    await host.control({ do: 'emit', slot: 2 });
    const after = await host.scrape();
    expect(value(after, 'mail_telemetry_cluster_workers_missing')).toBe(0);
    expect(value(after, 'mail_test_queue_depth')).toBe(10);
  }, 30_000);

  it('keeps the last counters of a killed worker, so that no counter goes backwards after its restart', async () => {
    const before = await host.scrape();
    // Increments after the last scrape die with a killed worker.
    await host.control({ do: 'emit', slot: 1, deliveries: { ok: 100 }, latency: [0.2] });
    const killed = ids[1];
    await host.control({ do: 'kill', slot: 1 });
    ids = await workerIds();
    expect(ids[1]).not.toBe(killed);
    const after = await host.scrape();
    for (const [key, n] of monotonic(before.text)) {
      if (key.startsWith('mail_telemetry_cluster_')) continue;
      expect(value(after, key), key).toBe(n);
    }
    expect(value(after, 'mail_telemetry_cluster_retired_workers_total')).toBe(1);
    // Its gauges are gone with it: the new worker starts at zero.
    expect(value(after, 'mail_test_queue_depth')).toBe(6);
    expect(value(after, 'mail_smtp_active_connections')).toBe(2);
    // The new worker's counts add to the retained ones.
    await host.control({ do: 'emit', slot: 1, sessions: 1, deliveries: { ok: 7 }, latency: [0.2] });
    const later = await host.scrape();
    expect(value(later, 'mail_test_deliveries_total{result="ok"}')).toBe(13);
    expect(value(later, 'mail_smtp_connection_start_total')).toBe(9);
    expect(value(later, 'mail_test_latency_seconds_bucket{le="0.5"}')).toBe(3);
    expect(value(later, 'mail_test_latency_seconds_count')).toBe(5);
    for (const [key, n] of monotonic(after.text)) expect(value(later, key), key).toBeGreaterThanOrEqual(n);
  }, 30_000);

  it('takes the final snapshot a gracefully exiting worker pushes', async () => {
    await host.control({ do: 'emit', slot: 2, deliveries: { failed: 3 } });
    await host.control({ do: 'exit', slot: 2 });
    ids = await workerIds();
    const s = await host.scrape();
    expect(value(s, 'mail_test_deliveries_total{result="failed"}')).toBe(5);
    expect(value(s, 'mail_telemetry_cluster_retired_workers_total')).toBe(2);
    expect(value(s, 'mail_telemetry_cluster_workers')).toBe(3);
  }, 30_000);

  it('retains a telemetry instance restarted inside a worker, with its final snapshot', async () => {
    await host.control({ do: 'emit', slot: 1, deliveries: { ok: 2 } });
    const restarted = (await host.control({ do: 'restart-telemetry', slot: 1 })) as { detail: { shared: boolean } };
    expect(restarted.detail.shared).toBe(true);
    await host.control({ do: 'emit', slot: 1, deliveries: { ok: 1 } });
    const s = await host.scrape();
    expect(value(s, 'mail_test_deliveries_total{result="ok"}')).toBe(16);
    expect(value(s, 'mail_telemetry_cluster_retired_workers_total')).toBe(3);
    expect(value(s, 'mail_telemetry_cluster_rejected_messages_total')).toBe(0);
  }, 30_000);

  it('survives hostile messages from a worker and to a worker, and the output stays exact', async () => {
    const honest = monotonic((await host.scrape()).text);
    const template = {
      'mail-telemetry': 1,
      type: 'metrics',
      id: null,
      instance: 'intruder',
      settings: { naming: 'prometheus', prefix: 'mail_', defaultLabels: {} },
      from: 0,
      meta: [
        {
          name: 'intruder.hits',
          kind: 'counter',
          unit: '',
          help: 'hits',
          builtin: false,
          prometheusName: null,
          labels: ['a'],
          bounds: null,
        },
        {
          name: 'intruder.time',
          kind: 'histogram',
          unit: 'seconds',
          help: 'time',
          builtin: false,
          prometheusName: null,
          labels: [],
          bounds: [1, 2],
        },
      ],
      values: [
        ['x', 1],
        [3, 2, 1, 1, 0],
      ],
    };
    const json = fc.jsonValue({ maxDepth: 4 });
    // A near-valid answer: one field (or one field of a description) replaced by anything.
    const mutated = fc.oneof(
      fc
        .tuple(fc.constantFrom(...Object.keys(template)), json)
        .map(([key, v]) => ({ ...template, [key]: v, instance: `intruder-${String(key)}` })),
      fc.tuple(fc.constantFrom(...Object.keys(template.meta[0] as object)), json, fc.nat(1)).map(([key, v, i]) => ({
        ...template,
        instance: `intruder-meta-${String(key)}`,
        meta: template.meta.map((m, j) => (j === i ? { ...m, [key]: v } : m)),
      })),
      fc.tuple(fc.nat(1), json).map(([i, v]) => ({
        ...template,
        instance: 'intruder-values',
        values: template.values.map((row, j) => (j === i ? v : row)),
      })),
    );
    const tagged = fc
      .dictionary(fc.constantFrom('type', 'id', 'instance', 'from', 'meta', 'values', 'settings', '__proto__'), json)
      .map((o) => ({
        'mail-telemetry': 1,
        ...o,
      }));
    const message = fc.oneof(
      fc.constant(template),
      json,
      tagged,
      mutated,
      fc.constant(JSON.parse('{"__proto__":{"mail-telemetry":1},"mail-telemetry":1,"type":"metrics"}')),
      fc.constant({ 'mail-telemetry': 2, type: 'metrics' }),
    );
    // What a confused or hostile primary could send a worker.
    const request = fc.oneof(
      json,
      fc.record({
        'mail-telemetry': fc.oneof(fc.constant(1), json),
        type: fc.oneof(fc.constant('scrape'), json),
        id: json,
        instance: json,
        known: fc.oneof(fc.integer(), json),
        last: json,
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 8 }), fc.array(request, { maxLength: 4 }), async (messages, requests) => {
        // Each answer comes back through the same channel after the messages: they were all handled.
        await host.control({ do: 'send', slot: 3, messages });
        await host.control({ do: 'deliver', slot: 1, messages: requests });
      }),
      { numRuns: 60 },
    );
    // A valid answer of another instance retired the intruder's own; a fresh intruder answers again.
    await host.control({ do: 'kill', slot: 3 });
    const s = await host.scrape();
    expect(s.status).toBe(200);
    expect(value(s, 'mail_telemetry_cluster_rejected_messages_total')).toBeGreaterThan(0);
    expect(value(s, 'mail_telemetry_cluster_workers_missing')).toBe(0);
    // What the intruder sent that was valid is merged like any worker's, beside the honest series.
    expect(s.text).toContain('# TYPE mail_intruder_hits_total counter\n');
    // The honest workers' series are exactly what they were.
    for (const [key, n] of honest) {
      if (key.startsWith('mail_telemetry_cluster_')) continue;
      expect(value(s, key), key).toBe(n);
    }
    expect(host.child.exitCode).toBeNull();
    if (promtool.found) {
      for (const text of [s.text, (await host.scrape('/metrics/per-worker')).text]) {
        const result = spawnSync(promtool.path, ['check', 'metrics'], { input: text, encoding: 'utf8' });
        expect(`${result.stdout}${result.stderr}`).toBe('');
        expect(result.status).toBe(0);
      }
    }
  }, 120_000);

  it('refuses to aggregate inside a worker process', async () => {
    const { readies } = (await host.control({ do: 'workers' })) as { readies: { detail: { inWorker: string } }[] };
    expect(readies[0]?.detail.inWorker).toMatch(/^options\.cluster: expected the cluster module of the primary process/);
  });
});

const promtool = needsProgram('promtool');

promtool.describe('promtool check metrics on the summed scrape', () => {
  it('accepts the text exposition, gauges summed and per worker', async () => {
    for (const path of ['/metrics', '/metrics/per-worker']) {
      const { text } = await host.scrape(path);
      const result = spawnSync(promtool.path, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(result.error).toBeUndefined();
      expect(`${result.stdout}${result.stderr}`, path).toBe('');
      expect(result.status).toBe(0);
    }
  });
});

describe('a process without an IPC channel', () => {
  it('shares nothing and does not throw', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/cluster/fixtures/no-ipc.ts'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
    });
    expect(JSON.parse(out)).toEqual({ send: 'undefined', shared: false });
  });
});
