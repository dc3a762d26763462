/**
 * History: keep recent events, message traces and metric series, query them in code, and serve them
 * as JSON with Stalwart's paths. Pass `--sqlite` to keep them in a database file instead of memory.
 *
 *   npx tsx examples/history.ts [--sqlite]
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTelemetry, type HistoryStore } from '../src/index.js';

const ADMIN_TOKEN = process.env.HISTORY_TOKEN ?? 'change-me';
const auth = { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } };

let store: HistoryStore | undefined;
let dbPath: string | undefined;
if (process.argv.includes('--sqlite')) {
  // A separate entry point: the main one never loads node:sqlite (Node >= 22.13).
  const { SqliteHistoryStore } = await import('../src/sqlite.js');
  // A real file; this demo removes it at the end. A server would keep it, e.g. in /var/lib.
  dbPath = join(tmpdir(), `mail-telemetry-history-example-${process.pid}.db`);
  store = new SqliteHistoryStore({ path: dbPath });
}

const telemetry = createTelemetry({
  service: 'mx1',
  history: {
    level: 'info',
    capacity: 50_000,
    traces: { capacity: 5_000 },
    series: { interval: 60_000, metrics: ['smtp.*', 'delivery.*', 'queue.count'] },
    ...(store === undefined ? {} : { store }),
    // The handler serves addresses and IPs: it stays closed (401) until authorize says who may read.
    authorize: (request) => request.header('authorization') === `Bearer ${ADMIN_TOKEN}`,
  },
});

// One inbound SMTP session that queues a message, then its delivery attempt.
const session = telemetry.span('smtp.connection-start', {
  remoteIp: '192.0.2.7',
  remotePort: 50512,
  listenerId: 'smtp',
  localPort: 25,
});
session.emit('smtp.ehlo', { domain: 'client.example.org' });
session.emit('smtp.mail-from', { from: 'alice@example.org' });
session.emit('smtp.rcpt-to', { to: 'bob@example.com' });
session.emit('queue.message-queued', { queueId: 1001, size: 4096 });
session.end();

const attempt = telemetry.span('delivery.attempt-start', { queueId: 1001, from: 'alice@example.org', to: ['bob@example.com'] });
attempt.emit('delivery.connect', { hostname: 'mx.example.com', remoteIp: '203.0.113.25' });
attempt.emit('delivery.completed', {});
attempt.end();

await telemetry.flush();
await telemetry.history.snapshot(); // the timer takes one every minute; take one now

// In code: events by key, traces by keyword, series by name.
const fromClient = await telemetry.history.events({ keys: { remoteIp: '192.0.2.7' }, limit: 10 });
console.log('events from 192.0.2.7:', fromClient.items.map((e) => e.type).join(', '));
const traces = await telemetry.history.traces({ keywords: '"bob@example.com"' });
for (const t of traces.items) console.log(`trace ${t.type} queueId=${t.queueId} from=${t.from} to=${t.to.join(',')}`);
const points = await telemetry.history.series({ metrics: ['delivery.attempt-start'] });
console.log('delivery attempts in the last interval:', points.at(-1)?.value);

// Over HTTP, with Stalwart's paths and parameters.
const server = createServer((req, res) => telemetry.handlers.history.node(req, res));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/telemetry`;
const listed = (await (await fetch(`${base}/traces?queue_id=1001`, auth)).json()) as { data: { items: number[] } };
console.log('GET /api/telemetry/traces?queue_id=1001 →', listed.data.items.length, 'trace ids');
const one = (await (await fetch(`${base}/trace/${attempt.id}`, auth)).json()) as { data: { events: { type: string }[] } };
console.log('GET /api/telemetry/trace/{id} →', one.data.events.map((e) => e.type).join(' → '));
const bad = await fetch(`${base}/traces?limit=0`, auth);
console.log('GET /api/telemetry/traces without a token →', (await fetch(`${base}/traces`)).status);
console.log('GET /api/telemetry/traces?limit=0 →', bad.status, ((await bad.json()) as { detail: string }).detail);

server.close();
await telemetry.shutdown(); // also closes the store
if (dbPath !== undefined) for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true });
