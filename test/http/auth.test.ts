import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AccessVerdict,
  type Authorize,
  AuthorizeFailure,
  accessStatus,
  askAuthorize,
  basicCheck,
  bearerToken,
  type HttpAuthRequest,
  refusal,
} from '../../src/http/auth.js';
import type { TelemetryEvent } from '../../src/index.js';
import { make } from '../support/telemetry.js';

const request: HttpAuthRequest = {
  method: 'GET',
  url: new URL('http://mail.example/x'),
  header: () => undefined,
  raw: new Request('http://mail.example/x'),
};

describe('the auth contract', () => {
  it('opens on true alone, forbids on 403, and refuses anything else as 401', () => {
    fc.assert(
      fc.property(fc.anything(), (verdict) => {
        expect(accessStatus(verdict)).toBe(verdict === true ? 200 : verdict === 403 ? 403 : 401);
      }),
      { numRuns: 300 },
    );
  });

  it('is closed without a hook, and hands a throw or rejection back as an AuthorizeFailure', async () => {
    expect(await askAuthorize(undefined, request)).toBe(401);
    expect(await askAuthorize(async () => 403 as const, request)).toBe(403);
    const cause = new Error('session store down');
    for (const hook of [
      () => {
        throw cause;
      },
      () => Promise.reject(cause),
    ] as Authorize[]) {
      const failure = await askAuthorize(hook, request).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(AuthorizeFailure);
      expect((failure as AuthorizeFailure).error).toBe(cause);
    }
  });

  it('reads a Bearer token in any case and spacing, and nothing else', () => {
    const token = fc.stringMatching(/^[\x21-\x7e]{1,60}$/);
    fc.assert(
      fc.property(token, fc.constantFrom('Bearer', 'bearer', 'BEARER'), fc.constantFrom(' ', '  ', '\t'), (t, scheme, gap) => {
        expect(bearerToken(`${scheme}${gap}${t}`)).toBe(t);
        expect(bearerToken(`${scheme}${gap}${t} `)).toBe(t);
        expect(bearerToken(`Basic ${t}`)).toBeUndefined();
        expect(bearerToken(`${scheme}${gap}${t} more`)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
  });

  it('accepts exactly the configured Basic credentials', () => {
    const name = fc.string({ maxLength: 20 }).filter((s) => !s.includes(':'));
    fc.assert(
      fc.property(
        name,
        fc.string({ maxLength: 20 }),
        name,
        fc.string({ maxLength: 20 }),
        (user, password, otherUser, otherPassword) => {
          const check = basicCheck({ username: user, password });
          const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
          expect(check(basic(user, password))).toBe(true);
          expect(check(basic(user, password).replace('Basic', 'basic'))).toBe(true);
          expect(check(basic(otherUser, otherPassword))).toBe(otherUser === user && otherPassword === password);
          expect(check(basic(user, password).replace('Basic', 'Bearer'))).toBe(false);
          expect(check(undefined)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses with a challenge on 401 only, never cached, in the handler format when given', () => {
    expect(refusal(401, 'Basic realm="x"')).toEqual({
      status: 401,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-store',
        'www-authenticate': 'Basic realm="x"',
      },
      body: 'unauthorized\n',
    });
    expect(refusal(403, 'Basic realm="x"').headers['www-authenticate']).toBeUndefined();
    expect(refusal(403, undefined, { contentType: 'application/problem+json', body: '{}' })).toEqual({
      status: 403,
      headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
      body: '{}',
    });
  });
});

describe('one authorize hook for the live and history handlers', () => {
  /** A host's hook, written once against the shared contract, returning what the `x-verdict` header says. */
  const hook: Authorize = (r) => {
    const said = r.header('x-verdict');
    if (said === 'throw') throw new Error('session store down');
    return (said === 'true' ? true : said === 'false' ? false : Number(said)) as AccessVerdict;
  };

  it('means the same verdict on both, in both shapes', async () => {
    const telemetry = make({ live: { authorize: hook }, history: { authorize: hook } });
    const cases: [string, number][] = [
      ['true', 200],
      ['false', 401],
      ['401', 401],
      ['403', 403],
      ['7', 401],
    ];
    for (const name of ['liveTracing', 'liveMetrics', 'history'] as const) {
      for (const [verdict, status] of cases) {
        const response = await telemetry.handlers[name].fetch(
          new Request('http://mail.example/api/telemetry/events', { headers: { 'x-verdict': verdict } }),
        );
        expect(response.status, `${name} ${verdict}`).toBe(status);
        expect(response.headers.get('cache-control'), `${name} ${verdict}`).toMatch(/no-store/);
        await response.body?.cancel();
      }
    }
  });

  it('a throwing hook is reported by both: live refuses with 401, history answers 500', async () => {
    const telemetry = make({ live: { authorize: hook }, history: { authorize: hook } });
    const reports: TelemetryEvent[] = [];
    telemetry.on('telemetry.subscriber-error', (event) => reports.push(event));
    const ask = (name: 'liveTracing' | 'history') =>
      telemetry.handlers[name].fetch(
        new Request('http://mail.example/api/telemetry/events', { headers: { 'x-verdict': 'throw' } }),
      );
    expect((await ask('liveTracing')).status).toBe(401);
    const history = await ask('history');
    expect(history.status).toBe(500);
    expect(await history.text()).not.toContain('session store');
    await telemetry.flush();
    expect(reports.map((e) => e.data.reason)).toEqual(['session store down', 'session store down']);
  });
});

describe('every handler refuses the same way', () => {
  it('another method gets 405 with Allow, the history included', async () => {
    const telemetry = make({ history: { authorize: () => true }, live: { authorize: () => true } });
    for (const name of ['prometheus', 'liveTracing', 'liveMetrics', 'history', 'dashboard'] as const) {
      const response = await telemetry.handlers[name].fetch(
        new Request('http://mail.example/api/telemetry/events', { method: 'DELETE' }),
      );
      expect(response.status, name).toBe(405);
      expect(response.headers.get('allow'), name).toBe('GET, HEAD');
    }
  });

  it('a 401 names its scheme where the handler has one', async () => {
    const telemetry = make({ metrics: { auth: { username: 'scraper', password: 'scrape-secret' } } });
    const scrape = await telemetry.handlers.prometheus.fetch(new Request('http://mail.example/metrics'));
    expect(scrape.status).toBe(401);
    expect(scrape.headers.get('www-authenticate')).toBe('Basic realm="metrics", charset="UTF-8"');
    expect(scrape.headers.get('cache-control')).toBe('no-store');
    const live = await telemetry.handlers.liveTracing.fetch(new Request('http://mail.example/live'));
    expect(live.status).toBe(401);
    expect(live.headers.get('www-authenticate')).toBe('Bearer realm="live"');
    const history = await telemetry.handlers.history.fetch(new Request('http://mail.example/api/telemetry/events'));
    expect(history.status).toBe(401);
    expect(history.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});
