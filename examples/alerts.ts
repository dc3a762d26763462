/**
 * Alerts: a rule over the outbound queue with a pending period, notified by event, by email (through
 * the host's mail transport) and by webhook, then resolved. The clock is driven by hand so the
 * example runs in an instant; a server leaves `now` out and lets the 30 s timer evaluate.
 *
 * Run with `npx tsx examples/alerts.ts`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTelemetry, type SendMail } from '../src/index.js';

// A webhook receiver standing in for a chat or paging service.
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => {
    body += chunk.toString();
  });
  req.on('end', () => {
    const alert = JSON.parse(body) as { id: string; state: string; message: string };
    console.log(`webhook: ${alert.id} ${alert.state}: ${alert.message}`);
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;

// The host's transport. With nodemailer: transport.sendMail({ envelope: { from, to: [...to] }, raw }).
const sendMail: SendMail = async ({ to, raw }) => {
  const subject = /^Subject: (.*)$/m.exec(raw)?.[1];
  console.log(`email to ${to.join(', ')}: ${subject}`);
};

let now = Date.UTC(2026, 10, 24, 12);
const telemetry = createTelemetry({
  service: 'mx1',
  now: () => now,
  sendMail,
  alerts: [
    {
      id: 'queue-backlog',
      condition: "queue_count > 1_000 || metric('delivery.double-bounce') > 50",
      for: '2m',
      labels: { severity: 'page' },
      annotations: { summary: 'outbound queue at {{ value }} messages' },
      email: {
        from: 'alerts@mx1.example.org',
        to: ['postmaster@example.org'],
        subject: '[{{ labels.severity }}] queue-backlog {{ state }}',
        body: 'The queue holds %{queue.count}% messages.\n{{ annotations.summary }}',
      },
      webhook: { url: webhookUrl },
    },
  ],
});

telemetry.on('telemetry.alert-event', (event) => {
  console.log(`event: ${event.data.id} ${event.data.reason}: ${event.data.details}`);
});

const queue = telemetry.metrics.gauge('queue.count');
queue.set(1500);
for (let minute = 0; minute <= 4; minute++) {
  if (minute === 3) queue.set(200);
  const changes = await telemetry.alerts.evaluate();
  for (const t of changes) console.log(`minute ${minute}: ${t.id} ${t.from} → ${t.to} (value ${t.value})`);
  now += 60_000;
}
console.log(telemetry.alerts.state('queue-backlog'));
await telemetry.shutdown();
receiver.close();
