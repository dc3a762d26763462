import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTelemetry } from '../../../src/index.js';
import { defaultRcptRefusal, instrumentSmtpServer } from '../../../src/smtp-server.js';
import { client, dialogue, hostOptions, listenSmtp, record, settle } from './harness.js';

const refusal = fc.record({
  local: fc.stringMatching(/^[a-z][a-z0-9]{0,15}$/),
  code: fc.integer({ min: 400, max: 599 }).filter((code) => code !== 421),
  message: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ,.'-]{0,40}$/),
});

describe('instrumentSmtpServer over generated sessions', () => {
  it('reports each refused recipient as the mapping says, and the client sees the host refusal unchanged', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    let table = new Map<string, { code: number; message: string }>();
    const { server, port } = await listenSmtp(
      instrumentSmtpServer(telemetry, {
        ...hostOptions([]),
        onRcptTo(address, _session, callback) {
          const refused = table.get(address.address);
          if (refused === undefined) return callback();
          return callback(Object.assign(new Error(refused.message), { responseCode: refused.code }));
        },
      }),
    );
    const transport = client(port, { pool: true, maxConnections: 1 });
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(refusal, { minLength: 1, maxLength: 4, selector: (r) => r.local }), async (refusals) => {
        table = new Map(refusals.map((r) => [`${r.local}@example.org`, { code: r.code, message: r.message }]));
        events.length = 0;
        const info = await transport.sendMail({
          from: 'alice@example.org',
          to: ['bob@example.org', ...table.keys()],
          text: 'generated',
        });
        await telemetry.flush();
        const rejected = (info.rejectedErrors ?? []).map((e) => [e.recipient, e.responseCode]);
        expect(rejected).toEqual(refusals.map((r) => [`${r.local}@example.org`, r.code]));
        // Every refusal event carries the code; too-many-recipients names the address in `details`.
        const reported = events
          .filter((e) => e.type !== 'smtp.rcpt-to' && e.data.code !== undefined)
          .map((e) => [e.type, e.data.to ?? e.data.details, e.data.code, e.data.reason]);
        const expected = refusals.map((r) => {
          const address = `${r.local}@example.org`;
          return [defaultRcptRefusal({ code: r.code, message: r.message, address }), address, r.code, r.message];
        });
        expect(reported).toEqual(expected);
      }),
      { numRuns: 25 },
    );
    transport.close();
    await settle(telemetry, server);
    await telemetry.shutdown();
  });

  it('reports every declared SIZE=: over the limit as smtp.message-too-large, else in smtp.mail-from', async () => {
    const telemetry = createTelemetry();
    const events = record(telemetry);
    const { server, port } = await listenSmtp(instrumentSmtpServer(telemetry, hostOptions([])));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 10_000_000 }), { minLength: 1, maxLength: 6 }), async (sizes) => {
        events.length = 0;
        const commands = ['EHLO sizes.example.net'];
        for (const size of sizes) commands.push(`MAIL FROM:<s@example.net> SIZE=${size}`, 'RSET');
        const replies = await dialogue(port, [...commands, 'QUIT']);
        await settle(telemetry, server);
        sizes.forEach((size, i) => {
          expect(replies[2 + 2 * i]?.slice(0, 3)).toBe(size > 1000 ? '552' : '250');
        });
        const seen = events
          .filter((e) => e.type === 'smtp.message-too-large' || e.type === 'smtp.mail-from')
          .map((e) =>
            e.type === 'smtp.mail-from' ? ['ok', e.data.details] : ['too-large', `SIZE=${e.data.size}`, e.data.limit],
          );
        expect(seen).toEqual(sizes.map((size) => (size > 1000 ? ['too-large', `SIZE=${size}`, 1000] : ['ok', `SIZE=${size}`])));
        const spanIds = new Set(events.map((e) => e.spanId));
        expect(spanIds.size).toBe(1);
      }),
      { numRuns: 8 },
    );
    await telemetry.shutdown();
  });
});
