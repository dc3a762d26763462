import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AdapterOptions, type Answer, type FrameStream, type HttpRequest, handler } from '../../src/http/handler.js';
import { until } from '../live/server.js';
import { collectUnhandled, settle } from '../support/guards.js';
import { listenLoopback } from '../support/loopback.js';
import { type RawAnswer, rawRequest, requestText } from './raw.js';

const unhandled = collectUnhandled();

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
const TEXT = 'text/plain; charset=utf-8';

/** What a test handler saw, echoed back: the request as the adapter passed it on. */
const echo = (request: HttpRequest): Answer => ({
  status: 200,
  headers: { 'content-type': TEXT, 'x-seen': 'yes' },
  body: `${request.method} ${request.url.pathname}${request.url.search} ${request.header('x-probe') ?? '-'}\n`,
});

/** The answer the contract promises, worked out from the URL standard, not from the adapter. */
function expected(method: string, target: string, options: AdapterOptions): { status: number; body: string } {
  const head = method === 'HEAD';
  if (options.methods !== undefined && !options.methods.includes(method))
    return { status: 405, body: head ? '' : 'method not allowed\n' };
  let url: URL;
  try {
    url = new URL(target, 'http://localhost');
  } catch {
    return { status: 400, body: head ? '' : 'malformed request target\n' };
  }
  if (options.strictQuery === true) {
    try {
      decodeURIComponent(url.search);
    } catch {
      return { status: 400, body: head ? '' : 'malformed percent-encoding in the query\n' };
    }
  }
  return { status: 200, body: head ? '' : `${method} ${url.pathname}${url.search} probe\n` };
}

/** A web request for the same target: a real `Request` when it parses, else an object whose URL does not. */
function webRequest(method: string, target: string): Request {
  const headers = new Headers({ 'x-probe': 'probe' });
  let href: string | undefined;
  try {
    href = new URL(target, 'http://localhost').href;
  } catch {
    href = undefined;
  }
  try {
    if (href !== undefined) return new Request(href, { method, headers });
  } catch {
    // `Request` refuses a URL with credentials (`http://a:b@c/`), which a host's own request object may carry.
  }
  return { method, url: href ?? target, headers, signal: new AbortController().signal } as unknown as Request;
}

/** The body of a chunked or plain HTTP/1.1 response. */
function dechunk(answer: RawAnswer): string {
  if (!/^transfer-encoding: chunked/im.test(answer.head)) return answer.body;
  let out = '';
  let rest = answer.body;
  for (let m = /^([0-9a-f]+)\r\n/i.exec(rest); m !== null && m[1] !== '0'; m = /^([0-9a-f]+)\r\n/i.exec(rest)) {
    const size = Number.parseInt(m[1] as string, 16);
    out += rest.slice(m[0].length, m[0].length + size);
    rest = rest.slice(m[0].length + size + 2);
  }
  return out;
}

const header = (answer: RawAnswer, name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(answer.head)?.[1];

const target = fc
  .tuple(
    fc.constantFrom('/', '//', 'http://', 'http://[', 'http://a:99999', '/api/', '*', ''),
    fc.array(
      fc.oneof(
        fc.constantFrom(
          '%',
          '%zz',
          '%C3%28',
          '%E0%A4',
          '%00',
          '%41',
          '%C3%A9',
          '&',
          '=',
          '?',
          '[',
          ']',
          '//',
          '..',
          '+',
          ';',
          '@',
        ),
        fc.constantFrom('token', 'filter', 'x', 'a=b', ':99999', '__proto__'),
        fc.webSegment(),
      ),
      { maxLength: 10 },
    ),
  )
  // One request line: printable ASCII only, so the adapter, not the framing, meets the odd targets.
  .map(([start, pieces]) => `${start}${pieces.join('')}`.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c)) || '/');

