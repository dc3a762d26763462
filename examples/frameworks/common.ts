/**
 * What the framework recipes share: one telemetry instance, the prefix its handlers live under,
 * and the run-as-written harness. By default a recipe starts its server on 127.0.0.1, checks every
 * route once and exits (0 when all answered as they should); with `--serve` (or `SERVE=1`) it stays
 * up, prints a dashboard URL and makes demo traffic.
 */
import { EventSource } from 'eventsource';
import { describeError } from '../../src/base/errors.js';
import { createTelemetry, type Telemetry } from '../../src/index.js';

/**
 * Where the recipes mount the handlers; any prefix works the same way:
 * - `${PREFIX}/metrics`: the Prometheus scrape;
 * - `${PREFIX}/live/tracing` and `${PREFIX}/live/metrics`: the live SSE streams;
 * - `${PREFIX}/history/…`: the history JSON. Its routes end in Stalwart's names, so the events
 *   query is `${PREFIX}/history/telemetry/events`;
 * - `${PREFIX}/alerts`: the alert rules' states (guarded by the history's `authorize`);
 * - `${PREFIX}/dashboard`: the page, which finds the live streams, the history and the alerts
 *   beside itself with no option.
 */
export const PREFIX = '/telemetry';

/** The history holds addresses and IPs: it answers 401 unless `authorize` lets the request in. */
export const HISTORY_TOKEN = process.env.HISTORY_TOKEN ?? 'change-me';

/** One telemetry instance per process, configured for the recipes. */
export function exampleTelemetry(): Telemetry {
  return createTelemetry({
    service: 'example-mx',
    // Share one key between the processes behind a load balancer; short batches keep the demo lively.
    live: { tokenKey: process.env.LIVE_TOKEN_KEY ?? 'an example key of at least 32 bytes!', batchWindow: 100 },
    history: { authorize: (request) => request.header('authorization') === `Bearer ${HISTORY_TOKEN}` },
  });
}

/** A running recipe: its base URL and how to stop it (connections and all). */
export interface Started {
  readonly base: string;
  close(): Promise<void>;
}

/** Runs a recipe: `--serve` keeps it up, otherwise one self-check and exit. */
export async function run(name: string, start: (telemetry: Telemetry) => Promise<Started>): Promise<void> {
  const telemetry = exampleTelemetry();
  const server = await start(telemetry);
  if (process.argv.includes('--serve') || process.env.SERVE === '1') return serve(name, telemetry, server);
  try {
    await selfCheck(telemetry, server.base, console.log);
    console.log(`${name}: all routes answered`);
  } catch (error) {
    console.error(`${name}: ${describeError(error)}`);
    process.exitCode = 1;
  } finally {
    await server.close();
    await telemetry.shutdown();
  }
}

function serve(name: string, telemetry: Telemetry, server: Started): void {
  // An hour is generous for a demo; a real host issues 60 s tokens from behind its login.
  const tracing = telemetry.live.issueToken({ scope: 'tracing', ttlSeconds: 3600, subject: 'demo' });
  const metrics = telemetry.live.issueToken({ scope: 'metrics', ttlSeconds: 3600, subject: 'demo' });
  console.log(`${name}: open ${server.base}${PREFIX}/dashboard#token=${tracing}&token=${metrics}`);
  console.log(`${name}: scrape ${server.base}${PREFIX}/metrics`);
  let n = 0;
  const traffic = setInterval(() => telemetry.emit('auth.success', { accountName: `user${n++ % 7}` }), 1000);
  process.once('SIGINT', () => {
    clearInterval(traffic);
    void server.close().then(() => telemetry.shutdown());
  });
}

/** One request per route; throws with what went wrong. */
export async function selfCheck(telemetry: Telemetry, base: string, log: (line: string) => void): Promise<void> {
  const url = (path: string) => `${base}${PREFIX}${path}`;

  // The trace frame must carry an event emitted after the stream opened.
  const trace = await firstTrace(url(`/live/tracing?token=${telemetry.live.issueToken({ scope: 'tracing' })}`), () =>
    telemetry.emit('auth.success', { accountName: 'postmaster' }),
  );
  log(`GET ${PREFIX}/live/tracing → trace ${trace}`);
  await telemetry.flush();

  const scrape = await fetch(url('/metrics'));
  const text = await scrape.text();
  const line = text.split('\n').find((l) => l.startsWith('mail_auth_success_total'));
  expect(scrape.status === 200 && line !== undefined, `the scrape answered ${scrape.status} without mail_auth_success_total`);
  log(`GET ${PREFIX}/metrics → ${scrape.status} ${scrape.headers.get('content-type')}: ${line}`);

  const live = await fetch(url(`/live/metrics?token=${telemetry.live.issueToken({ scope: 'metrics' })}`));
  await live.body?.cancel();
  expect(live.status === 200, `the metrics stream answered ${live.status}`);
  log(`GET ${PREFIX}/live/metrics → ${live.status} ${live.headers.get('content-type')}`);

  const history = await fetch(url('/history/telemetry/events?type=auth.*'), {
    headers: { authorization: `Bearer ${HISTORY_TOKEN}` },
  });
  const found = history.status === 200 ? ((await history.json()) as { data: { items: unknown[] } }).data.items.length : 0;
  expect(found > 0, `the history answered ${history.status} with ${found} events`);
  log(`GET ${PREFIX}/history/telemetry/events → ${history.status}, ${found} event(s)`);

  const alerts = await fetch(url('/alerts'), { headers: { authorization: `Bearer ${HISTORY_TOKEN}` } });
  const rules = alerts.status === 200 ? ((await alerts.json()) as { data: { rules: unknown[] } }).data.rules : undefined;
  expect(rules !== undefined, `the alerts answered ${alerts.status}`);
  log(`GET ${PREFIX}/alerts → ${alerts.status}, ${rules?.length ?? 0} rule(s)`);

  const page = await fetch(url('/dashboard'));
  const html = await page.text();
  expect(page.status === 200 && html.startsWith('<!doctype html>'), `the dashboard answered ${page.status}`);
  log(`GET ${PREFIX}/dashboard → ${page.status} ${page.headers.get('content-type')}`);

  for (const path of [`${PREFIX}/nothing-here`, '/elsewhere']) {
    const response = await fetch(`${base}${path}`);
    await response.body?.cancel();
    expect(response.status === 404, `${path} answered ${response.status}, not 404`);
    log(`GET ${path} → ${response.status}`);
  }
}

/** Opens the tracing stream, calls `emit` once it is open, and resolves with the first traced event's type. */
function firstTrace(url: string, emit: () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const source = new EventSource(url);
    const timer = setTimeout(() => finish(new Error('no trace frame within 5 s (is a proxy buffering the stream?)')), 5000);
    const finish = (result: string | Error) => {
      clearTimeout(timer);
      source.close();
      if (typeof result === 'string') resolve(result);
      else reject(result);
    };
    // The first ping says the stream is subscribed: from then on no event is missed.
    source.addEventListener('ping', emit, { once: true });
    source.addEventListener('trace', (event) => {
      const [first] = JSON.parse(event.data) as { type: string }[];
      if (first !== undefined) finish(first.type);
    });
    source.addEventListener('error', (event) => finish(new Error(`the tracing stream failed: ${event.code ?? event.message}`)));
  });
}

function expect(condition: boolean, failure: string): void {
  if (!condition) throw new Error(failure);
}
