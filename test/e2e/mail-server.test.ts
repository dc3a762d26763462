/**
 * The main example end to end: its real smtp-server and local delivery take 200 messages from real
 * nodemailer clients (good, pooled several to a session, wrong password, unknown recipient,
 * oversized), and every consumer is checked against the truth: what the clients were answered and
 * what the maildir holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MailServer, startMailServer } from '../../examples/mail-server/server.js';
import { samples } from '../metrics/helpers.js';
import { until } from '../support/guards.js';
import { type Sent, sendLoad } from './load.js';
import { readTraceStream, type TraceStream } from './sse.js';

const MAX_SIZE = 65_536;
const MIX = { good: 100, pooledSessions: 10, perSession: 4, badAuth: 20, unknown: 25, oversized: 15 };

interface Delivered {
  readonly box: string;
  readonly messageId: string;
  readonly subject: string;
  readonly size: number;
}

let mx: MailServer;
let stream: TraceStream;
let sent: Sent[];
let delivered: Delivered[];
/** Every event the instance emitted, as an in-process listener saw it synchronously. */
const emitted: { id: string; type: string; level: string; afterOpen: boolean }[] = [];
let streamOpen = false;

function header(raw: string, name: string): string {
  return new RegExp(`^${name}: *(.*)$`, 'im').exec(raw)?.[1]?.trim() ?? '';
}

async function readMaildir(): Promise<Delivered[]> {
  const out: Delivered[] = [];
  for (const box of ['postmaster', 'alice', 'bob', 'carol']) {
    for (const raw of await mx.maildir.messages(box)) {
      const text = raw.toString('utf8');
      out.push({ box, messageId: header(text, 'Message-ID'), subject: header(text, 'Subject'), size: raw.length });
    }
  }
  return out;
}

const alertMails = () => delivered.filter((d) => d.subject.includes('failed-logins'));
const connections = () => MIX.good + MIX.pooledSessions + MIX.badAuth + MIX.unknown + MIX.oversized + alertMails().length;

beforeAll(async () => {
  mx = await startMailServer({
    console: false,
    log: () => {},
    maxSize: MAX_SIZE,
    alertWindow: '2s',
    alertInterval: '250ms',
    seriesInterval: 250,
  });
  mx.telemetry.on('*', (event) =>
    emitted.push({ id: String(event.id), type: event.type, level: event.level, afterOpen: streamOpen }),
  );
  const token = mx.telemetry.live.issueToken({ scope: 'tracing' });
  stream = readTraceStream(`${mx.adminUrl}/live/tracing?token=${token}`);
  await stream.open;
  streamOpen = true;

  sent = await sendLoad(mx.smtpPort, MAX_SIZE, MIX);
  // The alert fired during the load; once the failures are out of its 2 s window it resolves and mails again.
  const resolved = () => mx.telemetry.alerts.transitions().some((t) => t.from === 'firing' && t.to === 'resolved');
  expect(await until(resolved, 20_000)).toBe(true);
  await until(async () => (await readMaildir()).filter((d) => d.subject.includes('failed-logins')).length >= 2);
  await mx.delivered();
  delivered = await readMaildir();
  await mx.telemetry.flush();
}, 90_000);

afterAll(async () => {
  await stream?.close();
  await mx?.close();
});

