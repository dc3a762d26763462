import { describe, expect, it } from 'vitest';
import { TelemetryConfigError } from '../../src/index.js';
import { collectUnhandled } from '../support/guards.js';
import { CONNECTION, listenLoopback, make, makeClocked } from '../support/telemetry.js';

const SECRET = 'alerts-bearer-secret-4c1a';
const HOOK_SECRET = 'webhook-header-secret-77e0';
const unhandled = collectUnhandled();

type Telemetry = ReturnType<typeof makeClocked>;

async function serve(telemetry: Telemetry, shape: 'node' | 'fetch' = 'node') {
  const { origin } = await listenLoopback(async (req, res) => {
    if (shape === 'node') return telemetry.handlers.alerts.node(req, res);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const response = await telemetry.handlers.alerts.fetch(
      new Request(`http://127.0.0.1${req.url}`, { method: req.method as string, headers }),
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  return origin;
}

function clocked(extra: Record<string, unknown> = {}): Telemetry {
  return makeClocked({
    alerts: {
      rules: [
        {
          id: 'auth-failures',
          condition: "metric('auth.failed') >= 2",
          labels: { severity: 'page' },
          webhook: { url: `http://127.0.0.1:9/hook?key=${HOOK_SECRET}`, headers: { authorization: `Bearer ${HOOK_SECRET}` } },
          event: false,
        },
        { id: 'quiet', condition: 'smtp_connection_start > 1000' },
      ],
      ...extra,
    },
    history: {
      authorize: (request: { header(n: string): string | undefined }) => request.header('authorization') === `Bearer ${SECRET}`,
    },
  } as never) as Telemetry;
}

const auth = { authorization: `Bearer ${SECRET}` };

interface AlertsBody {
  readonly data: {
    readonly rules: readonly { readonly id: string; readonly state: string; readonly firedAt?: number }[];
    readonly transitions: readonly { readonly to: string }[];
  };
}

describe('handlers.alerts', () => {
  for (const shape of ['node', 'fetch'] as const) {
    it(`answers every rule's state and the transitions, newest first (${shape})`, async () => {
      const telemetry = clocked();
      const origin = await serve(telemetry, shape);
      let body = (await (await fetch(`${origin}/alerts`, { headers: auth })).json()) as AlertsBody;
      expect(body.data.rules.map((r: { id: string; state: string }) => [r.id, r.state])).toEqual([
        ['auth-failures', 'inactive'],
        ['quiet', 'inactive'],
      ]);
      expect(body.data.transitions).toEqual([]);
      telemetry.emit('auth.failed', { spanId: 1 } as never);
      telemetry.emit('auth.failed', { spanId: 1 } as never);
      telemetry.emit('smtp.connection-start', CONNECTION);
      await telemetry.alerts.evaluate();
      const response = await fetch(`${origin}/alerts`, { headers: auth });
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-store');
      const text = await response.text();
      expect(text).not.toContain(HOOK_SECRET);
      expect(text).not.toContain('127.0.0.1:9');
      body = JSON.parse(text) as AlertsBody;
      const [rule, quiet] = body.data.rules;
      expect(rule).toMatchObject({ id: 'auth-failures', state: 'firing', value: 2, labels: { severity: 'page' } });
      expect(rule?.firedAt).toBeTypeOf('number');
      expect(quiet).toMatchObject({ state: 'inactive', value: 1 });
      expect(body.data.transitions).toEqual([
        { id: 'auth-failures', from: 'inactive', to: 'firing', at: telemetry.clock.now, value: 2 },
      ]);
      telemetry.alerts.disable('auth-failures');
      await telemetry.alerts.evaluate();
      body = (await (await fetch(`${origin}/alerts?limit=1`, { headers: auth })).json()) as AlertsBody;
      expect(body.data.transitions.map((t: { to: string }) => t.to)).toEqual(['resolved']);
      const head = await fetch(`${origin}/alerts`, { method: 'HEAD', headers: auth });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
      await telemetry.shutdown();
    });
  }

  it('refuses without credentials, with its own authorize, and is closed with none', async () => {
    const own = clocked({
      authorize: (request: { header(n: string): string | undefined }) => (request.header('x-admin') === '1' ? true : 403),
    });
    const origin = await serve(own);
    expect((await fetch(`${origin}/a`, { headers: auth })).status).toBe(403);
    expect((await fetch(`${origin}/a`, { headers: { 'x-admin': '1' } })).status).toBe(200);
    const closed = make({ alerts: [{ id: 'q', condition: 'queue_count > 1' }] });
    const { origin: o2 } = await listenLoopback((req, res) => closed.handlers.alerts.node(req, res));
    const refused = await fetch(o2);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(((await refused.json()) as { detail: string }).detail).toContain('options.alerts.authorize');
    const history = clocked();
    const o3 = await serve(history);
    expect((await fetch(o3)).status).toBe(401);
    expect((await fetch(o3, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  it('400 for bad parameters, 405 with Allow, 500 with no detail when authorize throws', async () => {
    const reports: unknown[] = [];
    const telemetry = clocked();
    const origin = await serve(telemetry);
    for (const q of ['?limit=0', '?limit=1001', '?limit=x', '?limit=1&limit=2', '?foo=1', '?%zz', '?limit=%']) {
      const r = await fetch(`${origin}/a${q}`, { headers: auth });
      expect(r.status, q).toBe(400);
      expect(((await r.json()) as { status: number }).status).toBe(400);
    }
    const post = await fetch(origin, { method: 'POST', headers: auth });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const throwing = makeClocked({
      alerts: {
        rules: [],
        authorize: () => {
          throw new Error(`boom ${SECRET}`);
        },
      },
    });
    throwing.on('telemetry.subscriber-error', (e) => reports.push(e.data));
    const o2 = await listenLoopback((req, res) => throwing.handlers.alerts.node(req, res));
    const failed = await fetch(o2.origin);
    expect(failed.status).toBe(500);
    const text = await failed.text();
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('boom');
    await throwing.flush();
    expect(reports).toEqual([expect.objectContaining({ id: 'alerts.handler' })]);
    expect(unhandled).toEqual([]);
  });

  it('validates options.alerts.authorize', () => {
    expect(() => make({ alerts: { rules: [], authorize: 'yes' as never } })).toThrow(TelemetryConfigError);
    expect(() => make({ alerts: { rules: [], authorize: 'yes' as never } })).toThrow(/options\.alerts\.authorize/);
  });
});
