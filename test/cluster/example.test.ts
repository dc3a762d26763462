import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

describe('examples/cluster-server.ts', () => {
  it('runs as written: two smtp-server workers, one summed scrape that holds after they exit', () => {
    const out = execFileSync(process.execPath, [tsx, 'examples/cluster-server.ts'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 30_000,
    });
    const [during, after] = out.split('after the workers exited:');
    expect(during).toContain('mail_smtp_connection_start_total 4');
    expect(during).toContain('mail_queue_message_queued_total 4');
    expect(during).toContain('mail_telemetry_cluster_workers 2');
    expect(during).toContain('mail_telemetry_cluster_workers_missing 0');
    expect(after).toContain('mail_smtp_connection_start_total 4');
    expect(after).toContain('mail_smtp_request_time_seconds_count 4');
    expect(after).toContain('mail_telemetry_cluster_retired_workers_total 2');
  }, 40_000);
});
