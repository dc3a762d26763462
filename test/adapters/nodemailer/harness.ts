import { type AddressInfo, createServer } from 'node:net';
import type { SMTPServerOptions } from 'smtp-server';
import type { Telemetry, TelemetryEvent } from '../../../src/index.js';
import { type ClientOptions, listenServer, PLAIN_SERVER, smtpClient } from '../support.js';

export { type ClientOptions, record } from '../support.js';

/** The relay's account, and its password (which must never appear in an event). */
export const USER = 'relay';
export const PASSWORD = 'pw-Xk4!never-in-telemetry';

/**
 * The receiving MTA's recipient table: `ok*@example.org` are accepted, `grey*@` deferred with 450,
 * others at example.org refused with 550; a `code-NNN@refuse.test` recipient is refused with NNN.
 * A message whose subject says "reject-data" is refused at DATA with 554.
 */
export function mtaOptions(received: string[]): SMTPServerOptions {
  return {
    ...PLAIN_SERVER,
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASSWORD) return callback(null, { user: USER });
      return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      const to = address.address.toLowerCase();
      const coded = /^code-(\d{3})@refuse\.test$/.exec(to);
      if (coded?.[1] !== undefined)
        return callback(Object.assign(new Error(`Refused with ${coded[1]}`), { responseCode: Number(coded[1]) }));
      if (to.startsWith('grey')) return callback(Object.assign(new Error('Greylisted, try again later'), { responseCode: 450 }));
      if (!to.startsWith('ok')) return callback(Object.assign(new Error('No such user here'), { responseCode: 550 }));
      return callback();
    },
    onData(stream, _session, callback) {
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        text += chunk;
      });
      stream.on('end', () => {
        if (/^Subject: reject-data/m.test(text))
          return callback(Object.assign(new Error('Message content rejected'), { responseCode: 554 }));
        const id = `R${received.length + 1}`;
        received.push(id);
        return callback(null, `Ok: queued as ${id}`);
      });
    },
  };
}

/** A real SMTPServer on 127.0.0.1 (the receiving MTA), closed after the current test. */
export async function listenMta(received: string[] = [], extra: SMTPServerOptions = {}): Promise<number> {
  return (await listenServer({ ...mtaOptions(received), ...extra })).port;
}

/** A loopback port nothing listens on: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A real nodemailer transporter to the MTA. */
export function client(port: number, extra: ClientOptions = {}) {
  return smtpClient(port, 'relay.example.net', extra);
}

/** The value of a gauge, or the count of a histogram, in the metrics snapshot. */
export function metric(telemetry: Telemetry, name: string): { value: number; sum?: number } | undefined {
  const found = telemetry.metrics.snapshot().metrics.find((m) => m.name === name);
  const series = found?.series[0];
  if (series === undefined) return undefined;
  return 'value' in series ? { value: series.value } : { value: series.count, sum: series.sum };
}

/** What a send ended with, as the host sees it, with the parts that differ per message left out. */
export function shapeOfResult(error: unknown, info: unknown): unknown {
  if (error !== null && error !== undefined) {
    const e = error as Record<string, unknown>;
    return {
      error: true,
      message: e.message,
      code: e.code,
      command: e.command,
      responseCode: e.responseCode,
      rejected: e.rejected,
      rejectedCodes: (e.rejectedErrors as { responseCode?: number }[] | undefined)?.map((r) => r.responseCode),
    };
  }
  const i = info as Record<string, unknown>;
  return {
    error: false,
    accepted: i.accepted,
    rejected: i.rejected,
    rejectedCodes: (i.rejectedErrors as { responseCode?: number }[] | undefined)?.map((r) => r.responseCode),
    response: typeof i.response === 'string' ? i.response.replace(/queued as R\d+/, 'queued as R') : i.response,
    envelope: i.envelope,
    keys: Object.keys(i).sort(),
  };
}

/** The events of one span, by type, in order. */
export function typesOf(events: readonly TelemetryEvent[], spanId?: number | string): string[] {
  return events.filter((e) => spanId === undefined || e.spanId === spanId).map((e) => e.type);
}
