import { describe, expect, it } from 'vitest';
import { type LiveAuthRequest, TelemetryConfigError, type TelemetryEvent } from '../../src/index.js';
import { make } from '../support/telemetry.js';
import { listen, serve, until } from './server.js';

const KEY = 'super-secret-key-material-0123456789-abcdef';

async function status(url: string, init?: RequestInit): Promise<{ status: number; body: string; auth: string | null }> {
  const response = await fetch(url, init);
  // A refused request has a short body; an accepted stream is cancelled after its headers.
  const body = response.status === 200 ? '' : await response.text();
  if (response.status === 200) await response.body?.cancel();
  return { status: response.status, body, auth: response.headers.get('www-authenticate') };
}

describe('live tokens', () => {
  it('open the stream of their scope only, until they expire (injected clock)', async () => {
    let now = Date.UTC(2026, 0, 1);
    const telemetry = make({ now: () => now, live: { tokenKey: KEY } });
    const { base } = await serve(telemetry);
    const tracing = telemetry.live.issueToken({ scope: 'tracing', ttlSeconds: 60, subject: 'alice' });
    const metrics = telemetry.live.issueToken({ scope: 'metrics' });
    expect(telemetry.live.verifyToken(tracing)).toEqual({ scope: 'tracing', expires: now + 60_000, subject: 'alice' });
    expect((await status(`${base}/api/live/tracing?token=${tracing}`)).status).toBe(200);
    expect((await status(`${base}/api/live/metrics?token=${metrics}`)).status).toBe(200);
    // The wrong scope: authenticated but not allowed.
    expect((await status(`${base}/api/live/metrics?token=${tracing}`)).status).toBe(403);
    expect((await status(`${base}/api/live/tracing?token=${metrics}`)).status).toBe(403);
    // As a Bearer header, for clients that can send one.
    expect((await status(`${base}/api/live/tracing`, { headers: { authorization: `Bearer ${tracing}` } })).status).toBe(200);
    now += 59_999;
    expect((await status(`${base}/api/live/tracing?token=${tracing}`)).status).toBe(200);
    now += 1;
    const expired = await status(`${base}/api/live/tracing?token=${tracing}`);
    expect(expired).toEqual({ status: 401, body: 'unauthorized\n', auth: 'Bearer realm="live"' });
    expect(telemetry.live.verifyToken(tracing)).toBeUndefined();
    await until(() => telemetry.live.stats().sse === 0, 'the cancelled streams to close');
  });

  it('refuse missing, tampered and foreign tokens with 401, and open no stream', async () => {
    const telemetry = make({ live: { tokenKey: KEY } });
    const { base } = await serve(telemetry);
    const token = telemetry.live.issueToken({ scope: 'tracing' });
    const [prefix, claims, signature] = token.split('.') as [string, string, string];
    const forged = JSON.parse(Buffer.from(claims, 'base64url').toString()) as Record<string, unknown>;
    forged.s = 'metrics';
    const otherKey = make({ live: { tokenKey: `${KEY}-other` } });
    const sameKey = make({ live: { tokenKey: KEY } });
    const refused = [
      '',
      'garbage',
      `${prefix}.${claims}.${signature.slice(0, -2)}AA`,
      `${prefix}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`,
      `${prefix}.${claims}`,
      otherKey.live.issueToken({ scope: 'tracing' }),
    ];
    for (const bad of refused) {
      const answer = await status(`${base}/api/live/tracing?token=${encodeURIComponent(bad)}`);
      expect(answer.status).toBe(401);
      expect(answer.body).not.toContain(KEY);
    }
    const client = listen(`${base}/api/live/tracing`);
    await until(() => client.errors.length === 1, 'the client to see the refusal');
    expect(client.errors[0]?.code).toBe(401);
    expect(client.ping).toEqual([]);
    expect(telemetry.live.stats()).toMatchObject({ eventStreams: 0, sse: 0, subscriptions: 0 });
    // A shared key makes tokens portable between processes.
    expect((await status(`${base}/api/live/tracing?token=${sameKey.live.issueToken({ scope: 'tracing' })}`)).status).toBe(200);
    await otherKey.shutdown(10);
    await sameKey.shutdown(10);
  });

  it('are validated when issued, and a bad key is refused without quoting it', () => {
    const telemetry = make();
    expect(() => telemetry.live.issueToken({ scope: 'admin' as never })).toThrow(/scope/);
    expect(() => telemetry.live.issueToken({ scope: 'tracing', ttlSeconds: 0 })).toThrow(/ttlSeconds/);
    expect(() => telemetry.live.issueToken({ scope: 'tracing', ttlSeconds: 86_401 })).toThrow(/ttlSeconds/);
    const short = 'short-secret-123';
    let error: unknown;
    try {
      make({ live: { tokenKey: short } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TelemetryConfigError);
    expect((error as Error).message).toMatch(/options\.live\.tokenKey.*16 bytes/);
    expect((error as Error).message).not.toContain(short);
    expect(() => make({ live: { batchWindow: -1 } })).toThrow(/options\.live\.batchWindow/);
    expect(() => make({ live: { colour: 1 } as never })).toThrow(/one of the known options/);
  });
});

describe('authorize(request)', () => {
  it('decides for requests without a live token, sync or async; 401 and 403 open nothing', async () => {
    const seen: LiveAuthRequest[] = [];
    const telemetry = make({
      live: {
        authorize: async (request) => {
          seen.push(request);
          const cookie = request.header('Cookie');
          if (cookie === 'session=admin') return true;
          if (cookie === 'session=user') return 403;
          return false;
        },
      },
    });
    const { base } = await serve(telemetry);
    const url = `${base}/api/live/metrics?metrics=queue.count`;
    expect((await status(url, { headers: { cookie: 'session=admin' } })).status).toBe(200);
    expect((await status(url, { headers: { cookie: 'session=user' } })).status).toBe(403);
    expect((await status(url)).status).toBe(401);
    expect(seen[0]?.scope).toBe('metrics');
    expect(seen[0]?.url.searchParams.get('metrics')).toBe('queue.count');
    expect(seen[0]?.method).toBe('GET');
    expect('headers' in (seen[0]?.raw ?? {})).toBe(true);
    // A live token is still checked by the library, not handed to authorize.
    const expiredLike = `${base}/api/live/metrics?token=mtl1.e30.AAAA`;
    expect((await status(expiredLike, { headers: { cookie: 'session=admin' } })).status).toBe(401);
    expect(seen.length).toBe(3);
    await until(() => telemetry.live.stats().sse === 0, 'the cancelled stream to close');
  });

  it('counts a throw as 401 and reports it without the request', async () => {
    const telemetry = make({
      live: {
        authorize: () => {
          throw new Error('session store down');
        },
      },
    });
    const reports: TelemetryEvent[] = [];
    telemetry.on('telemetry.subscriber-error', (event) => reports.push(event));
    const { base } = await serve(telemetry);
    expect((await status(`${base}/api/live/tracing?token=host-token-123`)).status).toBe(401);
    await until(() => reports.length === 1, 'the report');
    expect(reports[0]?.data).toMatchObject({ id: 'live', reason: 'session store down' });
    expect(JSON.stringify(reports[0])).not.toContain('host-token-123');
  });
});
