/**
 * A real Haraka (the npm devDependency) in a temporary directory on 127.0.0.1, loading the
 * package's plugin exactly as an operator's setup does: `plugins/telemetry.js` is the one line
 * the docs give, and `mail-telemetry` resolves from the Haraka directory's node_modules.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { afterEach } from 'vitest';
import { freePort } from '../../support/loopback.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const harakaDir = join(root, 'node_modules', 'Haraka');

/** The operator's plugin file, as docs/haraka.md gives it. */
export const PLUGIN_FILE = "require('mail-telemetry/haraka').plugin(exports);\n";

/** The local domain (rcpt_to.in_host_list accepts it); any other domain is relaying, refused. */
export const LOCAL_DOMAIN = 'example.test';

export interface HarakaSetup {
  /** smtp.ini's `nodes`: 0 runs one process, N a master and N workers. */
  readonly nodes: number;
  /** telemetry.ini's text; `{tracer}` is replaced by a log directory (write `rotate=never`), `{admin}` by the admin address. */
  readonly telemetryIni: string;
  /** Plugins listed before `telemetry` in config/plugins, with their code when they are the test's own. */
  readonly plugins?: readonly (string | { readonly name: string; readonly code: string })[];
  /** smtp.ini lines added under [main]. */
  readonly smtpIni?: string;
  /** Other files of config/, by name. */
  readonly configFiles?: Readonly<Record<string, string>>;
}

export interface RunningHaraka {
  readonly dir: string;
  readonly port: number;
  readonly adminPort: number;
  readonly tracerFile: string;
  readonly process: ChildProcess;
  /** Everything Haraka printed so far. */
  output(): string;
  /** Sends a signal and waits for the process to end; resolves with its exit code or signal. */
  stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: RunningHaraka[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const haraka of running.splice(0)) {
    if (haraka.process.exitCode === null && haraka.process.signalCode === null) {
      haraka.process.kill('SIGKILL');
      await once(haraka.process, 'exit').catch(() => undefined);
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes the Haraka directory and starts Haraka; resolves once its SMTP and admin ports answer. */
export async function startHaraka(setup: HarakaSetup): Promise<RunningHaraka> {
  const dir = mkdtempSync(join(tmpdir(), 'haraka-'));
  dirs.push(dir);
  const port = await freePort();
  const adminPort = await freePort();
  const tracerDir = join(dir, 'log');
  const tracerFile = join(tracerDir, 'mail-telemetry.log');
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, 'plugins'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'mail-telemetry'), 'dir');
  copyFileSync(join(harakaDir, 'config', 'connection.ini'), join(dir, 'config', 'connection.ini'));
  copyFileSync(join(harakaDir, 'config', 'log.ini'), join(dir, 'config', 'log.ini'));
  writeFileSync(
    join(dir, 'config', 'smtp.ini'),
    `[main]\nlisten=127.0.0.1:${port}\nnodes=${setup.nodes}\n${setup.smtpIni ?? ''}\n`,
  );
  writeFileSync(join(dir, 'config', 'me'), 'mx.example.test\n');
  writeFileSync(join(dir, 'config', 'host_list'), `${LOCAL_DOMAIN}\n`);
  for (const [name, text] of Object.entries(setup.configFiles ?? {})) writeFileSync(join(dir, 'config', name), text);
  const names: string[] = [];
  for (const plugin of setup.plugins ?? []) {
    if (typeof plugin === 'string') names.push(plugin);
    else {
      names.push(plugin.name);
      writeFileSync(join(dir, 'plugins', `${plugin.name}.js`), plugin.code);
    }
  }
  writeFileSync(join(dir, 'config', 'plugins'), `${[...names, 'telemetry'].join('\n')}\n`);
  writeFileSync(join(dir, 'plugins', 'telemetry.js'), PLUGIN_FILE);
  writeFileSync(
    join(dir, 'config', 'telemetry.ini'),
    setup.telemetryIni.replaceAll('{tracer}', tracerDir).replaceAll('{admin}', `127.0.0.1:${adminPort}`),
  );
  let output = '';
  const child = spawn(process.execPath, [join(harakaDir, 'bin', 'haraka'), '-c', dir], {
    cwd: dir,
    // vitest's NODE_ENV=test makes Haraka's outbound greet with no name.
    env: { ...process.env, YES_REALLY_DO_DISCARD: '1', NODE_OPTIONS: '', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const haraka: RunningHaraka = {
    dir,
    port,
    adminPort,
    tracerFile,
    process: child,
    output: () => output,
    async stop(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      child.kill(signal);
      const [code, sig] = await exited;
      return { code, signal: sig };
    },
  };
  running.push(haraka);
  // Only the admin port is probed: a probe of the SMTP port would be a session of its own.
  await waitFor(
    () => answers(adminPort),
    20_000,
    () => `Haraka did not start:\n${output}`,
  );
  return haraka;
}

/** Starts Haraka expecting it to fail; resolves with what it printed once it has exited. */
export async function failingHaraka(setup: HarakaSetup): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'haraka-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, 'plugins'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'mail-telemetry'), 'dir');
  copyFileSync(join(harakaDir, 'config', 'connection.ini'), join(dir, 'config', 'connection.ini'));
  writeFileSync(join(dir, 'config', 'smtp.ini'), `[main]\nlisten=127.0.0.1:${await freePort()}\nnodes=${setup.nodes}\n`);
  writeFileSync(join(dir, 'config', 'plugins'), 'telemetry\n');
  writeFileSync(join(dir, 'plugins', 'telemetry.js'), PLUGIN_FILE);
  writeFileSync(join(dir, 'config', 'telemetry.ini'), setup.telemetryIni);
  const child = spawn(process.execPath, [join(harakaDir, 'bin', 'haraka'), '-c', dir], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeout: number, message: () => string): Promise<void> {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    // A check that throws (a request to a worker that was just killed) counts as not yet.
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(message());
}

/** Sends one message on its own connection; resolves with the server's reply or the refusal. */
export async function send(
  port: number,
  from: string,
  to: string | string[],
  name = 'client.example.net',
  auth?: { user: string; pass: string },
) {
  const transport = nodemailer.createTransport({
    ...(auth === undefined ? {} : { auth }),
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    name,
    connectionTimeout: 5000,
    greetingTimeout: 5000,
  });
  try {
    const info = await transport.sendMail({ from, to, subject: 'telemetry test', text: 'Hello from the test.\n' });
    return { ok: true as const, response: info.response, messageId: info.messageId };
  } catch (error) {
    return { ok: false as const, response: (error as Error).message, messageId: undefined };
  } finally {
    transport.close();
  }
}

/** The JSON lines the file tracer wrote. */
export function tracerLines(file: string): { event: string; data: Record<string, unknown> }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { event: string; data: Record<string, unknown> });
}

/** GETs a path of the admin listener. */
export async function admin(port: number, path: string, headers: Record<string, string> = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      // A kept-alive connection to a worker that has just been killed: ask again on a new one.
      if (attempt >= 2) throw error;
    }
  }
}
