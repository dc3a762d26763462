import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

function run(example: string): string {
  return execFileSync(process.execPath, [tsx, `examples/${example}`], { cwd: root, encoding: 'utf8', timeout: 20_000 });
}

describe('the examples run as written', () => {
  it('quickstart.ts prints session events and counters', () => {
    const out = run('quickstart.ts');
    expect(out).toContain('SMTP MAIL FROM received (smtp.mail-from)');
    expect(out).toContain("'greylist.deferred': 1");
  });

  it('prometheus-server.ts serves an authenticated scrape', () => {
    const out = run('prometheus-server.ts');
    expect(out).toContain('200 text/plain; version=0.0.4; charset=utf-8');
    expect(out).toContain('mail_smtp_connection_start_total{node="mx1"} 2');
    expect(out).toContain('mail_mta_bounces_total{node="mx1",reason="mailbox-full"} 1');
    expect(out).not.toContain('change-me');
  });

  it('alerts.ts goes pending → firing → resolved and notifies by event, email and webhook', () => {
    const out = run('alerts.ts');
    expect(out).toContain('minute 0: queue-backlog inactive → pending (value 1500)');
    expect(out).toContain('minute 2: queue-backlog pending → firing (value 1500)');
    expect(out).toContain('email to postmaster@example.org: [page] queue-backlog firing');
    expect(out).toContain('event: queue-backlog resolved: outbound queue at 200 messages');
    expect(out).toContain('webhook: queue-backlog resolved: outbound queue at 200 messages');
  });
});
