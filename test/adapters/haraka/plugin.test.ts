import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listenServer, PLAIN_SERVER } from '../support.js';
import { admin, failingHaraka, LOCAL_DOMAIN, PLUGIN_FILE, send, startHaraka, tracerLines, waitFor } from './harness.js';

// A test plugin in Haraka's own sandbox: it refuses one HELO name and one sender the way real
// plugins do, and emits an Error made in the sandbox (another realm) into the plugin's instance.
const POLICY_PLUGIN = `
exports.hook_helo = function (next, connection, host) {
  if (host === 'bad.example.net') return next(DENY, 'You are not welcome here');
  next();
};
exports.hook_ehlo = exports.hook_helo;
exports.hook_mail = function (next, connection, params) {
  if (params[0].address === 'spammer@spam.example') return next(DENY, 'Sender blocked by policy');
  next();
};
exports.hook_data_post = function (next, connection) {
  const telemetry = require('mail-telemetry/haraka').harakaTelemetry();
  telemetry.emit('smtp.error', { details: 'policy check', causedBy: new Error('sandbox error: policy database unreachable') });
  next();
};
`;

const INI = `
[main]
service=haraka-test
flush_timeout=3000

[tracer]
type=file
path={tracer}
rotate=never
format=json
level=debug

[admin]
listen={admin}
`;

const PLUGINS = [{ name: 'policy', code: POLICY_PLUGIN }, 'rcpt_to.in_host_list', 'queue/discard'];

function counter(scrape: string, name: string): number {
  const line = scrape.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('the Haraka plugin in a real Haraka', () => {
  it('reports every session, message and refusal to the scrape, the history and the tracer, and flushes on SIGINT', async () => {
    const haraka = await startHaraka({ nodes: 0, telemetryIni: INI, plugins: PLUGINS });
    const accepted = await send(haraka.port, 'alice@sender.example', [`bob@${LOCAL_DOMAIN}`, `carol@${LOCAL_DOMAIN}`]);
    expect(accepted.ok, accepted.response).toBe(true);
    const queueId = /Message Queued \(([^)]+)\)/.exec(accepted.response)?.[1];
    expect(queueId).toBeDefined();
    const relay = await send(haraka.port, 'alice@sender.example', 'someone@elsewhere.example');
    expect(relay.ok).toBe(false);
    const helo = await send(haraka.port, 'alice@sender.example', `bob@${LOCAL_DOMAIN}`, 'bad.example.net');
    expect(helo.ok).toBe(false);
    const sender = await send(haraka.port, 'spammer@spam.example', `bob@${LOCAL_DOMAIN}`);
    expect(sender.ok).toBe(false);

    // The scrape counts what was sent.
    let last = '';
    await waitFor(
      async () => {
        last = (await admin(haraka.adminPort, '/metrics')).text;
        return counter(last, 'mail_smtp_connection_end_total') >= 4;
      },
      10_000,
      () =>
        `four sessions ended:\n${last
          .split('\n')
          .filter((l) => /^mail_(smtp|queue|haraka)/.test(l))
          .join('\n')}\n${haraka.output()}`,
    );
    const scrape = (await admin(haraka.adminPort, '/metrics')).text;
    const counts = Object.fromEntries(
      ['queue_message_queued', 'smtp_relay_not_allowed', 'haraka_refused', 'smtp_connection_start'].map((name) => [
        name,
        counter(scrape, `mail_${name}_total`),
      ]),
    );
    expect(counts).toEqual({
      queue_message_queued: 1,
      smtp_relay_not_allowed: 1,
      // nodemailer tries HELO after the refused EHLO: two refusals.
      haraka_refused: 2,
      smtp_connection_start: 4,
    });

    // The history finds the message by Haraka's own queue id, with its envelope and Message-ID.
    const traces = JSON.parse((await admin(haraka.adminPort, `/history/telemetry/traces?queue_id=${queueId}&values=1`)).text);
    const trace = traces.data.items[0];
    expect(trace.messages[0]).toMatchObject({
      queueId,
      from: 'alice@sender.example',
      to: [`bob@${LOCAL_DOMAIN}`, `carol@${LOCAL_DOMAIN}`],
      messageId: accepted.messageId,
    });

    // The history keeps the sandbox's Error with its message, as the tracer does below.
    const errors = (await admin(haraka.adminPort, '/history/telemetry/events?type=smtp.error')).text;
    expect(errors).toContain('sandbox error: policy database unreachable');

    // A session left open is ended by the shutdown; the tracer has every line after SIGINT.
    const open = connect(haraka.port, '127.0.0.1');
    open.on('error', () => undefined);
    await waitFor(
      async () => counter((await admin(haraka.adminPort, '/metrics')).text, 'mail_smtp_connection_start_total') >= 5,
      10_000,
      () => 'the fifth session started',
    );
    const exit = await haraka.stop('SIGINT');
    expect(exit.code).toBe(0);
    open.destroy();
    const lines = tracerLines(haraka.tracerFile);
    const events = lines.map((line) => line.event);
    expect(events.filter((e) => e === 'smtp.connection-start')).toHaveLength(5);
    expect(events.filter((e) => e === 'smtp.connection-end')).toHaveLength(5);
    // A refused MAIL FROM is not also reported as accepted.
    expect(lines.filter((l) => l.event === 'smtp.mail-from').map((l) => l.data.from)).toEqual([
      'alice@sender.example',
      'alice@sender.example',
    ]);
    expect(lines.find((l) => l.event === 'smtp.connection-end' && l.data.reason === 'server shutdown')).toBeDefined();
    expect(lines.find((l) => l.event === 'smtp.ehlo' && l.data.domain === 'client.example.net')?.data.details).toBe('EHLO');
    expect(lines.find((l) => l.event === 'haraka.refused')?.data).toMatchObject({
      plugin: 'policy',
      hook: 'ehlo',
      code: 550,
      reason: 'You are not welcome here',
    });
    expect(lines.find((l) => l.event === 'smtp.mail-from-not-allowed')?.data).toMatchObject({
      from: 'spammer@spam.example',
      plugin: 'policy',
      code: 550,
      reason: 'Sender blocked by policy',
    });
    expect(lines.find((l) => l.event === 'smtp.relay-not-allowed')?.data).toMatchObject({
      to: 'someone@elsewhere.example',
      code: 550,
    });
    // The sandbox's Error keeps its message (it is not `{}`).
    expect(
      JSON.stringify(lines.find((l) => l.event === 'smtp.error' && l.data.details === 'policy check')?.data.causedBy),
    ).toContain('policy database unreachable');
    const queued = lines.find((l) => l.event === 'queue.message-queued');
    expect(queued?.data).toMatchObject({ queueId, from: 'alice@sender.example', messageId: accepted.messageId });
    expect(queued?.data.id).toMatch(/^[0-9A-F-]{36}$/);
  }, 60_000);
});