describe('the adapter over any target and method, in both shapes', () => {
  for (const options of [
    { methods: ['GET', 'HEAD'], strictQuery: true },
    { methods: ['GET', 'HEAD', 'POST'] },
    {},
  ] satisfies AdapterOptions[]) {
    it(`answers as the contract says and the same in both shapes (${JSON.stringify(options)})`, async () => {
      const failed: unknown[] = [];
      const page = handler(echo, { ...options, failed: (error) => failed.push(error) });
      let seen: string | undefined;
      const { origin } = await listenLoopback((req, res) => {
        seen = req.url;
        page.node(req, res);
      });
      const port = Number(new URL(origin).port);
      await fc.assert(
        fc.asyncProperty(target, fc.constantFrom(...METHODS), async (path, method) => {
          seen = undefined;
          const raw = await rawRequest(port, requestText(method, path, ['x-probe: probe']));
          // Node's own parser refused the line: the handler never ran, and Node said 400.
          if (seen === undefined) {
            expect(raw.status).toBe(400);
            return;
          }
          const want = expected(method, seen, options);
          expect(raw.status, `${method} ${seen}`).toBe(want.status);
          expect(dechunk(raw), `${method} ${seen}`).toBe(want.body);
          if (want.status === 405) expect(header(raw, 'allow')).toBe(options.methods?.join(', '));
          else expect(header(raw, 'allow')).toBeUndefined();

          const web = await page.fetch(webRequest(method, seen));
          expect(web.status, `fetch ${method} ${seen}`).toBe(raw.status);
          expect(await web.text(), `fetch ${method} ${seen}`).toBe(method === 'HEAD' ? '' : dechunk(raw));
          expect(web.headers.get('content-type')).toBe(header(raw, 'content-type') ?? null);
          expect(web.headers.get('allow')).toBe(header(raw, 'allow') ?? null);
        }),
        { numRuns: 120 },
      );
      expect(failed).toEqual([]);
      expect(unhandled).toEqual([]);
    });
  }

  it('answers HEAD with the headers of GET and no body, in both shapes', async () => {
    const page = handler(echo, { methods: ['GET', 'HEAD'] });
    const { origin } = await listenLoopback((req, res) => page.node(req, res));
    const port = Number(new URL(origin).port);
    const get = await rawRequest(port, requestText('GET', '/x?a=1'));
    const head = await rawRequest(port, requestText('HEAD', '/x?a=1'));
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(header(head, 'content-type')).toBe(header(get, 'content-type'));
    expect(header(head, 'x-seen')).toBe('yes');
    const web = await page.fetch(new Request('http://mail.example/x', { method: 'HEAD' }));
    expect(web.body).toBeNull();
    expect(web.headers.get('x-seen')).toBe('yes');
  });
});

