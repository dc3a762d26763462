/**
 * An smtp-server mail server on node:cluster: two worker processes share one SMTP port, each with
 * its own telemetry, and the primary serves one Prometheus scrape with the metrics of both. It
 * sends a few messages, prints the summed scrape, stops the workers gracefully (each pushes its
 * final snapshot), prints the scrape again (the exited workers' counters are kept), and exits.
 *
 * Run with `npx tsx examples/cluster-server.ts`; `--serve` keeps it running with the scrape on
 * http://127.0.0.1:9464/metrics until Ctrl-C.
 */
import cluster from 'node:cluster';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { createClusterMetrics, shareMetricsWithPrimary } from '../src/cluster.js';
import { createTelemetry } from '../src/index.js';
import { instrumentSmtpServer, smtpServerLevels } from '../src/smtp-server.js';

const WORKERS = 2;
const serve = process.argv.includes('--serve');

/** The host's own messages between its processes: the library leaves them alone. */
type HostMessage = { readonly host: 'listening'; readonly port: number } | { readonly host: 'stop' };

if (cluster.isPrimary) {
  // The primary: one scrape for the whole host. It serves no mail itself.
  const metrics = createClusterMetrics({ timeout: 2000 });
  const admin = createServer((req, res) => {
    if (req.url === '/metrics') metrics.handlers.prometheus.node(req, res);
    else res.writeHead(404).end();
  });
  admin.listen(serve ? 9464 : 0, '127.0.0.1');
  await once(admin, 'listening');
  const scrapeUrl = `http://127.0.0.1:${(admin.address() as AddressInfo).port}/metrics`;

  const ports: Promise<number>[] = [];
  for (let i = 0; i < WORKERS; i++) {
    const worker = cluster.fork();
    ports.push(
      new Promise((resolve) =>
        worker.on('message', (message: HostMessage) => {
          if (message.host === 'listening') resolve(message.port);
        }),
      ),
    );
  }
  // Cluster workers that listen on port 0 share one port.
  const [port] = await Promise.all(ports);

  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  for (const to of ['bob@example.org', 'carol@example.org', 'dave@example.org', 'erin@example.org']) {
    await transport.sendMail({ from: 'alice@example.org', to, subject: 'Hello', text: `Hello ${to}` });
  }
  transport.close();

  const show = async (title: string) => {
    const text = await (await fetch(scrapeUrl)).text();
    console.log(title);
    for (const line of text.split('\n')) {
      if (
        /^mail_(smtp_connection_start_total|queue_message_queued_total|smtp_request_time_seconds_count|telemetry_cluster_)/.test(
          line,
        )
      )
        console.log(`  ${line}`);
    }
  };
  await show(`one scrape of ${WORKERS} workers (${scrapeUrl}):`);

  if (serve) {
    console.log(
      `\nscrape:    curl -s ${scrapeUrl}\nsend mail: printf 'Subject: Hi\\r\\n\\r\\nHello\\r\\n' | curl -s smtp://127.0.0.1:${port} --mail-from alice@example.org --mail-rcpt bob@example.org -T -\nCtrl-C stops.`,
    );
    process.once('SIGINT', () => process.exit(0));
  } else {
    // A graceful stop: each worker shuts its telemetry down, which pushes its final snapshot.
    const exited = Object.values(cluster.workers ?? {}).map((worker) => worker && once(worker, 'exit'));
    for (const worker of Object.values(cluster.workers ?? {})) worker?.send({ host: 'stop' } satisfies HostMessage);
    await Promise.all(exited);
    await show('\nafter the workers exited:');
    metrics.close();
    admin.close();
  }
} else {
  // A worker: the host's mail server, instrumented as in a single process, plus one line.
  const telemetry = createTelemetry({ levels: { ...smtpServerLevels } });
  shareMetricsWithPrimary(telemetry);
  const server = new SMTPServer(
    instrumentSmtpServer(telemetry, {
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback(null, `queued as Q${process.pid}${Date.now()}`));
      },
    }),
  );
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  process.send?.({ host: 'listening', port: (server.server.address() as AddressInfo).port } satisfies HostMessage);
  process.on('message', (message: HostMessage) => {
    if (message.host !== 'stop') return;
    server.close(() => {
      void telemetry.shutdown().then(() => process.exit(0));
    });
  });
}
