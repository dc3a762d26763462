import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BUILTIN_METRICS, TelemetryConfigError } from '../../src/index.js';
import { needsProgram } from '../support/needs-program.js';
import { CONNECTION, make } from '../support/telemetry.js';
import { samples } from './helpers.js';

type Telemetry = ReturnType<typeof make>;

/** Emits by name, as untyped JavaScript could. */
function emitUntyped(telemetry: Telemetry, name: string, data?: unknown): void {
  (telemetry.emit as (n: string, d?: unknown) => void)(name, data);
}

/** The `# HELP`/`# TYPE`/`# UNIT` line of `family`. */
function meta(text: string, kind: 'HELP' | 'TYPE' | 'UNIT', family: string): string | undefined {
  return text.split('\n').find((line) => line.startsWith(`# ${kind} ${family} `));
}

/** The bucket lines of a histogram series, as [le, count]. */
function buckets(text: string, name: string): [string, number][] {
  const out: [string, number][] = [];
  for (const [key, value] of samples(text)) {
    if (!key.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]*)"/.exec(key)?.[1] as string;
    out.push([le, Number(value)]);
  }
  return out;
}

describe('Prometheus text format 0.0.4 (default naming)', () => {
  it('names event counters mail_<event>_total, with HELP from the event description and TYPE counter', () => {
    const telemetry = make();
    telemetry.emit('delivery.completed', { elapsed: 10 });
    telemetry.emit('delivery.completed', { elapsed: 10 });
    const text = telemetry.metrics.prometheus();
    const help = telemetry.describe('delivery.completed').description;
    expect(meta(text, 'HELP', 'mail_delivery_completed_total')).toBe(`# HELP mail_delivery_completed_total ${help}`);
    expect(meta(text, 'TYPE', 'mail_delivery_completed_total')).toBe('# TYPE mail_delivery_completed_total counter');
    expect(samples(text).get('mail_delivery_completed_total')).toBe('2');
    // An event never emitted is still exported, at 0.
    expect(samples(text).get('mail_auth_success_total')).toBe('0');
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toContain('# EOF');
    // HELP and TYPE come before the samples of their family, once each.
    const lines = text.split('\n');
    const helpAt = lines.indexOf(`# HELP mail_delivery_completed_total ${help}`);
    expect(lines[helpAt + 1]).toBe('# TYPE mail_delivery_completed_total counter');
    expect(lines[helpAt + 2]).toBe('mail_delivery_completed_total 2');
    const families = lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
    expect(new Set(families).size).toBe(families.length);
  });

  it('uses a custom prefix, or none', () => {
    const custom = make({ metrics: { prefix: 'mx_' } });
    custom.emit('delivery.completed');
    const text = custom.metrics.prometheus();
    expect(samples(text).get('mx_delivery_completed_total')).toBe('1');
    expect(/^(# [A-Z]+ )?mail_/m.test(text)).toBe(false);
    const none = make({ metrics: { prefix: '' } });
    none.emit('delivery.completed');
    expect(samples(none.metrics.prometheus()).get('delivery_completed_total')).toBe('1');
  });

  it('exports durations in seconds (values and le bounds) and sizes in bytes, with the catalogue names', () => {
    const telemetry = make();
    telemetry.span('smtp.connection-start', CONNECTION).end({ elapsed: 250 });
    telemetry.span('smtp.connection-start', CONNECTION).end({ elapsed: 1500 });
    telemetry.emit('queue.message-queued', { size: 1000 });
    telemetry.metrics.gauge('user.count').set(12);
    const text = telemetry.metrics.prometheus();
    const s = samples(text);
    expect(meta(text, 'TYPE', 'mail_smtp_request_time_seconds')).toBe('# TYPE mail_smtp_request_time_seconds histogram');
    expect(meta(text, 'HELP', 'mail_smtp_request_time_seconds')).toBe(
      '# HELP mail_smtp_request_time_seconds Duration of SMTP sessions',
    );
    expect(s.get('mail_smtp_request_time_seconds_bucket{le="0.25"}')).toBe('1');
    expect(s.get('mail_smtp_request_time_seconds_bucket{le="0.5"}')).toBe('1');
    expect(s.get('mail_smtp_request_time_seconds_bucket{le="5"}')).toBe('2');
    expect(s.get('mail_smtp_request_time_seconds_bucket{le="18000"}')).toBe('2');
    expect(s.get('mail_smtp_request_time_seconds_bucket{le="+Inf"}')).toBe('2');
    expect(s.get('mail_smtp_request_time_seconds_sum')).toBe('1.75');
    expect(s.get('mail_smtp_request_time_seconds_count')).toBe('2');
    expect(text).not.toMatch(/_milliseconds|le="250"/);
    expect(meta(text, 'TYPE', 'mail_message_size_bytes')).toBe('# TYPE mail_message_size_bytes histogram');
    expect(s.get('mail_message_size_bytes_bucket{le="1000"}')).toBe('1');
    expect(s.get('mail_message_size_bytes_sum')).toBe('1000');
    expect(Number(s.get('mail_server_memory_bytes'))).toBeGreaterThan(0);
    expect(s.get('mail_users')).toBe('12');
    expect(s.get('mail_queue_messages')).toBe('1');
    expect(s.get('mail_smtp_active_connections')).toBe('0');
  });

  it('ms to s conversion leaves no float noise', () => {
    const telemetry = make();
    const h = telemetry.metrics.histogram('store.data-write-time');
    h.observe(100);
    h.observe(200);
    const s = samples(telemetry.metrics.prometheus());
    expect(s.get('mail_store_data_write_time_seconds_sum')).toBe('0.3');
    expect(s.get('mail_store_data_write_time_seconds_bucket{le="0.005"}')).toBe('0');
    expect(s.get('mail_store_data_write_time_seconds_bucket{le="0.1"}')).toBe('1');
  });

  it('writes cumulative le buckets ending with +Inf, then _sum and _count, for every histogram', () => {
    const telemetry = make();
    const h = telemetry.metrics.histogram('app.latency', { help: 'Latency', buckets: [1, 2, 5], unit: 'seconds' });
    for (const v of [0.5, 1, 2, 2, 3, 9]) h.observe(v);
    const text = telemetry.metrics.prometheus();
    expect(buckets(text, 'mail_app_latency_seconds')).toEqual([
      ['1', 2],
      ['2', 4],
      ['5', 5],
      ['+Inf', 6],
    ]);
    expect(samples(text).get('mail_app_latency_seconds_sum')).toBe('17.5');
    expect(samples(text).get('mail_app_latency_seconds_count')).toBe('6');
    // Host values are not scaled: the host chose the unit.
    const lines = text.split('\n');
    const at = lines.indexOf('mail_app_latency_seconds_bucket{le="+Inf"} 6');
    expect(lines.slice(at + 1, at + 3)).toEqual(['mail_app_latency_seconds_sum 17.5', 'mail_app_latency_seconds_count 6']);
  });

  it('adds the default labels to every series, before the metric labels', () => {
    const telemetry = make({ metrics: { defaultLabels: { node: 'mx1', region: 'eu' } } });
    telemetry.emit('delivery.completed', { elapsed: 5 });
    telemetry.metrics.counter('app.jobs', { help: 'Jobs', labels: ['kind'] }).inc({ kind: 'a' });
    const text = telemetry.metrics.prometheus();
    const sampleLines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(sampleLines.length).toBeGreaterThan(400);
    for (const line of sampleLines) expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*\{node="mx1",region="eu"[,}]/);
    expect(samples(text).get('mail_app_jobs_total{node="mx1",region="eu",kind="a"}')).toBe('1');
    expect(samples(text).get('mail_delivery_total_time_seconds_bucket{node="mx1",region="eu",le="1"}')).toBe('1');
  });

  it('escapes ", \\ and newline in label values, and \\ in HELP', () => {
    const telemetry = make({ metrics: { defaultLabels: { node: 'a"b' } } });
    const c = telemetry.metrics.counter('app.paths', { help: 'Paths like C:\\mail seen', labels: ['path'] });
    c.inc({ path: 'C:\\mail\n"x"' });
    const text = telemetry.metrics.prometheus();
    expect(text).toContain('# HELP mail_app_paths_total Paths like C:\\\\mail seen\n');
    expect(text).toContain('mail_app_paths_total{node="a\\"b",path="C:\\\\mail\\n\\"x\\""} 1\n');
    // The raw newline never splits a sample line.
    for (const line of text.split('\n')) if (line.startsWith('mail_app_paths')) expect(line).toMatch(/ 1$/);
  });

  it('appends a host metric unit to its name', () => {
    const telemetry = make();
    telemetry.metrics.gauge('app.disk', { help: 'Disk used', unit: 'bytes' }).set(2048);
    telemetry.metrics.counter('app.sent', { help: 'Bytes sent', unit: 'bytes' }).inc(10);
    const s = samples(telemetry.metrics.prometheus());
    expect(s.get('mail_app_disk_bytes')).toBe('2048');
    expect(s.get('mail_app_sent_bytes_total')).toBe('10');
  });

  it('exports nothing for excluded metrics; an all-excluded registry scrapes empty', () => {
    const telemetry = make({ metrics: { exclude: ['*'] } });
    telemetry.emit('delivery.completed');
    expect(telemetry.metrics.prometheus()).toBe('');
    expect(telemetry.metrics.prometheus('openmetrics')).toBe('# EOF\n');
  });

  it('a host metric whose exported name equals a built-in one is refused, or at least never duplicated in the scrape', () => {
    const telemetry = make();
    // queue.count is exported as mail_queue_messages; the event counter smtp.connection-start as
    // mail_smtp_connection_start_total (family mail_smtp_connection_start in OpenMetrics).
    const define = [
      () => telemetry.metrics.gauge('queue.messages', { help: 'Clash with queue.count' }).set(1),
      () => telemetry.metrics.counter('smtp.connection.start', { help: 'Clash with an event counter' }).inc(),
      () => telemetry.metrics.gauge('smtp.connection-start.x', { help: 'No clash' }).set(1),
    ];
    for (const fn of define) {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(TelemetryConfigError);
      }
    }
    for (const format of ['text', 'openmetrics'] as const) {
      const families = telemetry.metrics
        .prometheus(format)
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .map((l) => l.split(' ')[2]);
      const duplicates = families.filter((f, i) => families.indexOf(f) !== i);
      expect(duplicates, format).toEqual([]);
    }
  });
});

