/** The parent's handle on one server child: fork it, drive its rounds over IPC, shut it down. */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Command, MemoryStats, Mode, Report, RoundStats } from './protocol.js';

type ReportOf<T extends Report['type']> = Extract<Report, { type: T }>;

export interface ChildOptions {
  readonly mode: Mode;
  readonly repoRoot: string;
  readonly webhookUrl: string;
  /** A file descriptor open on /dev/null: the child's stdout, where the console tracer writes. */
  readonly stdout: number;
  /** Extra Node flags, such as --cpu-prof. */
  readonly nodeFlags?: readonly string[];
  /** The server as plain JavaScript, from {@link serverScript}. */
  readonly script: string;
}

/**
 * Compiles bench/e2e/server.ts to JavaScript at the same depth in build/ (so that its relative path
 * to dist/ holds), for a child that runs like a production server: under a TypeScript loader such as
 * tsx, every module the server imports, the library included, goes through the loader, which keeps
 * about 6 MiB of its own per process and would be charged to the `on` server.
 */
export async function serverScript(repoRoot: string): Promise<string> {
  const outfile = join(repoRoot, 'build/bench-e2e/server.mjs');
  await build({
    entryPoints: [join(repoRoot, 'bench/e2e/server.ts')],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node22',
    logLevel: 'warning',
  });
  return outfile;
}

export class ServerChild {
  readonly #process: ChildProcess;
  readonly #waiting = new Map<Report['type'], { resolve: (report: Report) => void; reject: (error: Error) => void }>();
  #failure: Error | undefined;
  smtpPort = 0;
  adminPort: number | undefined;

  private constructor(
    readonly mode: Mode,
    options: ChildOptions,
  ) {
    const args = ['--mode', mode, ...(mode === 'on' ? ['--webhook', options.webhookUrl] : [])];
    this.#process = fork(options.script, args, {
      cwd: options.repoRoot,
      execPath: process.execPath,
      execArgv: ['--expose-gc', ...(options.nodeFlags ?? [])],
      stdio: ['ignore', options.stdout, 'inherit', 'ipc'],
    });
    this.#process.on('message', (report: Report) => {
      if (report.type === 'fatal') this.#fail(new Error(`the ${mode} server failed: ${report.error}`));
      else this.#waiting.get(report.type)?.resolve(report);
    });
    this.#process.on('exit', (code, signal) => {
      this.#fail(new Error(`the ${mode} server exited (${signal ?? `code ${code}`})`));
    });
  }

  static async start(options: ChildOptions): Promise<ServerChild> {
    const child = new ServerChild(options.mode, options);
    const ready = await child.#next('ready');
    child.smtpPort = ready.smtpPort;
    child.adminPort = ready.adminPort;
    return child;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.values()) waiter.reject(error);
    this.#waiting.clear();
  }

  #next<T extends Report['type']>(type: T): Promise<ReportOf<T>> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise<ReportOf<T>>((resolve, reject) => {
      this.#waiting.set(type, {
        resolve: (report) => {
          this.#waiting.delete(type);
          resolve(report as ReportOf<T>);
        },
        reject,
      });
    });
  }

  #send(command: Command): void {
    if (this.#failure !== undefined) throw this.#failure;
    this.#process.send(command);
  }

  async startRound(maildir: string): Promise<void> {
    const ready = this.#next('round-ready');
    this.#send({ type: 'round-start', maildir });
    await ready;
  }

  markLoaded(): void {
    this.#send({ type: 'round-loaded' });
  }

  async endRound(): Promise<RoundStats> {
    const stats = this.#next('round-stats');
    this.#send({ type: 'round-end' });
    const { type: _, ...rest } = await stats;
    return rest;
  }

  /** The server's memory now, after a full GC. */
  async memory(): Promise<MemoryStats> {
    const stats = this.#next('memory');
    this.#send({ type: 'memory' });
    const { type: _, ...rest } = await stats;
    return rest;
  }

  /** Asks for a clean exit (so that --cpu-prof writes its profile) and waits for it. */
  async stop(): Promise<void> {
    if (this.#process.exitCode !== null || this.#process.signalCode !== null) return;
    const exited = once(this.#process, 'exit');
    this.#failure ??= new Error(`the ${this.mode} server was stopped`);
    this.#process.send({ type: 'shutdown' } satisfies Command);
    await exited;
  }
}
