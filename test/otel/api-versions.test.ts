/**
 * Both OpenTelemetry API lines the peer range allows, for real: the packed package (`npm pack` of
 * the built dist/) is installed by npm, from the registry with `--prefer-offline`, into a host
 * project already on API 1.9 (SDK 2.x, logs SDK 0.2xx) or on API 1.10 (SDK 3.x), with that line's
 * OTLP/HTTP exporters. The install must raise no ERESOLVE, warning or error, and leave one copy of
 * the API and of the SDK packages (the host's). Then a child process of the host sends spans and log
 * records from one tracer entry (`exporter` and `logExporter`) to a loopback OTLP receiver here, and
 * another overflows small batch queues: what the SDK of that line drops is counted.
 *
 * The API 1.10 packages cannot be devDependencies of this repository, even under aliases: their
 * peer range (`>=1.10.0 <1.11.0`) conflicts with the repository's own API 1.9, which npm refuses.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpReceiver } from './receiver.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const temporary = mkdtempSync(join(tmpdir(), 'mail-telemetry-otel-api-'));
afterAll(() => rmSync(temporary, { recursive: true, force: true }));
const run = promisify(execFile);
const INSTALL_TIMEOUT_MS = 240_000;

/** The environment of the npm runs: this Node first on PATH, and none of the npm run's own settings. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key)) env[key] = value;
  env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
  return env;
}

function npm(args: readonly string[], cwd: string): string {
  const result = spawnSync('npm', [...args, '--no-audit', '--no-fund'], {
    cwd,
    env: npmEnv(),
    encoding: 'utf8',
    timeout: INSTALL_TIMEOUT_MS,
  });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0)
    throw new Error(`npm ${args.join(' ')} failed (${result.error?.message ?? result.status}):\n${output}`);
  return output;
}

/** Every installed copy of `name` under `dir/node_modules`, as `path@version`, nested ones included. */
function copiesOf(dir: string, name: string): string[] {
  const found: string[] = [];
  const walk = (modules: string) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      const paths = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((e) => join(entry, e)) : [entry];
      for (const path of paths) {
        const where = join(modules, path);
        const manifest = join(where, 'package.json');
        if (path === name && existsSync(manifest)) {
          const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
          found.push(`${where.slice(dir.length + 1)}@${version}`);
        }
        walk(join(where, 'node_modules'));
      }
    }
  };
  walk(join(dir, 'node_modules'));
  return found;
}

let tarball = '';
beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('run `npm run build` first: the package is packed from dist/');
  const packed = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', temporary], root);
  const [info] = JSON.parse(packed.slice(packed.indexOf('['))) as { filename: string }[];
  tarball = join(temporary, info?.filename ?? '');
}, INSTALL_TIMEOUT_MS);

// What the host sends: one tracer entry, with the host's OTLP exporters.
const HOST = `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { createTelemetry } from 'mail-telemetry';

const [traces, logs] = process.argv.slice(2);
const telemetry = createTelemetry({
  service: 'mx-api',
  tracers: [{ type: 'otel', level: 'debug', exporter: new OTLPTraceExporter({ url: traces }), logExporter: new OTLPLogExporter({ url: logs }) }],
});
const session = telemetry.span('smtp.connection-start', { remoteIp: '192.0.2.10', remotePort: 52144, listenerId: 'smtp', localPort: 25 });
session.emit('smtp.ehlo', { domain: 'client.example.org' });
const attempt = telemetry.withSpan(session, () => telemetry.span('delivery.attempt-start', { queueId: 7 }));
attempt.end({ elapsed: 3 });
session.end({ elapsed: 9 });
await telemetry.shutdown();
// The API and SDK copies mail-telemetry itself loads.
const ours = createRequire(createRequire(import.meta.url).resolve('mail-telemetry'));
// (Not name/package.json: the 3.x packages do not export it.)
const version = (name) => {
  for (let dir = dirname(ours.resolve(name)); ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (manifest.name === name) return manifest.version;
    } catch {}
  }
};
console.log(JSON.stringify({ api: version('@opentelemetry/api'), sdk: version('@opentelemetry/sdk-trace'), logs: version('@opentelemetry/sdk-logs') }));
`;

// A burst that overflows small batch queues (set through the OTEL_BSP_/OTEL_BLRP_ variables).
const BURST = `
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { createTelemetry } from 'mail-telemetry';

const [traces, logs] = process.argv.slice(2);
const telemetry = createTelemetry({
  tracers: [{ type: 'otel', level: 'debug', exporter: new OTLPTraceExporter({ url: traces }), logExporter: new OTLPLogExporter({ url: logs }) }],
});
for (let i = 0; i < 40; i++) telemetry.span('smtp.connection-start', { remoteIp: '192.0.2.10', remotePort: 1, listenerId: 'smtp', localPort: 25 }).end();
await telemetry.flush();
const metric = telemetry.metrics.snapshot().metrics.find((m) => m.name === 'telemetry.otel-dropped');
await telemetry.shutdown();
console.log(JSON.stringify(Object.fromEntries((metric?.series ?? []).map((s) => [s.labels.signal, s.value]))));
`;

