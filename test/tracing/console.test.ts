import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { jsonLine, REDACTED, type Sink, type TelemetryEvent, textLine } from '../../src/index.js';
import { make } from '../support/telemetry.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

/** Runs a small host program with real console tracers on stdout and returns what they wrote. */
function host(tracers: string, body: string): { stdout: string } {
  const program = `
    import { createTelemetry } from './src/index.js';
    const telemetry = createTelemetry({ levels: { 'auth.failed': 'info' }, sensitiveKeys: ['accountName'], tracers: ${tracers} });
    ${body}
    await telemetry.shutdown();
  `;
  const out = execFileSync(process.execPath, [tsx, '--input-type=module', '-e', program], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { stdout: out };
}

const SESSION = `
  const span = telemetry.span('smtp.connection-start', { remoteIp: '192.0.2.7', remotePort: 4000, listenerId: 'smtp', localPort: 25 });
  span.emit('smtp.ehlo', { domain: 'client.example.org' });
  telemetry.emit('auth.failed', { remoteIp: '192.0.2.7', accountName: 'alice', reason: 'bad password' });
  span.end({ elapsed: 12 });
`;

const LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (TRACE|DEBUG|INFO|WARN|ERROR) .+ \([a-z0-9-]+\.[a-z0-9-]+\)/;

describe('the console tracer', () => {
  it('writes Stalwart text lines with span keys, at its level, with sensitive keys redacted', () => {
    const { stdout } = host(`[{ type: 'console', stream: 'stdout' }]`, SESSION);
    const lines = stdout.trim().split('\n');
    for (const line of lines) expect(line).toMatch(LINE);
    expect(lines).toContain(
      `${lines[0]?.slice(0, 24)} INFO SMTP EHLO received (smtp.ehlo) domain = "client.example.org", spanId = ${lines[0]?.match(/spanId = (\d+)/)?.[1]}, remoteIp = "192.0.2.7", remotePort = 4000, listenerId = "smtp", localPort = 25`,
    );
    expect(stdout).toContain('(auth.failed) remoteIp = "192.0.2.7", accountName = "[redacted]", reason = "bad password"');
    expect(stdout).not.toContain('alice');
    // connection start/end are debug: below the default info level
    expect(stdout).not.toContain('smtp.connection-start');
  });

  it('writes JSON lines that parse, with time, level, event, description and data', () => {
    const { stdout } = host(`[{ type: 'console', stream: 'stdout', format: 'json', level: 'debug' }]`, SESSION);
    const objects = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(objects.map((o) => o.event)).toEqual(['smtp.connection-start', 'smtp.ehlo', 'auth.failed', 'smtp.connection-end']);
    const failed = objects[2];
    expect(failed).toMatchObject({
      level: 'info',
      description: 'Authentication failed',
      data: { remoteIp: '192.0.2.7', accountName: REDACTED },
    });
    expect(new Date(failed.time).toISOString()).toBe(failed.time);
    expect(objects[3].data.elapsed).toBe(12);
    expect(objects[3].spanId).toBe(objects[0].spanId);
  });

  it('prefixes journald priorities and can put each key on its own line', () => {
    const { stdout } = host(
      `[{ type: 'console', stream: 'stdout', journald: true, multiline: true, level: 'debug', events: ['smtp.*'] }]`,
      SESSION,
    );
    expect(stdout).toMatch(/^<7>\S+ DEBUG SMTP connection opened \(smtp\.connection-start\)\n {4}remoteIp = "192\.0\.2\.7"\n/);
    expect(stdout).toContain('<6>');
    expect(stdout).toContain('\n    domain = "client.example.org"\n');
  });

  it('colours levels only when asked, or on a TTY', () => {
    const event = sampleEvent();
    expect(textLine(event, 'Authentication failed', { multiline: false, ansi: true, journald: false })).toContain(
      '\u001b[32mINFO\u001b[0m',
    );
    expect(textLine(event, 'Authentication failed', { multiline: false, ansi: false, journald: false })).not.toContain('\u001b');
    const { stdout } = host(`[{ type: 'console', stream: 'stdout' }]`, SESSION); // a pipe, not a TTY: auto means no colour
    expect(stdout).not.toContain('\u001b');
  });
});

describe('the fail2ban filter', () => {
  it('matches the auth.failed text line and captures remoteIp, and nothing else', () => {
    const conf = readFileSync(new URL('../../examples/fail2ban/mail-telemetry.conf', import.meta.url), 'utf8');
    const failregex = conf.match(/^failregex = (.+)$/m)?.[1] ?? '';
    // fail2ban's <ADDR> stands for an address; the rest is a Python regex that JS reads the same way.
    const regex = new RegExp(failregex.replace('<ADDR>', '(?<host>[0-9a-fA-F.:]+)'));
    for (const options of [`{ type: 'console', stream: 'stdout' }`, `{ type: 'console', stream: 'stdout', journald: true }`]) {
      const { stdout } = host(`[${options}]`, `${SESSION} telemetry.emit('auth.failed', { remoteIp: '2001:db8::1' });`);
      const hosts = stdout
        .split('\n')
        .map((line) => regex.exec(line)?.groups?.host)
        .filter(Boolean);
      expect(hosts).toEqual(['192.0.2.7', '2001:db8::1']);
    }
  });
});

describe('custom sinks and redaction', () => {
  it('delivers batches, flushes and closes the sink, and isolates a throwing sink', async () => {
    const written: TelemetryEvent[] = [];
    const calls: string[] = [];
    const good: Sink = {
      write: (batch) => {
        written.push(...batch);
      },
      flush: () => {
        calls.push('flush');
      },
      close: () => {
        calls.push('close');
      },
    };
    const reports: TelemetryEvent[] = [];
    const telemetry = make({
      tracers: [
        { type: 'custom', id: 'good', sink: good, level: 'trace', redact: ['contents'] },
        {
          type: 'custom',
          id: 'bad',
          events: ['*'],
          level: 'trace',
          sink: () => ({
            write: () => {
              throw new Error('disk on fire');
            },
          }),
        },
      ],
    });
    telemetry.subscribe({ events: ['telemetry.subscriber-error'] }, (batch) => {
      reports.push(...batch);
    });
    telemetry.emit('smtp.raw-input', { contents: 'AUTH PLAIN c2VjcmV0', size: 19 });
    await telemetry.flush();
    expect(written.map((e) => e.type)).toEqual(['smtp.raw-input', 'telemetry.subscriber-error']);
    expect(written[0]?.data.contents).toBe(REDACTED);
    expect(written[0]?.data.size).toBe(19);
    expect(JSON.stringify(written[0])).not.toContain('c2VjcmV0');
    expect(reports.map((e) => [e.data.id, e.data.reason])).toEqual([['tracer:bad', 'disk on fire']]);
    // the good sink saw the bad one's error event; the bad one never saw its own
    expect(written.some((e) => e.type === 'telemetry.subscriber-error')).toBe(true);
    expect(calls).toEqual(['flush']);
    await telemetry.shutdown();
    // shutdown flushes (once or more, as the core decides), then closes once
    expect(calls.slice(1, -1).every((call) => call === 'flush')).toBe(true);
    expect(calls.length).toBeGreaterThan(2);
    expect(calls.at(-1)).toBe('close');
  });

  it('shares one error listener per stream: 15 instances on stdout, no leak warning, none left after shutdown, each told of an error', () => {
    const program = `
      import { createTelemetry } from './src/index.js';
      const warnings = [];
      process.on('warning', (w) => warnings.push(w.name));
      const before = process.stdout.listenerCount('error');
      const instances = Array.from({ length: 15 }, () =>
        createTelemetry({ history: false, tracers: [{ type: 'console', stream: 'stdout' }] }));
      const during = process.stdout.listenerCount('error');
      let told = 0;
      for (const t of instances) t.on('telemetry.log-error', () => told++);
      process.stdout.emit('error', new Error('EPIPE'));
      for (const t of instances) await t.flush();
      for (const t of instances) await t.shutdown();
      const after = process.stdout.listenerCount('error');
      await new Promise((resolve) => setTimeout(resolve, 10));
      process.stderr.write('\\nREPORT ' + JSON.stringify({ before, during, after, warnings, told }));
    `;
    const result = spawnSync(process.execPath, [tsx, '--input-type=module', '-e', program], { cwd: root, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const line = result.stderr.split('\n').find((l) => l.startsWith('REPORT ')) ?? '';
    const report = JSON.parse(line.slice('REPORT '.length)) as {
      before: number;
      during: number;
      after: number;
      warnings: string[];
      told: number;
    };
    expect(report.during).toBe(report.before + 1);
    expect(report.after).toBe(report.before);
    expect(report.warnings).toEqual([]);
    expect(report.told).toBe(15);
  });

  it('refuses bad tracer options', () => {
    const bad = (tracers: unknown) => () => make({ tracers } as never);
    expect(bad({})).toThrow(/options\.tracers: expected an array/);
    expect(bad([{ type: 'syslog' }])).toThrow(/options\.tracers\[0\]\.type: expected one of console, file, pino, otel, custom/);
    expect(bad([{ type: 'console', format: 'xml' }])).toThrow(/options\.tracers\[0\]\.format/);
    expect(bad([{ type: 'console', rotate: 'daily' }])).toThrow(/options\.tracers\[0\]\.rotate/);
    expect(bad([{ type: 'console', level: 'loud' }])).toThrow(/options\.tracers\[0\]\.level/);
    expect(bad([{ type: 'console', events: ['smtp.ehol'] }])).toThrow(
      /options\.tracers\[0\]\.events\[0\].*did you mean "smtp\.ehlo"/,
    );
    expect(bad([{ type: 'custom', sink: {} }])).toThrow(/options\.tracers\[0\]\.sink: expected a sink/);
    expect(bad([{ type: 'console' }, { type: 'console', id: 'console-0' }])).toThrow(/an id not used/);
    expect(() => make({ sensitiveKeys: 'password' } as never)).toThrow(/options\.sensitiveKeys/);
  });

  it('formats JSON lines with errors and byte arrays made printable', () => {
    const line = jsonLine(sampleEvent({ causedBy: new Error('boom'), contents: new Uint8Array([104, 105]) }), 'Something failed');
    expect(JSON.parse(line).data).toEqual({ causedBy: { type: 'Error', message: 'boom' }, contents: 'aGk=' });
  });
});

function sampleEvent(data: Record<string, unknown> = { remoteIp: '192.0.2.7' }): TelemetryEvent {
  const base = { id: 1, type: 'auth.failed', level: 'info' as const, timestamp: Date.UTC(2026, 10, 24, 12), data };
  return { ...base, typeId: 35, spanId: undefined, toJSON: () => base };
}
