import { describe, expect, it } from 'vitest';
import { CONTENT_TYPES } from '../../src/index.js';
import { listenLoopback, make } from '../support/telemetry.js';

const TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

type Telemetry = ReturnType<typeof make>;

/** Mounts the scrape handler on a real node:http server on 127.0.0.1; returns its URL. */
async function serve(telemetry: Telemetry): Promise<string> {
  const { origin } = await listenLoopback((req, res) => {
    if (req.url === '/metrics') telemetry.handlers.prometheus.node(req, res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  return `${origin}/metrics`;
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Every header of a response as one string. */
const headerText = (response: Response) => [...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n');

describe('handlers.prometheus over node:http', () => {
  it('answers GET with the text format 0.0.4 by default', async () => {
    const telemetry = make();
    telemetry.emit('delivery.completed', { elapsed: 5 });
    const url = await serve(telemetry);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(TEXT);
    expect(CONTENT_TYPES.text).toBe(TEXT);
    const body = await response.text();
    expect(body).toMatch(/^mail_delivery_completed_total 1$/m);
    expect(body).toContain('# TYPE mail_smtp_request_time_seconds histogram');
    expect(body).not.toContain('# EOF');
  });

  it('answers OpenMetrics when Accept asks for it, as Prometheus does', async () => {
    const telemetry = make();
    const url = await serve(telemetry);
    for (const accept of ['application/openmetrics-text; version=1.0.0', PROMETHEUS_ACCEPT]) {
      const response = await fetch(url, { headers: { accept } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(OPENMETRICS);
      const body = await response.text();
      expect(body.endsWith('# EOF\n')).toBe(true);
      expect(body).toContain('# TYPE mail_delivery_completed counter');
    }
  });

  it('answers text when OpenMetrics is refused with q=0 or not listed', async () => {
    const telemetry = make();
    const url = await serve(telemetry);
    for (const accept of ['application/openmetrics-text; version=1.0.0; q=0', 'text/plain', '*/*', 'application/json']) {
      const response = await fetch(url, { headers: { accept } });
      expect(response.headers.get('content-type'), accept).toBe(TEXT);
      expect(await response.text()).not.toContain('# EOF');
    }
  });

  it('answers HEAD with the headers and no body', async () => {
    const telemetry = make();
    const url = await serve(telemetry);
    const response = await fetch(url, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(TEXT);
    expect(await response.text()).toBe('');
  });

  it('answers other methods with 405 and Allow', async () => {
    const telemetry = make();
    const url = await serve(telemetry);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const response = await fetch(url, method === 'DELETE' ? { method } : { method, body: 'x' });
      expect(response.status, method).toBe(405);
      expect(response.headers.get('allow')).toMatch(/GET/);
      expect(await response.text()).not.toContain('mail_');
    }
  });

  it('serves the current values at every scrape', async () => {
    const telemetry = make();
    const url = await serve(telemetry);
    const gauge = telemetry.metrics.gauge('user.count');
    gauge.set(1);
    expect(await (await fetch(url)).text()).toMatch(/^mail_users 1$/m);
    gauge.set(2);
    expect(await (await fetch(url)).text()).toMatch(/^mail_users 2$/m);
  });
});

describe('handlers.prometheus with Basic auth', () => {
  const username = 'prometheus';
  const password = 'Sup3r-s3cret:pa55';

  it('over node:http: 401 without or with wrong credentials, 200 with the right ones; the password never leaks', async () => {
    const telemetry = make({ metrics: { auth: { username, password } } });
    const url = await serve(telemetry);
    const cases: [string, Record<string, string>, number][] = [
      ['no header', {}, 401],
      ['wrong password', { authorization: basic(username, 'wrong') }, 401],
      ['password prefix', { authorization: basic(username, password.slice(0, -1)) }, 401],
      ['wrong user', { authorization: basic('admin', password) }, 401],
      ['not basic', { authorization: `Bearer ${password}` }, 401],
      ['garbage', { authorization: 'Basic !!!' }, 401],
      ['right', { authorization: basic(username, password) }, 200],
      ['lowercase scheme', { authorization: basic(username, password).replace('Basic', 'basic') }, 200],
    ];
    for (const [label, headers, status] of cases) {
      const response = await fetch(url, { headers });
      expect(response.status, label).toBe(status);
      const body = await response.text();
      if (status === 401) {
        expect(response.headers.get('www-authenticate'), label).toMatch(/^Basic realm=/);
        expect(body).not.toContain('mail_');
      } else {
        expect(body).toContain('# TYPE mail_delivery_completed_total counter');
      }
      expect(body, label).not.toContain(password);
      expect(headerText(response), label).not.toContain(password);
      expect(headerText(response), label).not.toContain(Buffer.from(password).toString('base64'));
    }
    // A wrong method never answers 200, even with the right credentials.
    const post = await fetch(url, { method: 'POST', headers: { authorization: basic(username, password) }, body: 'x' });
    expect(post.status).toBe(405);
  });

  it('over fetch(Request): the same answers', async () => {
    const telemetry = make({ metrics: { auth: { username, password } } });
    const handler = telemetry.handlers.prometheus;
    const none = await handler.fetch(new Request('http://localhost/metrics'));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    const wrong = await handler.fetch(
      new Request('http://localhost/metrics', { headers: { authorization: basic(username, 'nope') } }),
    );
    expect(wrong.status).toBe(401);
    const right = await handler.fetch(
      new Request('http://localhost/metrics', { headers: { authorization: basic(username, password) } }),
    );
    expect(right.status).toBe(200);
    expect(right.headers.get('content-type')).toBe(TEXT);
    for (const response of [none, wrong, right]) {
      expect(await response.text()).not.toContain(password);
      expect(headerText(response)).not.toContain(password);
    }
  });
});

describe('handlers.prometheus.fetch(Request)', () => {
  it('answers GET with text 0.0.4, OpenMetrics by Accept, HEAD without body, POST with 405', async () => {
    const telemetry = make();
    telemetry.emit('delivery.completed', { elapsed: 5 });
    const handler = telemetry.handlers.prometheus;
    const text = await handler.fetch(new Request('http://localhost/metrics'));
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toBe(TEXT);
    expect(await text.text()).toMatch(/^mail_delivery_completed_total 1$/m);

    const om = await handler.fetch(
      new Request('http://localhost/metrics', { headers: { accept: 'application/openmetrics-text; version=1.0.0' } }),
    );
    expect(om.headers.get('content-type')).toBe(OPENMETRICS);
    expect((await om.text()).endsWith('# EOF\n')).toBe(true);

    const refused = await handler.fetch(
      new Request('http://localhost/metrics', {
        headers: { accept: 'application/openmetrics-text; version=1.0.0; q=0, text/plain' },
      }),
    );
    expect(refused.headers.get('content-type')).toBe(TEXT);

    const head = await handler.fetch(new Request('http://localhost/metrics', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe(TEXT);
    expect(await head.text()).toBe('');

    const post = await handler.fetch(new Request('http://localhost/metrics', { method: 'POST', body: 'x' }));
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toMatch(/GET/);
  });

  it('the content types are exported', () => {
    expect(CONTENT_TYPES).toEqual({ text: TEXT, openmetrics: OPENMETRICS });
  });
});