const LINES = [
  {
    api: '1.9',
    host: [
      '@opentelemetry/api@~1.9.0',
      '@opentelemetry/exporter-trace-otlp-http@~0.223.1',
      '@opentelemetry/exporter-logs-otlp-http@~0.223.1',
      '@opentelemetry/sdk-logs@~0.223.1',
    ],
    sdk: /^2\./,
    logs: /^0\.2/,
  },
  {
    api: '1.10',
    host: [
      '@opentelemetry/api@~1.10.0',
      '@opentelemetry/exporter-trace-otlp-http@~0.301.2',
      '@opentelemetry/exporter-logs-otlp-http@~0.301.2',
      '@opentelemetry/sdk-logs@~3.1.1',
    ],
    sdk: /^3\./,
    logs: /^3\./,
  },
];

describe.each(LINES)('a host on OpenTelemetry API $api', (line) => {
  const dir = join(temporary, `host-${line.api}`);

  it(
    'installs the packed package with no ERESOLVE and one copy of the API and the SDK',
    () => {
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `host-${line.api}`, private: true, type: 'module' }));
      npm(['install', '--prefer-offline', ...line.host], dir);
      const output = npm(['install', '--prefer-offline', tarball], dir);
      expect(output).not.toMatch(/ERESOLVE|peer dep/i);
      const [api, ...nested] = copiesOf(dir, '@opentelemetry/api');
      expect(nested, 'a second copy of the API').toEqual([]);
      expect(api).toMatch(new RegExp(`^node_modules/@opentelemetry/api@${line.api.replace('.', '\\.')}\\.`));
      for (const name of [
        '@opentelemetry/sdk-trace',
        '@opentelemetry/resources',
        '@opentelemetry/core',
        '@opentelemetry/sdk-logs',
      ]) {
        expect(copiesOf(dir, name), name).toHaveLength(1);
      }
    },
    INSTALL_TIMEOUT_MS * 2,
  );

  it('sends spans and log records from one tracer entry, with the host’s API and SDK', async () => {
    const receiver = await otlpReceiver();
    writeFileSync(join(dir, 'host.mjs'), HOST);
    const { stdout } = await run(process.execPath, ['host.mjs', receiver.url('traces'), receiver.url('logs')], {
      cwd: dir,
      encoding: 'utf8',
    });
    const versions = JSON.parse(stdout) as { api: string; sdk: string; logs: string };
    expect(versions.api.startsWith(`${line.api}.`)).toBe(true);
    expect(versions.sdk).toMatch(line.sdk);
    expect(versions.logs).toMatch(line.logs);

    const spans = receiver.spans();
    const smtp = spans.find((s) => s.name === 'smtp.connection-start');
    const delivery = spans.find((s) => s.name === 'delivery.attempt-start');
    expect(smtp?.resource['service.name']).toBe('mx-api');
    expect(smtp?.kind).toBe(2); // SERVER
    expect(smtp?.attributes).toMatchObject({ remoteIp: '192.0.2.10', elapsed: 9 });
    expect(smtp?.events.map((e) => e.name)).toEqual(['smtp.ehlo']);
    expect(delivery?.parentSpanId).toBe(smtp?.spanId);
    expect(delivery?.traceId).toBe(smtp?.traceId);

    const logs = receiver.logs();
    expect(logs.map((l) => l.eventName)).toEqual([
      'smtp.connection-start',
      'smtp.ehlo',
      'delivery.attempt-start',
      'delivery.attempt-end',
      'smtp.connection-end',
    ]);
    const ehlo = logs.find((l) => l.eventName === 'smtp.ehlo');
    expect(ehlo).toMatchObject({ traceId: smtp?.traceId, spanId: smtp?.spanId, severityText: 'INFO' });
    expect(logs.find((l) => l.eventName === 'delivery.attempt-end')?.spanId).toBe(delivery?.spanId);
  }, 60_000);

  it('counts the spans and log records this line’s batch processors drop', async () => {
    const receiver = await otlpReceiver();
    writeFileSync(join(dir, 'burst.mjs'), BURST);
    const queues = Object.fromEntries(
      ['OTEL_BSP', 'OTEL_BLRP'].flatMap((p) => [
        [`${p}_MAX_QUEUE_SIZE`, '4'],
        [`${p}_MAX_EXPORT_BATCH_SIZE`, '4'],
      ]),
    );
    const { stdout } = await run(process.execPath, ['burst.mjs', receiver.url('traces'), receiver.url('logs')], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, ...queues },
    });
    const dropped = JSON.parse(stdout) as { spans?: number; logs?: number };
    expect(dropped.spans).toBeGreaterThan(0);
    expect(dropped.logs).toBeGreaterThan(0);
    expect(receiver.spans().length + (dropped.spans ?? 0)).toBe(40);
    expect(receiver.logs().length + (dropped.logs ?? 0)).toBe(80); // each span's start and end events
  }, 60_000);
});