describe('the example mail server under 200 real messages', () => {
  it('answered every client as its policy says, and the maildir holds exactly what it accepted', () => {
    expect(sent).toHaveLength(200);
    const accepted = sent.filter((s) => s.kind === 'good' || s.kind === 'pooled');
    for (const s of accepted) expect(s.queueId, `${s.kind} ${s.to}`).toMatch(/^[0-9A-F]{12}$/);
    expect(sent.filter((s) => s.kind === 'bad-auth').map((s) => s.code)).toEqual(Array(MIX.badAuth).fill(535));
    expect(sent.filter((s) => s.kind === 'unknown').map((s) => s.code)).toEqual(Array(MIX.unknown).fill(550));
    expect(sent.filter((s) => s.kind === 'oversized').map((s) => s.code)).toEqual(Array(MIX.oversized).fill(552));
    const inMaildir = new Set(delivered.map((d) => d.messageId));
    for (const s of accepted) expect(inMaildir.has(s.messageId ?? '')).toBe(true);
    expect(delivered).toHaveLength(accepted.length + alertMails().length);
  });

  it('the alert fired, emailed the postmaster through the server, and resolved', () => {
    const transitions = mx.telemetry.alerts.transitions().filter((t) => t.id === 'failed-logins');
    expect(transitions.map((t) => t.to)).toContain('firing');
    expect(transitions.at(-1)?.to).toBe('resolved');
    const subjects = alertMails().map((d) => `${d.box}: ${d.subject}`);
    expect(subjects).toContain('postmaster: [warning] failed-logins firing');
    expect(subjects.some((s) => s.startsWith('postmaster: [warning] failed-logins') && s.endsWith('resolved'))).toBe(true);
  });

  it('the Prometheus scrape counts what the clients and the maildir show', async () => {
    const response = await fetch(`${mx.adminUrl}/metrics`);
    expect(response.status).toBe(200);
    const scraped = samples(await response.text());
    const m = { get: (series: string) => (scraped.has(series) ? Number(scraped.get(series)) : undefined) };
    const total = delivered.length;
    expect(m.get('mail_queue_message_queued_total')).toBe(total);
    expect(m.get('mail_delivery_delivered_total')).toBe(total);
    expect(m.get('mail_delivery_completed_total')).toBe(total);
    expect(m.get('mail_delivery_total_time_seconds_count')).toBe(total);
    expect(m.get('mail_message_size_bytes_count')).toBe(total);
    expect(m.get('mail_message_size_bytes_sum')).toBe(delivered.reduce((sum, d) => sum + d.size, 0));
    expect(m.get('mail_auth_failed_total')).toBe(MIX.badAuth);
    expect(m.get('mail_auth_success_total')).toBe(MIX.good + MIX.pooledSessions);
    expect(m.get('mail_smtp_mailbox_does_not_exist_total')).toBe(MIX.unknown);
    expect(m.get('mail_smtp_message_too_large_total')).toBe(MIX.oversized);
    expect(m.get('mail_smtp_connection_start_total')).toBe(connections());
    expect(m.get('mail_smtp_connection_end_total')).toBe(connections());
    expect(m.get('mail_smtp_active_connections')).toBe(0);
    expect(m.get('mail_queue_count') ?? 0).toBe(0);
  });

  it('the history finds each message by queue id, message id, sender and recipient, pooled ones included', async () => {
    const sizes = new Map(delivered.map((d) => [d.messageId, d.size]));
    const accepted = sent.filter((s) => s.kind === 'good' || s.kind === 'pooled');
    for (const s of accepted) {
      const { items } = await mx.telemetry.history.traces({ queueId: s.queueId ?? '' });
      const session = items.find((t) => t.type === 'smtp.connection-start');
      const attempt = items.find((t) => t.type === 'delivery.attempt-start');
      const record = { queueId: s.queueId, messageId: s.messageId, from: s.from, to: [s.to] };
      expect(session?.messages, s.to).toContainEqual({ ...record, size: sizes.get(s.messageId ?? '') });
      expect(attempt?.messages).toEqual([record]);
      const byRecipient = await mx.telemetry.history.traces({ keywords: s.to });
      expect(byRecipient.items.map((t) => t.id).sort()).toEqual([session?.id, attempt?.id].sort());
      const byMessageId = await mx.telemetry.history.traces({ keywords: s.messageId ?? '' });
      expect(byMessageId.items.map((t) => t.id).sort()).toEqual([session?.id, attempt?.id].sort());
    }
    for (let s = 0; s < MIX.pooledSessions; s++) {
      const { items } = await mx.telemetry.history.traces({ keywords: `pooled${s}@example.net` });
      const sessions = items.filter((t) => t.type === 'smtp.connection-start');
      expect(sessions).toHaveLength(1);
      expect(sessions[0]?.messages.map((m) => m.queueId).sort()).toEqual(
        sent
          .filter((x) => x.session === s)
          .map((x) => x.queueId)
          .sort(),
      );
      expect(items.filter((t) => t.type === 'delivery.attempt-start')).toHaveLength(MIX.perSession);
    }
  });

  it('the webhook receiver got every selected event, each request validly signed', async () => {
    const selected = (type: string) => /^(smtp|auth|queue|delivery)\./.test(type);
    const expected = new Set(emitted.filter((e) => selected(e.type)).map((e) => e.id));
    expect(await until(() => mx.receiver.events.length >= expected.size)).toBe(true);
    expect(mx.receiver.invalid).toBe(0);
    expect(new Set(mx.receiver.events.map((e) => e.id))).toEqual(expected);
  });

  it('the live stream saw every event at its level', async () => {
    const expected = emitted.filter((e) => e.afterOpen && e.level !== 'trace').map((e) => e.id);
    expect(await until(() => expected.every((id) => stream.ids.has(id)))).toBe(true);
    const all = new Set(emitted.map((e) => e.id));
    for (const id of stream.ids) expect(all.has(id)).toBe(true);
  });
});
