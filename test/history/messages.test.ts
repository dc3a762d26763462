import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import type { HistoryStore } from '../../src/index.js';
import { SqliteHistoryStore } from '../../src/sqlite.js';
import { connection, make } from '../support/telemetry.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** One SMTP session that queues three messages, as a pooled client sends them. */
async function pooledSession(store?: HistoryStore) {
  const telemetry = make({ history: { level: 'debug', ...(store === undefined ? {} : { store }) } });
  const span = telemetry.span('smtp.connection-start', connection('192.0.2.7', 4000));
  const messages = [
    { queueId: 'Q1', from: 'a@example.org', to: ['x@example.net'], size: 100 },
    { queueId: 'Q2', from: 'b@example.org', to: ['y@example.net', 'z@example.net'], size: 200 },
    { queueId: 'Q3', from: 'c@example.org', to: ['x@example.net'], size: 300 },
  ];
  for (const m of messages) {
    span.emit('smtp.mail-from', { from: m.from });
    for (const to of m.to) span.emit('smtp.rcpt-to', { to });
    span.emit('queue.message-queued', m);
  }
  span.end();
  await telemetry.flush();
  return { telemetry, span };
}

describe('a session that queued several messages', () => {
  for (const kind of ['memory', 'sqlite'] as const) {
    it(`lists each message with its own sender, recipients and size, and is found by any of their queue ids (${kind})`, async () => {
      const store = kind === 'sqlite' ? new SqliteHistoryStore({ path: ':memory:' }) : undefined;
      const { telemetry, span } = await pooledSession(store);
      const trace = await telemetry.history.trace(span.id);
      expect(trace?.messages).toEqual([
        { queueId: 'Q1', from: 'a@example.org', to: ['x@example.net'], size: 100 },
        { queueId: 'Q2', from: 'b@example.org', to: ['y@example.net', 'z@example.net'], size: 200 },
        { queueId: 'Q3', from: 'c@example.org', to: ['x@example.net'], size: 300 },
      ]);
      for (const queueId of ['Q1', 'Q2', 'Q3']) {
        const page = await telemetry.history.traces({ queueId });
        expect(page.items.map((t) => t.id)).toEqual([span.id]);
        expect(page.items[0]?.messages.map((m) => m.queueId)).toContain(queueId);
      }
      expect((await telemetry.history.traces({ queueId: 'Q' })).items).toEqual([]);
      await telemetry.shutdown();
    });
  }

  it('opens a sqlite file written before messages were kept, and keeps them from then on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mail-telemetry-messages-'));
    dirs.push(dir);
    const path = join(dir, 'history.db');
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE traces (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, ts REAL NOT NULL,
      queue_id TEXT, sender TEXT, recipients TEXT NOT NULL, size REAL, truncated INTEGER NOT NULL,
      keywords TEXT NOT NULL, events TEXT NOT NULL)`);
    old
      .prepare(
        'INSERT INTO traces (id, type, ts, queue_id, sender, recipients, size, truncated, keywords, events) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run('7', 'smtp.connection-start', Date.now(), 'OLD1', 'o@example.org', '["p@example.net"]', 10, 0, '', '[]');
    old.close();
    const { telemetry, span } = await pooledSession(new SqliteHistoryStore({ path }));
    expect((await telemetry.history.traces({ queueId: 'OLD1' })).items.map((t) => t.messages)).toEqual([[]]);
    expect((await telemetry.history.traces({ queueId: 'Q2' })).items.map((t) => t.id)).toEqual([span.id]);
    await telemetry.shutdown();
  });
});
