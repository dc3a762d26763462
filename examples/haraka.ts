/**
 * A real Haraka (the devDependency) with the telemetry plugin, set up as docs/haraka.md says:
 * `examples/haraka/` is the Haraka directory (the one-line `plugins/telemetry.js`, `telemetry` in
 * `config/plugins`, and `config/telemetry.ini`). It is copied to a temporary directory with free
 * ports, Haraka is started with a master and one worker, two messages are sent with nodemailer
 * (one accepted, one refused for relaying), and the scrape, the history and the tracer show them.
 *
 *   npm run build && npx tsx examples/haraka.ts            # run once, then stop Haraka
 *   npm run build && npx tsx examples/haraka.ts --serve    # keep Haraka running
 *
 * In your own Haraka directory, `npm install mail-telemetry` takes the place of the symlink made here.
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';

const root = fileURLToPath(new URL('..', import.meta.url));
const serve = process.argv.includes('--serve');
if (!existsSync(join(root, 'dist', 'haraka.js')))
  throw new Error('run `npm run build` first: the plugin loads the built package');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

// The Haraka directory, with Haraka's own connection.ini and log.ini beside the example's files.
const dir = mkdtempSync(join(tmpdir(), 'haraka-example-'));
cpSync(join(root, 'examples', 'haraka'), dir, { recursive: true });
for (const file of ['connection.ini', 'log.ini'])
  cpSync(join(root, 'node_modules', 'Haraka', 'config', file), join(dir, 'config', file));
mkdirSync(join(dir, 'node_modules'));
symlinkSync(root, join(dir, 'node_modules', 'mail-telemetry'), 'dir');
const [smtpPort, adminPort] = [await freePort(), await freePort()];
const rewrite = (file: string, from: string, to: string) => writeFileSync(file, readFileSync(file, 'utf8').replace(from, to));
rewrite(join(dir, 'config', 'smtp.ini'), '127.0.0.1:2525', `127.0.0.1:${smtpPort}`);
rewrite(join(dir, 'config', 'telemetry.ini'), '127.0.0.1:9466', `127.0.0.1:${adminPort}`);
rewrite(join(dir, 'config', 'telemetry.ini'), 'path=log', `path=${join(dir, 'log')}`);

const haraka = spawn(process.execPath, [join(root, 'node_modules', 'Haraka', 'bin', 'haraka'), '-c', dir], {
  cwd: dir,
  // queue/discard takes the message only with this set; NODE_ENV=test would change Haraka's outbound.
  env: { ...process.env, YES_REALLY_DO_DISCARD: '1', NODE_ENV: 'production' },
  stdio: ['ignore', 'ignore', 'pipe'],
});
// The console tracer writes to stderr: show its lines.
haraka.stderr.on('data', (chunk: Buffer) => process.stdout.write(`  ${chunk.toString().trimEnd().replaceAll('\n', '\n  ')}\n`));

const admin = async (path: string) => (await fetch(`http://127.0.0.1:${adminPort}${path}`)).text();
for (let i = 0; ; i++) {
  try {
    await admin('/metrics');
    break;
  } catch {
    if (i > 200 || haraka.exitCode !== null) throw new Error('Haraka did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function send(to: string): Promise<string> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
  try {
    return (await transport.sendMail({ from: 'alice@example.net', to, subject: 'Hello', text: 'Hello from the example.\n' }))
      .response;
  } catch (error) {
    return (error as Error).message;
  } finally {
    transport.close();
  }
}

console.log(`bob@example.org: ${await send('bob@example.org')}`);
console.log(`carol@elsewhere.example: ${await send('carol@elsewhere.example')}`);
await new Promise((resolve) => setTimeout(resolve, 300));

const scrape = await admin('/metrics');
for (const name of ['mail_smtp_connection_start_total', 'mail_queue_message_queued_total', 'mail_smtp_relay_not_allowed_total']) {
  console.log(`scrape: ${scrape.split('\n').find((line) => line.startsWith(`${name} `))}`);
}
const traces = JSON.parse(await admin('/history/telemetry/traces?values=1')) as {
  data: { items: { messages: { queueId: string; from: string; to: string[] }[] }[] };
};
for (const trace of traces.data.items)
  for (const message of trace.messages)
    console.log(`history: message ${message.queueId} from ${message.from} to ${message.to.join(', ')}`);

if (serve) {
  console.log(
    `\nHaraka listens on 127.0.0.1:${smtpPort}; the dashboard is http://127.0.0.1:${adminPort}/dashboard (Ctrl-C stops)`,
  );
} else {
  haraka.kill('SIGINT');
  await new Promise((resolve) => haraka.once('exit', resolve));
  const logs = readdirSync(join(dir, 'log'));
  const lines = logs.flatMap((file) =>
    readFileSync(join(dir, 'log', file), 'utf8')
      .split('\n')
      .filter((line) => line !== ''),
  );
  console.log(`after SIGINT: ${lines.length} JSON lines in ${join('log', logs[0] ?? '')}`);
  rmSync(dir, { recursive: true, force: true });
}
