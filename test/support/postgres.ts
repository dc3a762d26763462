/**
 * A real PostgreSQL server for the tests: Debian's `postgresql` binaries (found by
 * test/support/programs.ts, off PATH in /usr/lib/postgresql/<version>/bin), a fresh cluster in a
 * temp directory, listening on 127.0.0.1 and a free port and on a unix socket in that directory.
 * initdb and postgres refuse to run as root: as root, they run as the `postgres` user (which the
 * Debian package creates) through `setpriv`, in a directory made theirs.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';

export interface PostgresServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The directory of the server's unix socket. */
  readonly socketDir: string;
  readonly user: string;
  /** Connection options of a database (default `postgres`) over TCP on loopback. */
  connection(database?: string): pg.PoolConfig;
  /** A connection string of a database over TCP on loopback. */
  url(database?: string): string;
  /** Stops the server with a fast shutdown (clients are disconnected); resolves once it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and port. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
}

const USER = 'mt';

/** Runs `bin` as the `postgres` user when this process is root (PostgreSQL refuses root), else as it is. */
function asServerUser(bin: string, args: readonly string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [bin, [...args]];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', bin, ...args]];
}

/** Creates a cluster in a temp directory and starts its server; `postgresBin` is the `postgres` binary's path. */
export async function startPostgres(postgresBin: string): Promise<PostgresServer> {
  const bin = dirname(postgresBin);
  const dir = mkdtempSync(join(tmpdir(), 'mt-postgres-'));
  const data = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  mkdirSync(socketDir);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
    chownSync(socketDir, uid, gid);
  }
  const [initdb, initArgs] = asServerUser(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    USER,
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  execFileSync(initdb, initArgs, { stdio: 'pipe', cwd: dir });
  const port = await freePort();
  const log = join(dir, 'server.log');
  let child: ChildProcess | undefined;
  const killOnExit = () => child?.kill('SIGQUIT');
  process.once('exit', killOnExit);

  const connection = (database = 'postgres'): pg.PoolConfig => ({ host: '127.0.0.1', port, user: USER, database });

  async function start(): Promise<void> {
    const fd = openSync(log, 'a');
    const [cmd, args] = asServerUser(join(bin, 'postgres'), [
      '-D',
      data,
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-k',
      socketDir,
      // A throwaway cluster: durability across a crash is not under test, a clean restart is.
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'shared_buffers=16MB',
    ]);
    const started = spawn(cmd, args, { stdio: ['ignore', fd, fd], cwd: dir });
    closeSync(fd);
    child = started;
    let exited = false;
    started.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const client = new pg.Client(connection());
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.end();
        return;
      } catch (error) {
        await client.end().catch(() => undefined);
        if (exited || Date.now() > deadline)
          throw new Error(`PostgreSQL did not start (${String(error)}):\n${readFileSync(log, 'utf8').slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async function stop(): Promise<void> {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exit = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGINT');
    await exit;
  }

  await start();
  return {
    host: '127.0.0.1',
    port,
    socketDir,
    user: USER,
    connection,
    url: (database = 'postgres') => `postgres://${USER}@127.0.0.1:${port}/${database}`,
    stop,
    start,
    async destroy() {
      await stop();
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