describe('OpenMetrics 1.0', () => {
  it('names counter families without _total and samples with it, writes # UNIT and ends with # EOF', () => {
    const telemetry = make();
    telemetry.emit('delivery.completed', { elapsed: 1000 });
    telemetry.span('smtp.connection-start', CONNECTION).end({ elapsed: 500 });
    telemetry.metrics.counter('app.sent', { help: 'Bytes sent', unit: 'bytes' }).inc(3);
    const text = telemetry.metrics.prometheus('openmetrics');
    const help = telemetry.describe('delivery.completed').description;
    expect(meta(text, 'HELP', 'mail_delivery_completed')).toBe(`# HELP mail_delivery_completed ${help}`);
    expect(meta(text, 'TYPE', 'mail_delivery_completed')).toBe('# TYPE mail_delivery_completed counter');
    expect(text).not.toMatch(/^# (HELP|TYPE) \S+_total /m);
    expect(samples(text).get('mail_delivery_completed_total')).toBe('1');
    expect(meta(text, 'UNIT', 'mail_smtp_request_time_seconds')).toBe('# UNIT mail_smtp_request_time_seconds seconds');
    expect(meta(text, 'UNIT', 'mail_message_size_bytes')).toBe('# UNIT mail_message_size_bytes bytes');
    expect(meta(text, 'UNIT', 'mail_server_memory_bytes')).toBe('# UNIT mail_server_memory_bytes bytes');
    expect(meta(text, 'UNIT', 'mail_app_sent_bytes')).toBe('# UNIT mail_app_sent_bytes bytes');
    expect(samples(text).get('mail_app_sent_bytes_total')).toBe('3');
    expect(samples(text).get('mail_smtp_request_time_seconds_bucket{le="0.5"}')).toBe('1');
    expect(samples(text).get('mail_smtp_request_time_seconds_count')).toBe('1');
    // Every UNIT names a family that ends with that unit.
    for (const line of text.split('\n').filter((l) => l.startsWith('# UNIT '))) {
      const [, , family, unit] = line.split(' ');
      expect(family?.endsWith(`_${unit}`), line).toBe(true);
    }
    expect(text.endsWith('\n# EOF\n')).toBe(true);
    expect(text.indexOf('# EOF')).toBe(text.length - '# EOF\n'.length);
  });

  it('escapes " in HELP, as the OpenMetrics grammar requires', () => {
    const telemetry = make();
    telemetry.metrics.counter('app.quoted', { help: 'Jobs marked "done"' }).inc();
    const text = telemetry.metrics.prometheus('openmetrics');
    expect(meta(text, 'HELP', 'mail_app_quoted')).toBe('# HELP mail_app_quoted Jobs marked \\"done\\"');
  });
});

describe("naming: 'stalwart'", () => {
  it('uses the exact Stalwart names, no prefix, no _total, values in milliseconds', () => {
    const telemetry = make({ metrics: { naming: 'stalwart', prefix: 'ignored_' } });
    telemetry.span('smtp.connection-start', CONNECTION).end({ elapsed: 250 });
    telemetry.emit('queue.message-queued', { size: 1000 });
    telemetry.metrics.gauge('user.count').set(7);
    const text = telemetry.metrics.prometheus();
    const s = samples(text);
    expect(meta(text, 'TYPE', 'smtp_connection_start')).toBe('# TYPE smtp_connection_start counter');
    expect(meta(text, 'HELP', 'smtp_connection_start')).toBe(
      `# HELP smtp_connection_start ${telemetry.describe('smtp.connection-start').description}`,
    );
    expect(s.get('smtp_connection_start')).toBe('1');
    expect(s.get('queue_count')).toBe('1');
    expect(s.get('user_count')).toBe('7');
    expect(Number(s.get('server_memory'))).toBeGreaterThan(0);
    expect(meta(text, 'TYPE', 'smtp_request_time')).toBe('# TYPE smtp_request_time histogram');
    expect(s.get('smtp_request_time_bucket{le="250"}')).toBe('1');
    expect(s.get('smtp_request_time_bucket{le="+Inf"}')).toBe('1');
    expect(s.get('smtp_request_time_sum')).toBe('250');
    expect(s.get('smtp_request_time_count')).toBe('1');
    expect(s.get('message_size_bucket{le="1000"}')).toBe('1');
    expect(/_total[ {]|^(# [A-Z]+ )?(ignored_|mail_(?!auth_))|_seconds|_bytes/m.test(text)).toBe(false);
  });
});

const promtool = needsProgram('promtool');

promtool.describe('promtool check metrics', () => {
  const PROMTOOL = promtool.path;

  /** A registry where every metric has data. */
  function everything(options?: Parameters<typeof make>[0]): Telemetry {
    const telemetry = make(options);
    for (const event of telemetry.events()) if (event.counter) emitUntyped(telemetry, event.name, { elapsed: 12, size: 2048 });
    for (const row of BUILTIN_METRICS) {
      if (row.kind === 'histogram') {
        const h = telemetry.metrics.histogram(row.name);
        h.observe(1);
        h.observe(row.buckets[3] ?? 1);
        h.observe(1e12);
      }
    }
    telemetry.span('smtp.connection-start', CONNECTION);
    telemetry.metrics.gauge('user.count').set(100);
    telemetry.metrics.gauge('domain.count').set(3);
    const counter = telemetry.metrics.counter('app.requests', { help: 'HTTP requests "served"', labels: ['method', 'code'] });
    counter.inc({ method: 'GET', code: '200' }, 3);
    counter.inc({ method: 'POST', code: '500' });
    const gauge = telemetry.metrics.gauge('app.queue-depth', { help: 'Jobs waiting', labels: ['queue'] });
    gauge.set({ queue: 'in\\coming' }, 4);
    gauge.set({ queue: 'out"going' }, -2);
    const histogram = telemetry.metrics.histogram('app.job-duration', {
      help: 'Job duration',
      labels: ['kind'],
      unit: 'seconds',
      buckets: [0.1, 1, 10],
    });
    histogram.observe({ kind: 'index' }, 0.05);
    histogram.observe({ kind: 'index' }, 1);
    histogram.observe({ kind: 'purge\nall' }, 20);
    return telemetry;
  }

  it('reports no problem for a default-mode scrape where every metric has data', () => {
    const telemetry = everything();
    const text = telemetry.metrics.prometheus();
    // Every metric has data: no counter at zero, every histogram observed.
    const s = samples(text);
    for (const event of telemetry.events()) {
      if (event.counter) expect(Number(s.get(`mail_${event.name.replace(/[.-]/g, '_')}_total`)), event.name).toBeGreaterThan(0);
    }
    const counts = [...s].filter(([k]) => /_count(\{|$)/.test(k));
    expect(counts.length).toBe(BUILTIN_METRICS.filter((r) => r.kind === 'histogram').length + 2);
    for (const [key, value] of counts) expect(Number(value), key).toBeGreaterThan(0);
    const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });

  it('reports no problem with default labels and a custom prefix', () => {
    const telemetry = everything({ metrics: { prefix: 'mx_', defaultLabels: { node: 'mx1', site: 'eu-west' } } });
    const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: telemetry.metrics.prometheus(), encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });
});
