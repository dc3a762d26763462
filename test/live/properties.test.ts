import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { TelemetryConfigError } from '../../src/index.js';
import { compileFilter, keyIndex } from '../../src/live/filter.js';
import { metricsQuery, tracingQuery } from '../../src/live/query.js';
import { TokenSigner } from '../../src/live/token.js';

const KEY = new TextEncoder().encode('property-test-key-of-at-least-32-bytes');

describe('token parser (property)', () => {
  const signer = new TokenSigner(KEY, () => 1_000_000);
  const token = signer.issue({ scope: 'tracing', subject: 'alice' });

  it('never accepts, and never throws on, arbitrary strings', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `mtl1.${s}`),
          fc.string().map((s) => `${token.slice(0, 20)}${s}`),
        ),
        (text) => {
          expect(signer.check(text).ok).toBe(false);
        },
      ),
    );
  });

  it('refuses a valid token with any one character changed', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.nat(alphabet.length - 1), (at, pick) => {
        const replacement = alphabet[pick] as string;
        fc.pre(replacement !== token[at]);
        const changed = token.slice(0, at) + replacement + token.slice(at + 1);
        // Even a change in the unused bits of base64url's last character: only one spelling verifies.
        expect(signer.check(changed).ok).toBe(false);
      }),
    );
    expect(signer.check(token)).toEqual({ ok: true, claims: { scope: 'tracing', expires: 1_060_000, subject: 'alice' } });
  });
});

describe('query parsers (property)', () => {
  const catalog = new Catalog();
  const keys = keyIndex(catalog);

  it('turn any query into a filter or a TelemetryConfigError, nothing else', () => {
    const name = fc.oneof(
      fc.constantFrom(
        'filter',
        'events',
        'exclude',
        'level',
        'sticky',
        'token',
        'remoteIp',
        'remote-ip',
        'from',
        'metrics',
        'interval',
      ),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.string({ maxLength: 40 })), { maxLength: 6 }), (pairs) => {
        const params = new URLSearchParams(pairs);
        for (const parse of [
          () => compileFilter(catalog, keys, tracingQuery(params, keys), 'query'),
          () => metricsQuery(params, 1000),
        ]) {
          try {
            parse();
          } catch (error) {
            expect(error).toBeInstanceOf(TelemetryConfigError);
          }
        }
      }),
    );
  });
});
