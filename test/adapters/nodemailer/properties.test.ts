import fc from 'fast-check';
import { expect, it } from 'vitest';
import { createTelemetry } from '../../../src/index.js';
import { instrumentTransport } from '../../../src/nodemailer.js';
import { client, listenMta, record } from './harness.js';

// 421 is left out: smtp-server closes the connection after it.
const refusalCode = fc.oneof(fc.integer({ min: 450, max: 459 }), fc.integer({ min: 500, max: 559 })).filter((c) => c !== 421);
const localPart = fc.stringMatching(/^[a-z0-9]{1,12}$/);

it('reports every refusal code a server gives, per recipient, with nodemailer’s permanence', async () => {
  const port = await listenMta();
  await fc.assert(
    fc.asyncProperty(refusalCode, localPart, fc.integer({ min: 0, max: 3 }), async (code, local, accepted) => {
      const telemetry = createTelemetry();
      const events = record(telemetry);
      const transport = instrumentTransport(telemetry, client(port));
      const okTo = Array.from({ length: accepted }, (_, i) => `ok${i}${local}@example.org`);
      const refusedTo = `code-${code}@refuse.test`;
      let error: { permanent?: boolean } | undefined;
      try {
        await transport.sendMail({ from: `${local}@example.net`, to: [...okTo, refusedTo], text: 'x' });
      } catch (e) {
        error = e as { permanent?: boolean };
      }
      transport.close();
      await telemetry.flush();
      const rejected = events.filter((e) => e.type === 'delivery.rcpt-to-rejected');
      expect(rejected.map((e) => [e.data.to, e.data.code])).toEqual([[refusedTo, code]]);
      expect(events.filter((e) => e.type === 'delivery.rcpt-to').map((e) => e.data.to)).toEqual(okTo);
      expect(events.filter((e) => e.type === 'delivery.delivered').map((e) => e.data.to)).toEqual(okTo);
      const failed = events.filter((e) => e.type === 'delivery.failed');
      expect(failed.map((e) => [e.data.to, e.data.code])).toEqual([[refusedTo, code]]);
      // nodemailer calls 5xx permanent except 503; the failure says the same.
      expect(failed[0]?.data.details).toBe(code >= 500 && code !== 503 ? 'permanent' : 'temporary');
      if (error !== undefined) expect(error.permanent === true).toBe(failed[0]?.data.details === 'permanent');
      expect(error === undefined).toBe(accepted > 0);
      const spans = new Set(events.map((e) => e.spanId));
      expect(spans.size).toBe(1);
      await telemetry.shutdown();
    }),
    { numRuns: 8 },
  );
});
