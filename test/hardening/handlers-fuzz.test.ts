import type { IncomingMessage, ServerResponse } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RequestHandler } from '../../src/index.js';
import { type RawAnswer, rawRequest, requestText } from '../http/raw.js';
import { until } from '../live/server.js';
import { collectUnhandled } from '../support/guards.js';
import { connection, listenLoopback, make } from '../support/telemetry.js';

const TOKEN_KEY = 'fuzz-live-token-key-0123456789-abcdefghij';
const SCRAPE_PASSWORD = 'scrape-password-7f3a9c';
const HOST_SECRET = 'host-session-secret-51c2e8';
const HISTORY_SECRET = 'history-secret-9d04b7';
const HOOK_SECRET = 'alert-hook-secret-3e9f21';
const NAMES = ['prometheus', 'liveTracing', 'liveMetrics', 'history', 'alerts', 'dashboard'] as const;
type Name = (typeof NAMES)[number];

/** Client errors the fuzz sends must never show a host's insides. */
const STACK = /\n\s+at |\(?(?:file:\/\/|node:internal|\/work\/|[\w/.-]+\.(?:ts|js|mjs):\d+)/;

const unhandled = collectUnhandled();

let clock = Date.now();

/** All five handlers on one node:http server; `x-handler` picks one, so any target reaches any handler. */
async function fuzzServer() {
  clock = Date.now();
  const telemetry = make({
    now: () => clock,
    metrics: { auth: { username: 'prometheus', password: SCRAPE_PASSWORD } },
    live: {
      tokenKey: TOKEN_KEY,
      batchWindow: 5,
      authorize: (request) => request.header('authorization') === `Bearer ${HOST_SECRET}`,
    },
    history: { authorize: (request) => request.header('authorization') === `Bearer ${HISTORY_SECRET}` },
    // The alerts handler reads with the history's authorize; an action's secrets never show.
    alerts: [
      {
        id: 'fuzz',
        condition: 'smtp_connection_start > 0',
        webhook: { url: `http://127.0.0.1:9/?key=${HOOK_SECRET}`, headers: { authorization: `Bearer ${HOOK_SECRET}` } },
      },
    ],
  });
  await telemetry.alerts.evaluate();
  const other = make({ live: { tokenKey: 'another-instance-key-0123456789-abcdefghij' } });
  const expired = telemetry.live.issueToken({ scope: 'tracing', ttlSeconds: 1 });
  clock += 5_000;
  const tokens = {
    tracing: telemetry.live.issueToken({ scope: 'tracing', ttlSeconds: 3600 }),
    metrics: telemetry.live.issueToken({ scope: 'metrics', ttlSeconds: 3600 }),
    expired,
    forged: other.live.issueToken({ scope: 'tracing', ttlSeconds: 3600 }),
  };
  const thrown: unknown[] = [];
  const { server, origin } = await listenLoopback((req: IncomingMessage, res: ServerResponse) => {
    const name = req.headers['x-handler'];
    const handler: RequestHandler = telemetry.handlers[NAMES.includes(name as Name) ? (name as Name) : 'dashboard'];
    try {
      handler.node(req, res);
    } catch (error) {
      thrown.push(error);
      res.destroy();
    }
  });
  telemetry.emit('smtp.connection-start', connection('192.0.2.1', 4000));
  return { telemetry, server, port: Number(new URL(origin).port), tokens, thrown };
}

/** A secret the fuzz knows: none may appear in any answer, whatever was asked. */
const secrets = (tokens: Record<string, string>) => [
  TOKEN_KEY,
  SCRAPE_PASSWORD,
  HOST_SECRET,
  HISTORY_SECRET,
  HOOK_SECRET,
  tokens.tracing as string,
];

function expectSafe(answer: RawAnswer, what: string, known: readonly string[]): void {
  expect(answer.status, `a status line for ${what}`).toBeTypeOf('number');
  expect(answer.status, `no 500 for ${what}: ${answer.text.slice(0, 300)}`).not.toBe(500);
  expect(STACK.test(answer.body), `no stack or path in the answer to ${what}: ${answer.body.slice(0, 300)}`).toBe(false);
  for (const secret of known) expect(answer.text.includes(secret), `no secret in the answer to ${what}`).toBe(false);
}

const hostile = (token: string) => [
  'http://a:99999/x',
  '//[',
  'http://[zz]/',
  `http://a:99999/x?token=${token}`,
  '/x?%',
  '/x?a=%zz',
  '/x?filter=%C3%28',
  '/x?filter=%E0%A4%A',
  '/x?%ZZ=1',
  '/telemetry/trace/%zz',
  '/telemetry/trace/%C3%28',
  '/telemetry/events?filter=%',
  `/x?token=${token}&token=${token}`,
  `/x?token=${token}&level=info&level=debug`,
  `/x?token=${token}&filter=a&filter=b`,
  `/x?token=${token}&metrics=a&metrics=b`,
  `/x?token=${token}&interval=1&interval=2`,
  `/x?token=${token}&remoteIp=1&remote-ip=2`,
  '/telemetry/traces?limit=1&limit=2',
  '/telemetry/events?page=99999999999999999999',
  '/telemetry/events?before=1e400',
  `/x?token=${token}&filter=${'x'.repeat(6000)}`,
  `/x?token=${token}&${'events=smtp.*&'.repeat(400)}`,
  `/x?token=${token}&${'a'.repeat(4000)}=1`,
  `/x?token=${token}&__proto__=1&constructor=2`,
  `/x?token=${token}&events=${encodeURIComponent('[]]*(')}`,
  `/x?token=${token}&level=verbose`,
  `/x?token=${token}&interval=-1`,
  `/x?token=${token}&interval=NaN`,
  `/x?token=${token}&sticky=maybe`,
  '/telemetry/traces?values=2',
  '*',
  '/',
];

describe('every handler answers every hostile request over a raw socket', () => {
  it('malformed targets, bad encodings, huge and repeated parameters: a status line, no 500, no stack, no secret', async () => {
    const { telemetry, port, tokens, thrown } = await fuzzServer();
    const known = secrets(tokens);
    for (const name of NAMES) {
      const token = name === 'liveMetrics' ? (tokens.metrics as string) : (tokens.tracing as string);
      for (const target of hostile(token)) {
        for (const method of ['GET', 'HEAD']) {
          const answer = await rawRequest(port, requestText(method, target, [`x-handler: ${name}`]));
          expectSafe(answer, `${method} ${target.slice(0, 80)} on ${name}`, known);
        }
      }
    }
    // The live handlers refuse malformed input as the client's error.
    for (const name of ['liveTracing', 'liveMetrics'] as const) {
      const token = name === 'liveMetrics' ? tokens.metrics : tokens.tracing;
      for (const target of [
        'http://a:99999/x',
        '//[',
        'http://[zz]/',
        '/x?a=%zz',
        '/x?filter=%C3%28',
        `/x?token=${token}&token=${token}`,
      ]) {
        const answer = await rawRequest(port, requestText('GET', target, [`x-handler: ${name}`]));
        expect(answer.status, `${target} on ${name}`).toBe(400);
      }
    }
    const metricsTwice = await rawRequest(
      port,
      requestText('GET', `/x?token=${tokens.metrics}&metrics=a&metrics=b`, ['x-handler: liveMetrics']),
    );
    expect(metricsTwice.status).toBe(400);
    const repeated = await rawRequest(
      port,
      requestText('GET', `/x?token=${tokens.tracing}&level=info&level=warn`, ['x-handler: liveTracing']),
    );
    expect(repeated.status).toBe(400);
    await until(() => telemetry.live.stats().sse === 0, 'every stream the fuzz opened to close');
    expect(telemetry.live.stats()).toMatchObject({ eventStreams: 0, metricStreams: 0, subscriptions: 0 });
    expect(thrown).toEqual([]);
    expect(unhandled).toEqual([]);
    expect((await rawRequest(port, requestText('GET', `/x?token=${tokens.tracing}`, ['x-handler: liveTracing']))).status).toBe(
      200,
    );
  });

  it('wrong methods get 405, and HEAD answers as GET without a body', async () => {
    const { port, tokens, thrown } = await fuzzServer();
    const known = secrets(tokens);
    const credentials: Record<Name, string[]> = {
      prometheus: [`authorization: Basic ${Buffer.from(`prometheus:${SCRAPE_PASSWORD}`).toString('base64')}`],
      liveTracing: [`authorization: Bearer ${tokens.tracing}`],
      liveMetrics: [`authorization: Bearer ${tokens.metrics}`],
      history: [`authorization: Bearer ${HISTORY_SECRET}`],
      alerts: [`authorization: Bearer ${HISTORY_SECRET}`],
      dashboard: [],
    };
    for (const name of NAMES) {
      const target = name === 'history' ? '/api/telemetry/traces' : '/x';
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']) {
        const answer = await rawRequest(port, requestText(method, target, [`x-handler: ${name}`, ...credentials[name]]));
        expectSafe(answer, `${method} on ${name}`, known);
        expect(answer.status, `${method} on ${name}`).toBe(405);
      }
      const get = await rawRequest(port, requestText('GET', target, [`x-handler: ${name}`, ...credentials[name]]));
      const head = await rawRequest(port, requestText('HEAD', target, [`x-handler: ${name}`, ...credentials[name]]));
      expect(get.status, `GET on ${name}`).toBe(200);
      expect(head.status, `HEAD on ${name}`).toBe(200);
      expect(head.body, `HEAD on ${name} has no body`).toBe('');
      const type = (answer: RawAnswer) => /^content-type: (.*)$/im.exec(answer.head)?.[1];
      expect(type(head), `HEAD on ${name} has GET's content type`).toBe(type(get));
    }
    // Unknown methods and a body on a GET: Node's parser or the handler answers, never a hang.
    for (const request of [
      'FOO /x HTTP/1.1\r\nHost: a\r\nx-handler: liveTracing\r\nConnection: close\r\n\r\n',
      'GET /x HTTP/1.1\r\nHost: a\r\nx-handler: prometheus\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
    ]) {
      expectSafe(await rawRequest(port, request), request.split('\r\n')[0] as string, known);
    }
    expect(thrown).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  it('missing, forged, expired and wrong-scope tokens and garbage credentials get 401 or 403', async () => {
    const { port, tokens, thrown } = await fuzzServer();
    const known = secrets(tokens);
    const { tracing, metrics, expired, forged } = tokens;
    const cases: [Name, string, string[], number][] = [
      ['liveTracing', '/x', [], 401],
      ['liveTracing', `/x?token=${forged}`, [], 401],
      ['liveTracing', `/x?token=${expired}`, [], 401],
      ['liveTracing', `/x?token=${metrics}`, [], 403],
      ['liveMetrics', `/x?token=${tracing}`, [], 403],
      ['liveTracing', `/x?token=${tracing.slice(0, -2)}`, [], 401],
      ['liveTracing', `/x?token=${tracing}AA`, [], 401],
      ['liveTracing', `/x?token=mtl1.${'A'.repeat(3000)}.x`, [], 401],
      ['liveTracing', '/x?token=mtl1.', [], 401],
      ['liveTracing', '/x?token=mtl1...', [], 401],
      ['liveTracing', '/x', [`authorization: Bearer ${forged}`], 401],
      ['liveTracing', '/x', [`authorization: Bearer ${expired}`], 401],
      ['liveTracing', '/x', [`authorization: Bearer ${metrics}`], 403],
      ['liveTracing', '/x', ['authorization: Bearer'], 401],
      ['liveTracing', '/x', ['authorization: Bearer host-session-secret-wrong'], 401],
      ['liveTracing', '/x', ['authorization: Basic !!!'], 401],
      ['liveMetrics', '/x', [`authorization: Bearer ${HOST_SECRET.toUpperCase()}`], 401],
      ['prometheus', '/x', [], 401],
      ['prometheus', '/x', ['authorization: Basic !!!'], 401],
      ['prometheus', '/x', ['authorization: Basic '], 401],
      ['prometheus', '/x', [`authorization: Basic ${Buffer.from('prometheus:wrong').toString('base64')}`], 401],
      ['prometheus', '/x', [`authorization: Basic ${'A'.repeat(8000)}`], 401],
      ['prometheus', '/x', [`authorization: Bearer ${SCRAPE_PASSWORD}`], 401],
      ['history', '/api/telemetry/traces', [], 401],
      ['history', '/api/telemetry/traces', ['authorization: Bearer wrong'], 401],
      ['history', '/api/telemetry/traces', [`authorization: Bearer ${tracing}`], 401],
      ['alerts', '/x', [], 401],
      ['alerts', '/x', ['authorization: Bearer wrong'], 401],
      ['alerts', '/x', [`authorization: Bearer ${tracing}`], 401],
    ];
    for (const [name, target, headers, status] of cases) {
      const answer = await rawRequest(port, requestText('GET', target, [`x-handler: ${name}`, ...headers]));
      expectSafe(answer, `${target.slice(0, 60)} ${headers.join(' ').slice(0, 60)} on ${name}`, known);
      expect(answer.status, `${target.slice(0, 60)} ${headers.join(' ').slice(0, 60)} on ${name}`).toBe(status);
    }
    expect(thrown).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  it('garbage headers and broken requests: the server answers or closes, and stays up', async () => {
    const { port, tokens, thrown } = await fuzzServer();
    const known = secrets(tokens);
    const requests = [
      requestText('GET', '/x', ['x-handler: prometheus', 'accept: application/openmetrics-text;q=abc, */*;q=']),
      requestText('GET', '/x', ['x-handler: prometheus', `accept: ${';,'.repeat(3000)}`]),
      requestText('GET', '/x', ['x-handler: liveTracing', 'authorization: Bearer a', 'authorization: Bearer b']),
      requestText('GET', '/x', ['x-handler: history', `authorization: Bearer ${HISTORY_SECRET}`, 'authorization: Bearer x']),
      requestText('GET', '/x', ['x-handler: dashboard', `x-long: ${'y'.repeat(20_000)}`]),
      requestText('GET', '/x', ['x-handler: liveMetrics', 'bad header line']),
      requestText('GET', '/x', ['x-handler: liveMetrics', 'x-null: a\u0000b']),
      'GET /x?\u0001\u007f HTTP/1.1\r\nHost: a\r\nx-handler: liveTracing\r\nConnection: close\r\n\r\n',
      Buffer.concat([
        Buffer.from('GET /x?filter='),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from(' HTTP/1.1\r\nHost: a\r\nx-handler: liveTracing\r\nConnection: close\r\n\r\n'),
      ]),
      'GET /x HTTP/9.9\r\nHost: a\r\nx-handler: history\r\n\r\n',
      'GET\r\n\r\n',
      'GET /x HTTP/1.1\r\nHost: a\r\nx-handler: history\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n',
    ];
    for (const request of requests) {
      const answer = await rawRequest(port, request);
      const what = JSON.stringify(String(request).slice(0, 80));
      expectSafe(answer, what, known);
    }
    expect((await rawRequest(port, requestText('GET', '/x', ['x-handler: dashboard']))).status).toBe(200);
    expect(thrown).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  it('property: any target and query on any handler gets an answer without a 500, stack or secret', async () => {
    const { telemetry, port, tokens, thrown } = await fuzzServer();
    const known = secrets(tokens);
    const piece = fc.oneof(
      fc.constantFrom('%', '%zz', '%C3%28', '%E0%A4', '%00', '&', '=', '?', '#', '[', ']', '//', '..', '+', ';', '@', ':99999'),
      fc.constantFrom('token', 'filter', 'events', 'exclude', 'level', 'sticky', 'metrics', 'interval', 'limit', 'page'),
      fc.constantFrom('cursor', 'before', 'after', 'type', 'queue_id', 'values', 'span_id', 'remoteIp', 'remote-ip', '__proto__'),
      fc.string({ maxLength: 12 }),
      fc.webSegment(),
    );
    const target = fc
      .tuple(
        fc.constantFrom('/', '//', 'http://', 'http://[', '/api/telemetry/', '/api/telemetry/trace/', '*', ''),
        fc.array(piece, { maxLength: 12 }),
        fc.boolean(),
      )
      .map(([start, pieces, withToken]) => {
        const text = `${start}${pieces.join('')}${withToken ? `&token=${tokens.tracing}` : ''}`;
        // Keep the request line one line: the parser, not the framing, must meet the odd bytes.
        return text.replace(/[\s]/g, '').replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c)) || '/';
      });
    await fc.assert(
      fc.asyncProperty(
        target,
        fc.constantFrom(...NAMES),
        fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE'),
        async (path, name, method) => {
          const answer = await rawRequest(port, requestText(method, path, [`x-handler: ${name}`]));
          expectSafe(answer, `${method} ${path} on ${name}`, known);
        },
      ),
      { numRuns: 150 },
    );
    await until(() => telemetry.live.stats().sse === 0, 'every stream the property opened to close');
    expect(thrown).toEqual([]);
    expect(unhandled).toEqual([]);
  });
});

describe('every handler answers every hostile Request in the fetch shape', () => {
  it('resolves to a Response for malformed queries, wrong methods, bad tokens and broken Request objects', async () => {
    const { tokens } = await fuzzServer();
    const telemetry = make({
      live: { tokenKey: TOKEN_KEY },
      metrics: { auth: { username: 'prometheus', password: SCRAPE_PASSWORD } },
      history: { authorize: (request) => request.header('authorization') === `Bearer ${HISTORY_SECRET}` },
    });
    const known = [TOKEN_KEY, SCRAPE_PASSWORD, HISTORY_SECRET];
    const token = telemetry.live.issueToken({ scope: 'tracing' });
    const aborted = new AbortController();
    aborted.abort();
    const requests: [Request, boolean][] = [
      [new Request('http://mail.example/x?a=%zz'), true],
      [new Request('http://mail.example/x?filter=%C3%28'), true],
      [
        new Request('http://mail.example/api/telemetry/trace/%zz', { headers: { authorization: `Bearer ${HISTORY_SECRET}` } }),
        true,
      ],
      [new Request(`http://mail.example/x?token=${token}&token=${token}`), true],
      [new Request(`http://mail.example/x?token=${token}&level=info&level=warn`), true],
      [new Request(`http://mail.example/x?token=${tokens.forged}`), true],
      [new Request(`http://mail.example/x?token=${tokens.expired}`), true],
      [new Request(`http://mail.example/x?token=${token}&${'x'.repeat(20_000)}=1`), true],
      [new Request('http://mail.example/x', { method: 'POST', body: 'x'.repeat(1000) }), true],
      [new Request('http://mail.example/x', { method: 'PATCH' }), true],
      [new Request('http://mail.example/x', { method: 'HEAD' }), true],
      [new Request('http://mail.example/x', { headers: { authorization: 'Basic !!!', accept: ';;;q=x' } }), true],
      [new Request(`http://mail.example/x?token=${token}`, { signal: aborted.signal }), true],
      [
        Object.create(Request.prototype, {
          url: { get: () => 'not a url' },
          method: { value: 'GET' },
          headers: { value: new Headers() },
          signal: { value: new AbortController().signal },
        }) as Request,
        false,
      ],
      [
        {
          get url(): string {
            throw new Error(`url getter at /work/secret.ts:1:1 ${TOKEN_KEY}`);
          },
          method: 'GET',
          headers: new Headers(),
          signal: new AbortController().signal,
        } as unknown as Request,
        false,
      ],
      [
        {
          url: 'http://mail.example/x',
          get method(): string {
            throw new Error('method getter');
          },
          headers: {
            get() {
              throw new Error('headers');
            },
          },
          signal: new AbortController().signal,
        } as unknown as Request,
        false,
      ],
    ];
    for (const name of NAMES) {
      for (const [request, real] of requests) {
        const what = `${name} ${String(
          (() => {
            try {
              return request.url;
            } catch {
              return '(throwing url)';
            }
          })(),
        ).slice(0, 60)}`;
        let response: Response;
        try {
          response = await telemetry.handlers[name].fetch(request);
        } catch (error) {
          throw new Error(`${what}: fetch rejected: ${String(error)}`);
        }
        const body = response.headers.get('content-type') === 'text/event-stream' ? '' : await response.text();
        if (response.headers.get('content-type') === 'text/event-stream') await response.body?.cancel();
        if (real) expect(response.status, `${what} (${body.slice(0, 200)})`).not.toBe(500);
        expect(STACK.test(body), `${what}: ${body.slice(0, 200)}`).toBe(false);
        for (const secret of known) expect(body.includes(secret), what).toBe(false);
      }
    }
    await until(() => telemetry.live.stats().sse === 0, 'every fetch stream to close');
    expect(unhandled).toEqual([]);
  });
});