describe('a failure inside', () => {
  const secret = 'adapter-secret-8c1d';
  const failures: [string, (request: HttpRequest) => Answer | Promise<Answer>][] = [
    [
      'a throw',
      () => {
        throw new Error(`password ${secret}`);
      },
    ],
    ['a rejection', () => Promise.reject(new Error(`password ${secret}`))],
    ['a non-answer', () => undefined as unknown as Answer],
  ];
  for (const [what, answer] of failures) {
    it(`(${what}) is a bare 500 in both shapes, reported, never thrown`, async () => {
      const reported: unknown[] = [];
      const failing = handler(answer, {
        methods: ['GET', 'HEAD'],
        failed: (error) => {
          reported.push(error);
          throw new Error('the reporter fails too');
        },
      });
      const { origin } = await listenLoopback((req, res) => failing.node(req, res));
      const port = Number(new URL(origin).port);
      for (const method of ['GET', 'HEAD']) {
        const raw = await rawRequest(port, requestText(method, '/x'));
        expect(raw.status).toBe(500);
        expect(dechunk(raw)).toBe(method === 'HEAD' ? '' : 'internal error\n');
        expect(raw.text).not.toContain(secret);
        const web = await failing.fetch(new Request('http://mail.example/x', { method }));
        expect(web.status).toBe(500);
        expect(await web.text()).toBe(method === 'HEAD' ? '' : 'internal error\n');
      }
      expect(reported).toHaveLength(4);
      await settle();
      expect(unhandled).toEqual([]);
    });
  }

  it('in the format the handler gives for its own replies', async () => {
    const problem = (status: number) => ({
      status,
      headers: { 'content-type': 'application/problem+json' },
      body: `{"status":${status}}`,
    });
    const failing = handler(
      () => {
        throw new Error('inside');
      },
      {
        methods: ['GET'],
        strictQuery: true,
        replies: { internal: problem(500), badTarget: problem(400), badEncoding: problem(400), notAllowed: () => problem(405) },
      },
    );
    for (const [request, status] of [
      [new Request('http://mail.example/x'), 500],
      [new Request('http://mail.example/x?%zz'), 400],
      [new Request('http://mail.example/x', { method: 'POST' }), 405],
      [{ method: 'GET', url: '//[', headers: new Headers() } as unknown as Request, 400],
    ] as const) {
      const web = await failing.fetch(request);
      expect(web.status).toBe(status);
      expect(await web.json()).toEqual({ status });
    }
  });

  it('reading a broken Request object is a client error or a 500, never a rejection', async () => {
    const page = handler(echo, { methods: ['GET'] });
    const broken = [
      {
        get url(): string {
          throw new Error('url');
        },
        method: 'GET',
      },
      {
        url: 'http://mail.example/x',
        get method(): string {
          throw new Error('method');
        },
      },
      {
        url: 'http://mail.example/x',
        method: 'GET',
        get headers(): Headers {
          throw new Error('headers');
        },
        get signal(): AbortSignal {
          throw new Error('signal');
        },
      },
    ] as unknown as Request[];
    const statuses = await Promise.all(broken.map(async (request) => (await page.fetch(request)).status));
    expect(statuses).toEqual([400, 405, 200]);
  });
});

/** A frame stream a test drives: it serves `frames`, then ends, hangs until closed, or fails. */
function frameStream(frames: readonly string[], then: 'end' | 'hang' | 'fail') {
  let at = 0;
  let wake: (() => void) | undefined;
  const state = { closed: 0, read: 0 };
  const stream: FrameStream = {
    async next() {
      if (state.closed > 0) return undefined;
      if (at < frames.length) {
        state.read++;
        return frames[at++];
      }
      if (then === 'fail') throw new Error('stream broke at /srv/secret');
      if (then === 'hang') await new Promise<void>((resolve) => (wake = resolve));
      return undefined;
    },
    close() {
      state.closed++;
      wake?.();
    },
  };
  return { stream, state };
}

const streaming = (stream: FrameStream, failed?: (error: unknown) => void) =>
  handler(async (): Promise<Answer> => ({ status: 200, headers: { 'content-type': TEXT }, stream }), {
    methods: ['GET', 'HEAD'],
    ...(failed === undefined ? {} : { failed }),
  });

