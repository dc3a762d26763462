/**
 * `npm run bench:adapter`: what `instrumentSmtpServer` costs an smtp-server per session, with no
 * consumer at all. One process serves a plain server and an instrumented one (same host options);
 * a client process sends the same sessions to each, in alternating rounds; the server process's
 * CPU per session is compared. Steadier than `bench:e2e` on a small machine, because the load
 * generator is cheap and nothing else runs: use it to work on the adapter's own cost.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { median } from '../stats.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
if (!existsSync(`${root}dist/index.js`)) throw new Error('dist/ is missing: run `npm run build` first');
const lib = (await import(`${root}dist/index.js`)) as typeof import('../../src/index.js');
const adapter = (await import(`${root}dist/smtp-server.js`)) as typeof import('../../src/smtp-server.js');

const SESSIONS = Number(process.env.SESSIONS ?? 2000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);

const hostOptions = (): SMTPServerOptions => ({
  logger: false,
  disableReverseLookup: true,
  disabledCommands: ['STARTTLS'],
  allowInsecureAuth: true,
  authMethods: ['PLAIN'],
  onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
  onRcptTo: (_address, _session, callback) => callback(),
  onData(stream, _session, callback) {
    stream.on('data', () => undefined);
    stream.on('end', () => callback(null, 'Ok: queued as Q1'));
  },
});

// The adapter alone: no default history (bench:e2e measures the history as a consumer).
const telemetry = lib.createTelemetry({ history: false, levels: { ...adapter.smtpServerLevels } });
const servers = {
  plain: new SMTPServer(hostOptions()),
  instrumented: new SMTPServer(adapter.instrumentSmtpServer(telemetry, hostOptions())),
};
const ports: Record<keyof typeof servers, number> = { plain: 0, instrumented: 0 };
for (const name of ['plain', 'instrumented'] as const) {
  const server = servers[name];
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ports[name] = (server.server.address() as AddressInfo).port;
}

async function round(name: keyof typeof servers): Promise<number> {
  const before = process.cpuUsage();
  const client = fork(fileURLToPath(new URL('./client.ts', import.meta.url)), [String(ports[name]), String(SESSIONS), '16'], {
    execArgv: ['--import', 'tsx'],
  });
  await new Promise((resolve) => client.on('exit', resolve));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / SESSIONS;
}

await round('plain');
await round('instrumented');
const cpu = { plain: [] as number[], instrumented: [] as number[] };
for (let i = 0; i < ROUNDS; i++) {
  for (const name of i % 2 === 0 ? (['plain', 'instrumented'] as const) : (['instrumented', 'plain'] as const)) {
    cpu[name].push(await round(name));
  }
}
const plain = median(cpu.plain);
const instrumented = median(cpu.instrumented);
console.log('| smtp-server, per session (EHLO, AUTH, MAIL, RCPT, DATA, QUIT) | server CPU (µs) |');
console.log('| --- | ---: |');
console.log(`| plain | ${plain.toFixed(0)} |`);
console.log(`| instrumentSmtpServer, no consumer | ${instrumented.toFixed(0)} |`);
console.log(
  `| the adapter's cost | ${(instrumented - plain).toFixed(0)} µs (${((instrumented / plain - 1) * 100).toFixed(1)}%) |`,
);
console.log(`\n${SESSIONS} sessions a round, 16 at a time, ${ROUNDS} alternating rounds each, medians; Node ${process.version}.`);
for (const server of Object.values(servers)) server.close();
await telemetry.shutdown();