describe("Haraka's AUTH and its own outbound queue", () => {
  it('reports logins, a relayed message to its delivery, keeps queue.count right, and flushes on SIGTERM', async () => {
    const delivered: string[] = [];
    const { server: sink, port: sinkPort } = await listenServer({
      ...PLAIN_SERVER,
      authOptional: true,
      onData(stream, session, callback) {
        stream.resume();
        stream.on('end', () => {
          delivered.push(...session.envelope.rcptTo.map((r) => r.address));
          callback(null, 'Ok: queued as SINK1');
        });
      },
    });
    // Haraka's outbound keeps its connections to the sink pooled: the SIGTERM below resets them.
    sink.on('error', () => undefined);
    const haraka = await startHaraka({
      nodes: 0,
      telemetryIni: INI,
      plugins: [
        'rcpt_to.in_host_list',
        'auth/flat_file',
        { name: 'inbox', code: 'exports.hook_queue = (next) => next(OK);\n' },
        {
          name: 'route',
          code: `exports.hook_get_mx = (next, hmail, domain) => domain === 'nowhere.example' ? next(DENY, 'no such domain') : next(OK, { exchange: '127.0.0.1', port: ${sinkPort}, priority: 0 });\n`,
        },
      ],
      configFiles: {
        'auth_flat_file.ini': '[core]\nmethods=PLAIN,LOGIN\n\n[users]\nalice=pw-Zq8#never-in-telemetry\n',
        'outbound.ini': 'enable_tls=false\n',
      },
    });
    const refused = await send(haraka.port, 'alice@sender.example', 'x@elsewhere.example', 'client.example.net', {
      user: 'alice',
      pass: 'wrong password',
    });
    expect(refused.ok).toBe(false);
    const relayed = await send(haraka.port, 'alice@sender.example', 'x@elsewhere.example', 'client.example.net', {
      user: 'alice',
      pass: 'pw-Zq8#never-in-telemetry',
    });
    expect(relayed.ok, relayed.response).toBe(true);
    const bounced = await send(haraka.port, 'alice@sender.example', 'y@nowhere.example', 'client.example.net', {
      user: 'alice',
      pass: 'pw-Zq8#never-in-telemetry',
    });
    expect(bounced.ok, bounced.response).toBe(true);
    const inbound = await send(haraka.port, 'carol@sender.example', `bob@${LOCAL_DOMAIN}`);
    expect(inbound.ok, inbound.response).toBe(true);

    let scrape = '';
    await waitFor(
      async () => {
        scrape = (await admin(haraka.adminPort, '/metrics')).text;
        return counter(scrape, 'mail_delivery_delivered_total') >= 1 && delivered.includes('x@elsewhere.example');
      },
      20_000,
      () => `the relayed message was delivered:\n${haraka.output()}`,
    );
    // Three messages queued, all of them gone on: handed to a queue plugin, delivered, or bounced.
    await waitFor(
      async () => {
        scrape = (await admin(haraka.adminPort, '/metrics')).text;
        return counter(scrape, 'mail_queue_messages') === 0;
      },
      20_000,
      () =>
        `queue.count back at 0:\n${scrape
          .split('\n')
          .filter((l) => /^mail_(queue|delivery)/.test(l))
          .join('\n')}`,
    );
    expect(counter(scrape, 'mail_queue_message_queued_total')).toBe(3);

    const exit = await haraka.stop('SIGTERM');
    expect(exit.signal).toBe('SIGTERM');
    const lines = tracerLines(haraka.tracerFile);
    const text = JSON.stringify(lines);
    expect(text).not.toContain('pw-Zq8');
    expect(lines.find((l) => l.event === 'auth.failed')?.data).toMatchObject({ plugin: 'auth/flat_file', code: 535 });
    expect(lines.find((l) => l.event === 'auth.success')?.data).toMatchObject({ accountName: 'alice', plugin: 'auth/flat_file' });
    const queueId = /\(([^)]+)\)/.exec(relayed.response)?.[1];
    expect(lines.find((l) => l.event === 'delivery.delivered')?.data).toMatchObject({
      queueId: `${queueId}.1`,
      to: ['x@elsewhere.example'],
      remoteIp: '127.0.0.1',
    });
    expect(lines.find((l) => l.event === 'delivery.failed')?.data).toMatchObject({ to: ['y@nowhere.example'] });
    const starts = lines.filter((l) => l.event === 'smtp.connection-start').length;
    expect(lines.filter((l) => l.event === 'smtp.connection-end')).toHaveLength(starts);
  }, 90_000);
});

