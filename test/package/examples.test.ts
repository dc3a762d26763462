import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

function run(example: string, ...args: string[]): string {
  return execFileSync(process.execPath, [tsx, `examples/${example}`, ...args], { cwd: root, encoding: 'utf8', timeout: 20_000 });
}

describe('the examples run as written', () => {
  it('mail-server.ts moves a burst of real mail through an instrumented server and exits with --once', () => {
    const out = run('mail-server.ts', '--once');
    expect(out).toMatch(/burst: alice → bob: accepted, queue id [0-9A-F]{12}/);
    expect(out).toContain('burst: wrong password: refused, 535');
    expect(out).toContain('burst: unknown recipient: refused, 550');
    expect(out).toContain('burst: oversized: refused, 552');
    expect(out).toMatch(/sessions \d+, failed logins 1, unknown recipients 1, too large 1/);
    expect(out).toContain('alert failed-logins: firing');
    expect(out).toMatch(/webhook: \d+ signed event\(s\)/);
    expect(out).toContain("messages in bob's maildir: 2");
  });

  it('haraka.ts runs a real Haraka with the plugin as docs/haraka.md sets it up', () => {
    const out = run('haraka.ts');
    expect(out).toMatch(/bob@example.org: 250 Message Queued \([0-9A-F-]{36}\.1\)/);
    expect(out).toContain('(smtp.relay-not-allowed) to = "carol@elsewhere.example", code = 550');
    expect(out).toContain('scrape: mail_queue_message_queued_total 1');
    expect(out).toContain('scrape: mail_smtp_relay_not_allowed_total 1');
    expect(out).toMatch(/history: message [0-9A-F-]{36}\.1 from alice@example.net to bob@example.org/);
    expect(out).toMatch(/after SIGINT: 1\d JSON lines/);
  });

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
  it('webhooks-receiver.ts verifies both signatures, sees a retry, exits by itself', () => {
    const out = run('webhooks-receiver.ts');
    expect(out).toContain('receiver: 503 to the first request');
    expect(out).toContain('receiver: smtp.mail-from {"from":"bill@example.org"');
    expect(out).toContain('sender: delivered 5 events in 1 request(s), 1 failed attempt(s)');
    expect(out).toContain('sender: shutdown complete=true, pending=0');
    expect(out).not.toContain('MfKQ9r8G');
  });

  it('live-server.ts refuses without a token, streams the filtered session, exits', () => {
    const out = run('live-server.ts');
    expect(out).toContain('without a token: 401');
    expect(out).toContain('ping {"interval":30000}');
    expect(out).toContain('smtp.rcpt-to (SMTP RCPT TO received)');
    expect(out).toContain('"remoteIp":"192.0.2.10"');
    expect(out).not.toContain('198.51.100.7');
    expect(out).not.toContain('an example key');
    expect(out).toContain('streams left open: 0');
  });

  it('dashboard-server.ts serves the page and the streams it reads, exits by itself', () => {
    const out = run('dashboard-server.ts');
    expect(out).toContain('dashboard: 200 text/html; charset=utf-8');
    expect(out).toContain("csp: default-src 'none'");
    expect(out).toContain('event: trace smtp.rcpt-to (SMTP RCPT TO received)');
    expect(out).toContain('event: metrics data: [{"metric":"smtp.connection-start","@type":"Counter","count":1}');
    expect(out).toContain('streams left open: 0');
    expect(out).not.toContain('an example key');
    expect(out).not.toContain('mtl1.');
  });

  it.each([[[]], [['--sqlite']]])('history.ts runs as written with %j', (args: string[]) => {
    const out = run('history.ts', ...args);
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
