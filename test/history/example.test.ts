import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

describe('examples/history.ts', () => {
  it.each([[[]], [['--sqlite']]])('runs as written with %j', (args: string[]) => {
    const out = execFileSync(process.execPath, [tsx, 'examples/history.ts', ...args], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out).toContain('events from 192.0.2.7: queue.message-queued, smtp.rcpt-to, smtp.mail-from, smtp.ehlo');
    expect(out).toContain('trace delivery.attempt-start queueId=1001 from=alice@example.org to=bob@example.com');
    expect(out).toContain('delivery attempts in the last interval: 1');
    expect(out).toContain('GET /api/telemetry/traces?queue_id=1001 → 2 trace ids');
    expect(out).toContain('delivery.attempt-start → delivery.connect → delivery.completed → delivery.attempt-end');
    expect(out).toContain('GET /api/telemetry/traces without a token → 401');
    expect(out).toContain('→ 400 limit: expected an integer from 1 to 10000');
    expect(out).not.toContain('change-me');
  });
});
