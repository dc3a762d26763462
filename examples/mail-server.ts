/**
 * A real mail server with everything on: an smtp-server listener instrumented in one line (AUTH
 * PLAIN and LOGIN, local mailboxes, a size limit), local delivery into a maildir through an
 * instrumented nodemailer transport, an admin server with the scrape, the live streams, the history
 * and the dashboard, a signed webhook to a local receiver, and an alert on failed logins that emails
 * the postmaster through the server itself. On start it sends a short burst of real mail.
 *
 * Run with `npm run example`; Ctrl-C flushes and exits. `--once` sends the burst, prints what the
 * telemetry saw, and exits.
 */
import { sendBurst } from './mail-server/burst.js';
import { ACCOUNT } from './mail-server/maildir.js';
import { startMailServer } from './mail-server/server.js';

const once = process.argv.includes('--once');
const mx = await startMailServer({ alertInterval: once ? '500ms' : '5s', seriesInterval: once ? 250 : 5000 });
console.log(
  `SMTP server on 127.0.0.1:${mx.smtpPort} (login ${ACCOUNT.username} / ${ACCOUNT.password}), maildir ${mx.maildir.root}\n`,
);

for (const line of await sendBurst(mx.smtpPort, 65_536)) console.log(`burst: ${line}`);
await mx.delivered();
await mx.telemetry.alerts.evaluate();
await mx.telemetry.flush();

const { telemetry } = mx;
const count = (name: Parameters<typeof telemetry.metrics.eventCount>[0]) => telemetry.metrics.eventCount(name);
console.log(`
what the telemetry saw:
  sessions ${count('smtp.connection-start')}, failed logins ${count('auth.failed')}, unknown recipients ${count('smtp.mailbox-does-not-exist')}, too large ${count('smtp.message-too-large')}
  queued ${count('queue.message-queued')}, delivered ${count('delivery.delivered')}, webhook events received ${mx.receiver.events.length}
  alert failed-logins: ${telemetry.alerts.state('failed-logins')?.state ?? 'unknown'}
  messages in bob's maildir: ${(await mx.maildir.messages('bob')).length}`);

if (once) {
  await mx.close();
} else {
  const hour = { ttlSeconds: 3600, subject: 'example' } as const;
  const tracing = telemetry.live.issueToken({ ...hour, scope: 'tracing' });
  const metrics = telemetry.live.issueToken({ ...hour, scope: 'metrics' });
  console.log(`
where to look:
  dashboard   ${mx.adminUrl}/dashboard#token=${tracing}&token=${metrics}
  metrics     curl -s ${mx.adminUrl}/metrics | grep -v '^#' | grep -v ' 0$'
  history     curl -s -H 'authorization: Bearer ${mx.historyToken}' '${mx.adminUrl}/history/telemetry/traces?limit=10'
  live events curl -sN '${mx.adminUrl}/live/tracing?token=${tracing}'
  send mail   printf 'Subject: Hi\\r\\n\\r\\nHello Bob\\r\\n' | curl -sk --ssl-reqd smtp://127.0.0.1:${mx.smtpPort} --user ${ACCOUNT.username}:${ACCOUNT.password} --mail-from alice@example.org --mail-rcpt bob@example.org -T -
Ctrl-C flushes and exits.`);
  process.once('SIGINT', () => {
    console.log('\nflushing…');
    void mx.close().then(() => process.exit(0));
  });
}
