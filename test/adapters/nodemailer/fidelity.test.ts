import type { SendMailOptions } from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { createTelemetry, type Telemetry, TelemetryConfigError } from '../../../src/index.js';
import { instrumentTransport } from '../../../src/nodemailer.js';
import { type ClientOptions, client, closedPort, listenMta, record, shapeOfResult, typesOf } from './harness.js';

const FROM = 'sender@example.net';

/** The sends every comparison runs: accepted, mixed, all refused, refused at DATA, deferred. */
const MAILS: readonly SendMailOptions[] = [
  { from: FROM, to: ['ok1@example.org'], subject: 'one', text: 'x' },
  { from: FROM, to: ['ok1@example.org', 'nouser@example.org', 'grey@example.org'], subject: 'mixed', text: 'x' },
  { from: FROM, to: ['nouser@example.org'], subject: 'refused', text: 'x' },
  { from: FROM, to: ['ok1@example.org'], subject: 'reject-data', text: 'x' },
  { from: FROM, to: ['grey@example.org'], subject: 'deferred', text: 'x' },
];

type Transport = ReturnType<typeof client>;

async function viaPromise(transport: Transport, mail: SendMailOptions): Promise<unknown> {
  try {
    return shapeOfResult(null, await transport.sendMail(mail));
  } catch (error) {
    return shapeOfResult(error, undefined);
  }
}

function viaCallback(transport: Transport, mail: SendMailOptions): Promise<unknown> {
  return new Promise((resolve) => {
    const returned = transport.sendMail(mail, (error, info) => resolve(shapeOfResult(error, info)));
    expect(returned).toBeUndefined();
  });
}

async function outcomes(port: number, extra: ClientOptions, wrap: (t: Transport) => Transport): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const form of [viaPromise, viaCallback]) {
    const transport = wrap(client(port, extra));
    for (const mail of MAILS) out.push(await form(transport, mail));
    transport.close();
  }
  return out;
}

/** A telemetry whose every consumer throws: a listener, a subscriber and a custom tracer. */
function throwingTelemetry(): Telemetry {
  const telemetry = createTelemetry({
    tracers: [
      {
        type: 'custom',
        level: 'trace',
        sink: {
          write() {
            throw new Error('sink down');
          },
        },
      },
    ],
  });
  telemetry.on('delivery.*', () => {
    throw new Error('listener down');
  });
  telemetry.subscribe({ id: 'broken', level: 'trace' }, () => {
    throw new Error('subscriber down');
  });
  return telemetry;
}

describe('sendMail gives the host exactly what an unwrapped transporter gives', () => {
  for (const pool of [false, true]) {
    it(`callback and promise forms (${pool ? 'pooled' : 'single'} transport), with and without throwing consumers`, async () => {
      const port = await listenMta();
      const extra: ClientOptions = pool ? { pool: true, maxConnections: 1 } : {};
      const plain = await outcomes(port, extra, (t) => t);
      expect(plain).toHaveLength(MAILS.length * 2);
      expect(plain.slice(0, MAILS.length)).toEqual(plain.slice(MAILS.length));

      const telemetry = createTelemetry();
      const events = record(telemetry);
      expect(await outcomes(port, extra, (t) => instrumentTransport(telemetry, t))).toEqual(plain);
      await telemetry.flush();
      expect(telemetry.metrics.eventCount('delivery.attempt-start')).toBe(MAILS.length * 2);
      expect(typesOf(events).filter((t) => t === 'delivery.attempt-end')).toHaveLength(MAILS.length * 2);
      await telemetry.shutdown();

      const hostile = throwingTelemetry();
      expect(await outcomes(port, extra, (t) => instrumentTransport(hostile, t))).toEqual(plain);
      await hostile.flush();
      expect(hostile.metrics.eventCount('delivery.attempt-end')).toBe(MAILS.length * 2);
      // The consumers really threw, on every delivery event.
      expect(hostile.stats().listenerFailures).toBeGreaterThan(MAILS.length * 2);
      expect(hostile.stats().subscribers.find((s) => s.id === 'broken')?.failures).toBeGreaterThan(0);
      await hostile.shutdown();
    });
  }

  it('gives the same connection error for a refused port', async () => {
    const port = await closedPort();
    const plain = await outcomes(port, {}, (t) => t);
    const telemetry = throwingTelemetry();
    expect(await outcomes(port, {}, (t) => instrumentTransport(telemetry, t))).toEqual(plain);
    await telemetry.shutdown();
  });

  it('keeps sending after the telemetry is shut down', async () => {
    const port = await listenMta();
    const plain = await outcomes(port, {}, (t) => t);
    const telemetry = createTelemetry();
    await telemetry.shutdown();
    expect(await outcomes(port, {}, (t) => instrumentTransport(telemetry, t))).toEqual(plain);
  });

  it('survives host options that throw: the default queue id and a final attempt stand in', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const transport = instrumentTransport(telemetry, client(await listenMta()), {
      queueId: () => {
        throw new Error('no id');
      },
      final: () => {
        throw new Error('no verdict');
      },
      queuedAt: () => {
        throw new Error('no time');
      },
    });
    const info = await transport.sendMail(MAILS[0] as SendMailOptions);
    await telemetry.flush();
    expect(events.find((e) => e.type === 'delivery.attempt-start')?.data.queueId).toBe(info.messageId);
    expect(typesOf(events)).toContain('delivery.attempt-end');
    expect(typesOf(events)).not.toContain('queue.rescheduled');
    transport.close();
    await telemetry.shutdown();
  });

  it('passes a throw of the host callback on as nodemailer does, after the attempt is reported', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const transport = instrumentTransport(telemetry, client(await listenMta()));
    const called = await new Promise<boolean>((resolve) => {
      transport.sendMail(MAILS[0] as SendMailOptions, () => {
        setImmediate(() => resolve(true));
        throw new Error('host callback fails');
      });
    });
    expect(called).toBe(true);
    await telemetry.flush();
    expect(typesOf(events).at(-1)).toBe('delivery.attempt-end');
    transport.close();
    await telemetry.shutdown();
  });
});

describe('instrumentTransport options and misuse', () => {
  it('returns the transporter itself and refuses to instrument it twice', async () => {
    const telemetry = createTelemetry();
    const transport = client(25);
    expect(instrumentTransport(telemetry, transport)).toBe(transport);
    expect(() => instrumentTransport(telemetry, transport)).toThrow(TelemetryConfigError);
    transport.close();
    await telemetry.shutdown();
  });

  it('names a bad option, and never prints a transporter (its options may hold credentials)', async () => {
    const telemetry = createTelemetry();
    const transport = client(25, { auth: { user: 'u', pass: 'secret-pass-123' } });
    const bad: unknown[] = [{ queueId: 'Q1' }, { final: true }, { queuedAt: 5 }, { queueName: '' }, { queueID: () => 1 }, 7];
    for (const options of bad) {
      expect(() => instrumentTransport(telemetry, transport, options as never)).toThrow(TelemetryConfigError);
    }
    expect(() => instrumentTransport(telemetry, transport, { queueID: () => 1 } as never)).toThrow(/queueID/);
    const fake = { transporter: { options: { auth: { pass: 'secret-pass-123' } } } };
    expect(() => instrumentTransport(telemetry, fake as never)).toThrow(TelemetryConfigError);
    try {
      instrumentTransport(telemetry, fake as never);
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-pass-123');
    }
    expect(() => instrumentTransport(telemetry, null as never)).toThrow(TelemetryConfigError);
    transport.close();
    await telemetry.shutdown();
  });
});
