import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../support/loopback.js';
import { needsProgram } from '../support/needs-program.js';
import { makeClocked } from '../support/telemetry.js';

const alertmanager = needsProgram('prometheus-alertmanager');
const BINARY = alertmanager.path;

interface ApiAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL?: string;
  readonly status: { readonly state: string };
}

let child: ChildProcess | undefined;
let dir = '';
let base = '';
let output = '';

async function alerts(): Promise<ApiAlert[]> {
  const response = await fetch(`${base}/api/v2/alerts`);
  expect(response.status).toBe(200);
  return (await response.json()) as ApiAlert[];
}

beforeAll(async () => {
  if (!alertmanager.found) return;
  dir = mkdtempSync(join(tmpdir(), 'mt-alertmanager-'));
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(config, "route:\n  receiver: 'null'\n  group_wait: 1s\nreceivers:\n  - name: 'null'\n");
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn(
    BINARY,
    [
      `--config.file=${config}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  // Poll readiness: the process needs a moment to bind.
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/-/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`alertmanager did not start:\n${output}`);
}, 20_000);

afterAll(async () => {
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

alertmanager.describe('the Alertmanager action', () => {
  it('posts a firing alert to a real Alertmanager, then its endsAt on resolution', async () => {
    // The alert fires a minute in the past, so that its resend and resolution happen at the real time.
    let offset = -61_000;
    const telemetry = makeClocked({
      now: () => Date.now() + offset,
      alerts: [
        {
          id: 'QueueHigh',
          condition: 'queue_count > 100',
          labels: { severity: 'page', team: 'mail' },
          annotations: { summary: 'queue at {{ value }}', description: '%{queue.count}% messages waiting' },
          alertmanager: { url: base, generatorURL: 'http://mx1.example.org/alerts#QueueHigh' },
        },
      ],
    });
    const queue = telemetry.metrics.gauge('queue.count');
    queue.set(250);
    const before = Date.now() + offset;
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ id: 'QueueHigh', to: 'firing' }]);
    const firing = (await alerts()).filter((a) => a.labels.alertname === 'QueueHigh');
    expect(firing).toHaveLength(1);
    const alert = firing[0] as ApiAlert;
    expect(alert.labels).toEqual({ alertname: 'QueueHigh', severity: 'page', team: 'mail' });
    expect(alert.annotations).toEqual({ summary: 'queue at 250', description: '250 messages waiting' });
    expect(alert.generatorURL).toBe('http://mx1.example.org/alerts#QueueHigh');
    expect(alert.status.state).toBe('active');
    const startsAt = Date.parse(alert.startsAt);
    expect(startsAt).toBeGreaterThanOrEqual(before - 1000);
    // Valid for four resend intervals, so a dead process's alert expires by itself.
    expect(Date.parse(alert.endsAt)).toBeGreaterThan(startsAt + 200_000);

    // Still firing a resend interval later: sent again, so its endsAt moves on.
    offset = 0;
    expect(await telemetry.alerts.evaluate()).toEqual([]);
    const renewed = (await alerts()).find((a) => a.labels.alertname === 'QueueHigh') as ApiAlert;
    expect(Date.parse(renewed.startsAt)).toBe(startsAt);
    expect(Date.parse(renewed.endsAt)).toBeGreaterThanOrEqual(Date.parse(alert.endsAt) + 60_000);

    queue.set(0);
    expect(await telemetry.alerts.evaluate()).toMatchObject([{ id: 'QueueHigh', to: 'resolved' }]);
    const resolvedAt = telemetry.alerts.state('QueueHigh')?.resolvedAt as number;
    expect(resolvedAt).toBeGreaterThanOrEqual(startsAt);
    // The Alertmanager takes the endsAt we sent, and a resolved alert is no longer listed as active.
    expect(await alerts()).toEqual([]);
  });

  it('reports an Alertmanager that refuses the alert, without touching other rules', async () => {
    const telemetry = makeClocked({
      now: Date.now,
      alerts: [
        // Under a route prefix the Alertmanager does not have: HTTP 404.
        { id: 'Misrouted', condition: '1', alertmanager: { url: `${base}/prefix` } },
        { id: 'Routed', condition: '1', alertmanager: { url: base } },
      ],
    });
    const errors: string[] = [];
    telemetry.on('telemetry.*-error', (e) => {
      errors.push(`${e.data.id} ${e.data.reason}`);
    });
    await telemetry.alerts.evaluate();
    await telemetry.flush();
    expect(errors).toEqual(['alerts.Misrouted.alertmanager the alertmanager action of alert Misrouted failed: HTTP 404']);
    const names = (await alerts()).map((a) => a.labels.alertname);
    expect(names).toContain('Routed');
    expect(names).not.toContain('Misrouted');
  });
});
