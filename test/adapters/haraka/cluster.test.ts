import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { needsProgram } from '../../support/needs-program.js';
import { type PostgresServer, startPostgres } from '../../support/postgres.js';
import { admin, LOCAL_DOMAIN, send, startHaraka, tracerLines, waitFor } from './harness.js';

const INI = `
[main]
flush_timeout=3000

[tracer]
type=file
path={tracer}
rotate=never
format=json

[admin]
listen={admin}
`;

function value(scrape: string, name: string): number | undefined {
  const line = scrape.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The worker processes of a Haraka master, read from /proc (no procps needed). */
function workers(master: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (ppid === master && state !== 'Z') children.push(Number(entry));
    } catch {
      // The process ended while being read.
    }
  }
  return children;
}

/** Whether a process runs (a zombie waiting to be reaped does not). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('the Haraka plugin with two workers', () => {
  it('answers one scrape for both workers on any of them, never lets a counter go back when a worker is killed, and flushes each worker on SIGINT', async () => {
    // Notes which worker took each session, to prove the mail was spread over both.
    const whoami = {
      name: 'whoami',
      code: "exports.hook_connect_init = (next) => { require('node:fs').appendFileSync(__dirname + '/../sessions', process.pid + '\\n'); next(); };\n",
    };
    const haraka = await startHaraka({ nodes: 2, telemetryIni: INI, plugins: [whoami, 'rcpt_to.in_host_list', 'queue/discard'] });
    const master = haraka.process.pid ?? 0;
    await waitFor(
      () => workers(master).length === 2,
      20_000,
      () => `two workers:\n${haraka.output()}`,
    );
    // Both workers must listen before mail goes out, or one takes it all.
    await waitFor(
      () => (haraka.output().match(/worker \d+ listening/g) ?? []).length >= 4,
      20_000,
      () => haraka.output(),
    );

    for (let i = 0; i < 6; i++) {
      const sent = await send(haraka.port, 'alice@sender.example', `user${i}@${LOCAL_DOMAIN}`);
      expect(sent.ok, sent.response).toBe(true);
    }
    // Every request (the cluster spreads them over both workers) answers for all six messages.
    let scrape = '';
    await waitFor(
      async () => {
        scrape = (await admin(haraka.adminPort, '/metrics')).text;
        return value(scrape, 'mail_queue_message_queued_total') === 6;
      },
      15_000,
      () => `six messages in the scrape:\n${scrape.slice(0, 2000)}`,
    );
    for (let i = 0; i < 4; i++) {
      scrape = (await admin(haraka.adminPort, '/metrics')).text;
      expect(value(scrape, 'mail_queue_message_queued_total')).toBe(6);
      expect(value(scrape, 'mail_smtp_connection_start_total')).toBe(6);
      expect(value(scrape, 'mail_telemetry_cluster_workers')).toBe(2);
    }
    const takers = readFileSync(join(haraka.dir, 'sessions'), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(takers).toHaveLength(6);
    expect(new Set(takers).size).toBe(2);

    // SIGKILL loses what a worker has not written yet: wait for the tracer's lines first.
    await waitFor(
      () => tracerLines(haraka.tracerFile).filter((l) => l.event === 'queue.message-queued').length === 6,
      10_000,
      () => 'the six messages in the tracer file',
    );
    // A worker killed outright: Haraka forks a new one; the counters hold.
    const [victim] = workers(master);
    process.kill(victim ?? 0, 'SIGKILL');
    await waitFor(
      () => workers(master).length === 2 && !workers(master).includes(victim ?? 0),
      20_000,
      () => haraka.output(),
    );
    await waitFor(
      async () => (await admin(haraka.adminPort, '/metrics')).status === 200,
      20_000,
      () => haraka.output(),
    );
    for (let i = 0; i < 4; i++) {
      scrape = (await admin(haraka.adminPort, '/metrics')).text;
      expect(value(scrape, 'mail_queue_message_queued_total')).toBeGreaterThanOrEqual(6);
    }
    for (let i = 0; i < 2; i++)
      expect((await send(haraka.port, 'alice@sender.example', `late${i}@${LOCAL_DOMAIN}`)).ok).toBe(true);
    await waitFor(
      async () => {
        scrape = (await admin(haraka.adminPort, '/metrics')).text;
        return value(scrape, 'mail_queue_message_queued_total') === 8;
      },
      15_000,
      () => `eight messages in the scrape:\n${scrape.slice(0, 2000)}`,
    );

    // SIGINT to the master: each worker flushes as it exits.
    const flushing = workers(master);
    const exit = await haraka.stop('SIGINT');
    expect(exit.code).toBe(0);
    // Orphaned, the workers leave the master's children at once: follow them by pid until they end.
    await waitFor(
      () => flushing.every((pid) => !running(pid)),
      10_000,
      () => 'the workers exited',
    );
    const queued = tracerLines(haraka.tracerFile).filter((l) => l.event === 'queue.message-queued');
    expect(queued).toHaveLength(8);
  }, 120_000);
});

const postgres = needsProgram('postgres');

postgres.describe('the Haraka plugin with a history in PostgreSQL', () => {
  let server: PostgresServer | undefined;
  afterAll(async () => {
    await server?.destroy();
  });

  it('gives one history of every worker: any request finds every message', async () => {
    server = await startPostgres(postgres.path);
    const ini = `${INI}\n[history]\npostgres=${server.url()}\n`;
    const haraka = await startHaraka({ nodes: 2, telemetryIni: ini, plugins: ['rcpt_to.in_host_list', 'queue/discard'] });
    await waitFor(
      () => (haraka.output().match(/worker \d+ listening/g) ?? []).length >= 4,
      20_000,
      () => haraka.output(),
    );
    const queued: string[] = [];
    for (let i = 0; i < 4; i++) {
      const sent = await send(haraka.port, 'alice@sender.example', `user${i}@${LOCAL_DOMAIN}`);
      expect(sent.ok, sent.response).toBe(true);
      queued.push(/\(([^)]+)\)/.exec(sent.response)?.[1] ?? '');
    }
    // Each request lands on either worker; each answers from the shared store.
    const found = async () => {
      const page = JSON.parse((await admin(haraka.adminPort, '/history/telemetry/traces?values=1&limit=50')).text) as {
        data: { items: { messages: { queueId: string }[] }[] };
      };
      return page.data.items.flatMap((trace) => trace.messages.map((m) => m.queueId)).sort();
    };
    await waitFor(
      async () => (await found()).length === 4,
      20_000,
      () => 'the four messages in the shared history',
    );
    for (let i = 0; i < 6; i++) expect(await found()).toEqual([...queued].sort());
    expect((await haraka.stop('SIGINT')).code).toBe(0);
  }, 120_000);
});
