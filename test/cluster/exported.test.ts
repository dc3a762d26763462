/**
 * The primary's merged scrape names and shapes the metrics as the workers' own scrapes do:
 * `metrics.exportNames`, a host metric's `exportName` and the `stalwart` setting travel from the
 * workers (test/cluster/fixtures/exported.ts, real node:cluster workers), so the primary takes no
 * naming options of its own.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { needsProgram } from '../support/needs-program.js';
import { type Host, startHost } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/exported.ts', import.meta.url));
const OPENMETRICS_FIRST = 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1';
const promtool = needsProgram('promtool');

let host: Host | undefined;

afterEach(async () => {
  await host?.stop();
  host = undefined;
});

/** Starts the fixture's primary and scrapes it once, asking for OpenMetrics first as Prometheus does. */
async function scrape(mode: '0.15' | '0.16' | 'none') {
  host = await startHost(3000, fixture, [mode]);
  return host.scrape('/metrics', OPENMETRICS_FIRST);
}

/** The problems promtool reports that are naming conventions Stalwart's and the dashboards' names break on purpose. */
const NAMING =
  /^(\S+) (counter metrics should have "_total" suffix|non-histogram and non-summary metrics should not have "_count" suffix)$/;

/** `promtool check metrics` finds no problem but Stalwart's naming (as test/stalwart/prometheus.test.ts). */
function check(text: string): void {
  if (!promtool.found) return;
  const result = spawnSync(promtool.path, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect(result.error).toBeUndefined();
  const problems = `${result.stdout}${result.stderr}`.split('\n').filter((l) => l.trim() !== '');
  for (const problem of problems) expect(problem).toMatch(NAMING);
}

describe('the merged scrape honours the workers’ exported names and Stalwart setting', () => {
  it('without stalwart: export names beside the library’s Prometheus names, by Accept', async () => {
    const s = await scrape('none');
    expect(s.contentType).toMatch(/^application\/openmetrics-text/);
    expect(s.samples.get('wildduck_auth_attempts_total')).toBe(2);
    expect(s.samples.get('zonemta_delivery_status_total{result="ok"}')).toBe(3);
    expect(s.samples.get('mail_queue_message_queued_total')).toBe(4);
    expect(s.text).not.toMatch(/^mail_auth_failed/m);
    expect(s.text).not.toMatch(/^mail_delivery_status/m);
  }, 60_000);

  it("under stalwart: '0.15': 0.15 names, plain text, zero counters left out, export names kept", async () => {
    const s = await scrape('0.15');
    expect(s.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(s.samples.get('queue_queue_message')).toBe(4);
    expect(s.samples.has('queue_message_queued')).toBe(false);
    expect(s.samples.get('wildduck_auth_attempts_total')).toBe(2);
    expect(s.samples.get('zonemta_delivery_status{result="ok"}')).toBe(3);
    // Never emitted: a zero counter, left out as Stalwart leaves it out.
    expect(s.text).not.toMatch(/^smtp_connection_start /m);
    expect(s.text).not.toMatch(/^mail_/m);
    check(s.text);
  }, 60_000);

  it("under stalwart: '0.16': 0.16 names, plain text", async () => {
    const s = await scrape('0.16');
    expect(s.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(s.samples.get('queue_message_queued')).toBe(4);
    expect(s.samples.has('queue_queue_message')).toBe(false);
    expect(s.samples.get('wildduck_auth_attempts_total')).toBe(2);
    check(s.text);
  }, 60_000);
});
