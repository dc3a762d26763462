import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from './fixtures/primary.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/primary.ts', import.meta.url));

/** The fixture's primary process, its workers, and its HTTP endpoints on loopback. */
export interface Host {
  readonly origin: string;
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything the primary and its workers wrote to stderr. */
  stderr(): string;
  control(command: Command): Promise<unknown>;
  /** The scrape's text and its samples by `name{labels}`. */
  scrape(path?: string, accept?: string): Promise<Scrape>;
  stop(): Promise<void>;
}

export interface Scrape {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
  readonly samples: Map<string, number>;
}

/**
 * Starts the fixture's primary (with the Node that runs the tests, TypeScript through tsx), or
 * `script` with `args`, another primary that prints `listening <port>` and exits when its stdin closes.
 */
export async function startHost(timeout = 1500, script = fixture, args: readonly string[] = [String(timeout)]): Promise<Host> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the primary exited (${code}) before listening:\n${stderr}`)));
  });
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    child,
    stderr: () => stderr,
    async control(command) {
      const response = await fetch(`${origin}/control`, { method: 'POST', body: JSON.stringify(command) });
      if (response.status !== 200)
        throw new Error(`control ${JSON.stringify(command)}: ${response.status} ${await response.text()}`);
      return response.json();
    },
    async scrape(path = '/metrics', accept) {
      const response = await fetch(`${origin}${path}`, accept === undefined ? {} : { headers: { accept } });
      const text = await response.text();
      return { status: response.status, contentType: response.headers.get('content-type'), text, samples: samples(text) };
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // Closing its stdin makes the primary kill its workers and exit.
      child.stdin.end();
      await exited;
    },
  };
}

/** The samples of an exposition, by `name{labels}` as written. */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

/** The samples that only ever grow: counters, and histograms' buckets, sums and counts. */
export function monotonic(text: string): Map<string, number> {
  const counters = new Set<string>();
  const histograms = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (counter|histogram)$/.exec(line);
    if (type?.[2] === 'counter') counters.add(type[1] as string);
    else if (type?.[2] === 'histogram') histograms.add(type[1] as string);
  }
  const out = new Map<string, number>();
  for (const [key, value] of samples(text)) {
    const name = key.replace(/\{.*$/, '');
    const family = name.replace(/_(bucket|sum|count)$/, '');
    if (counters.has(name) || (histograms.has(family) && family !== name)) out.set(key, value);
  }
  return out;
}