describe('a bad telemetry.ini', () => {
  it('stops Haraka at start with an error naming the section and key', async () => {
    const { code, output } = await failingHaraka({ nodes: 0, telemetryIni: '[admin]\nlisen=127.0.0.1:9466\n' });
    expect(code).not.toBe(0);
    expect(output).toContain('telemetry.ini [admin] lisen');
  }, 30_000);
});

describe('docs/haraka.md', () => {
  it('its setup works as written: the plugin file, config/plugins and telemetry.ini', async () => {
    const page = readFileSync(new URL('../../../docs/haraka.md', import.meta.url), 'utf8');
    const shell = /```sh\n([\s\S]*?)```/.exec(page)?.[1] ?? '';
    expect(shell).toContain(`echo "${PLUGIN_FILE.trim()}" > plugins/telemetry.js`);
    expect(shell).toContain('echo telemetry >> config/plugins');
    const ini = /```ini\n([\s\S]*?)```/.exec(page)?.[1] ?? '';
    expect(ini).toContain('listen=127.0.0.1:9466');
    const haraka = await startHaraka({
      nodes: 0,
      telemetryIni: ini.replace('127.0.0.1:9466', '{admin}').replace('/var/log/haraka/telemetry', '{tracer}'),
      plugins: ['rcpt_to.in_host_list', 'queue/discard'],
    });
    const sent = await send(haraka.port, 'alice@sender.example', `bob@${LOCAL_DOMAIN}`);
    expect(sent.ok, sent.response).toBe(true);
    const queueId = /\(([^)]+)\)/.exec(sent.response)?.[1] ?? '';
    await waitFor(
      async () => counter((await admin(haraka.adminPort, '/metrics')).text, 'mail_queue_message_queued_total') === 1,
      10_000,
      () => 'the message was counted',
    );
    const traces = JSON.parse((await admin(haraka.adminPort, `/history/telemetry/traces?queue_id=${queueId}`)).text);
    expect(traces.data.items).toHaveLength(1);
    expect((await admin(haraka.adminPort, '/dashboard')).status).toBe(200);
    expect((await haraka.stop('SIGINT')).code).toBe(0);
    const logDir = join(haraka.dir, 'log');
    const files = readdirSync(logDir);
    expect(files).toHaveLength(1);
    const lines = tracerLines(join(logDir, files[0] ?? ''));
    expect(lines.find((l) => l.event === 'queue.message-queued')?.data.queueId).toBe(queueId);
  }, 60_000);
});