describe('a streaming reply', () => {
  it('writes every frame in order and closes the stream at its end, in both shapes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 12 }), async (frames) => {
        const node = frameStream(frames, 'end');
        const web = frameStream(frames, 'end');
        const { origin, server } = await listenLoopback((req, res) => streaming(node.stream).node(req, res));
        const raw = await rawRequest(Number(new URL(origin).port), requestText('GET', '/s'));
        expect(raw.status).toBe(200);
        expect(Buffer.from(dechunk(raw), 'latin1').toString('utf8')).toBe(frames.join(''));
        expect(node.state.closed).toBeGreaterThan(0);
        const response = await streaming(web.stream).fetch(new Request('http://mail.example/s'));
        expect(await response.text()).toBe(frames.join(''));
        expect(web.state.closed).toBeGreaterThan(0);
        server.closeAllConnections();
      }),
      { numRuns: 25 },
    );
  });

  it('is closed unread for HEAD, with the stream headers', async () => {
    const node = frameStream(['a', 'b'], 'hang');
    const { origin } = await listenLoopback((req, res) => streaming(node.stream).node(req, res));
    const raw = await rawRequest(Number(new URL(origin).port), requestText('HEAD', '/s'));
    expect(raw.status).toBe(200);
    expect(raw.body).toBe('');
    expect(header(raw, 'content-type')).toBe(TEXT);
    expect(node.state).toEqual({ closed: 1, read: 0 });
    const web = frameStream(['a'], 'hang');
    const response = await streaming(web.stream).fetch(new Request('http://mail.example/s', { method: 'HEAD' }));
    expect(response.body).toBeNull();
    expect(web.state).toEqual({ closed: 1, read: 0 });
  });

  it('is closed when the client leaves mid-stream, in both shapes', async () => {
    const node = frameStream(['first\n'], 'hang');
    const { origin } = await listenLoopback((req, res) => streaming(node.stream).node(req, res));
    const socket = connect(Number(new URL(origin).port), '127.0.0.1', () => socket.write(requestText('GET', '/s')));
    socket.once('data', () => socket.destroy());
    await until(() => node.state.closed > 0, 'the node stream to close');

    const cancelled = frameStream(['first\n'], 'hang');
    const reader = (await streaming(cancelled.stream).fetch(new Request('http://mail.example/s'))).body?.getReader();
    await reader?.read();
    await reader?.cancel();
    expect(cancelled.state.closed).toBeGreaterThan(0);

    const aborted = frameStream(['first\n'], 'hang');
    const controller = new AbortController();
    const response = await streaming(aborted.stream).fetch(new Request('http://mail.example/s', { signal: controller.signal }));
    await response.body?.getReader().read();
    controller.abort();
    expect(aborted.state.closed).toBeGreaterThan(0);
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('is closed when the host ends the response under it, and nothing is written after', async () => {
    const node = frameStream(['first\n'], 'hang');
    let response: ServerResponse | undefined;
    const { origin } = await listenLoopback((req: IncomingMessage, res) => {
      response = res;
      streaming(node.stream).node(req, res);
    });
    const socket = connect(Number(new URL(origin).port), '127.0.0.1', () => socket.write(requestText('GET', '/s')));
    socket.once('data', () => response?.end());
    await until(() => node.state.closed > 0, 'the stream to close');
    socket.destroy();
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('that fails is reported, ends the response and errors the web body without the cause', async () => {
    const reported: unknown[] = [];
    const node = frameStream(['first\n'], 'fail');
    const { origin } = await listenLoopback((req, res) => streaming(node.stream, (e) => reported.push(e)).node(req, res));
    const raw = await rawRequest(Number(new URL(origin).port), requestText('GET', '/s'));
    expect(raw.status).toBe(200);
    expect(dechunk(raw)).toBe('first\n');
    const web = frameStream(['first\n'], 'fail');
    const response = await streaming(web.stream, (e) => reported.push(e)).fetch(new Request('http://mail.example/s'));
    const error = await response.text().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(error)).not.toContain('secret');
    expect(reported).toHaveLength(2);
    expect(node.state.closed + web.state.closed).toBeGreaterThanOrEqual(2);
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('is never opened onto a response someone answered while the handler was deciding', async () => {
    const node = frameStream(['first\n'], 'hang');
    let gone: boolean | undefined;
    const page = handler(
      async (request): Promise<Answer> => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        gone = request.gone();
        return { status: 200, headers: { 'content-type': TEXT }, stream: node.stream };
      },
      { methods: ['GET'] },
    );
    const { origin } = await listenLoopback((req, res) => {
      page.node(req, res);
      res.writeHead(503).end('timed out\n');
    });
    const raw = await rawRequest(Number(new URL(origin).port), requestText('GET', '/s'));
    expect(raw.status).toBe(503);
    await until(() => node.state.closed > 0, 'the stream to be closed unread');
    expect(node.state.read).toBe(0);
    expect(gone).toBe(true);
    await settle();
    expect(unhandled).toEqual([]);
  });
});
