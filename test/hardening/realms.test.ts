import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createTelemetry, jsonLine } from '../../src/index.js';
import { textOf } from '../../src/live/filter.js';

/** Values made in another realm, as a Haraka plugin's `vm` sandbox makes them. */
function otherRealm(): { error: Error; date: Date; list: string[] } {
  return runInNewContext('({ error: new TypeError("refused in a sandbox"), date: new Date(0), list: ["bob@example.org"] })');
}

describe('values from another realm', () => {
  it('are neither Error, Date nor Array by instanceof here, which is why they need care', () => {
    const realm = otherRealm();
    expect(realm.error instanceof Error).toBe(false);
    expect(realm.date instanceof Date).toBe(false);
    // biome-ignore lint/suspicious/useIsArray: the point is that instanceof fails across realms
    expect(realm.list instanceof Array).toBe(false);
  });

  it('keep their message, time and items in the live filters', () => {
    const realm = otherRealm();
    expect(textOf(realm.error)).toBe('refused in a sandbox');
    expect(textOf(realm.date)).toBe('1970-01-01T00:00:00.000Z');
    expect(textOf(realm.list)).toBe('bob@example.org');
  });

  it('are found by the history by text and by key, and written whole by the JSON tracer', async () => {
    const lines: string[] = [];
    const telemetry = createTelemetry({ history: {}, levels: { 'smtp.error': 'info', 'delivery.failed': 'info' } });
    telemetry.subscribe({}, (batch) => {
      for (const event of batch) lines.push(jsonLine(event, ''));
    });
    const realm = otherRealm();
    telemetry.emit('smtp.error', { code: 451, reason: 'sandboxed', causedBy: realm.error, to: realm.list });
    telemetry.emit('delivery.failed', { queueId: 7, to: realm.list, expires: realm.date });
    const byText = await telemetry.history.events({ text: 'refused in a sandbox' });
    expect(byText.items.map((e) => e.type)).toEqual(['smtp.error']);
    const byDate = await telemetry.history.events({ keys: { expires: '1970-01-01T00:00:00.000Z' } });
    expect(byDate.items.map((e) => e.type)).toEqual(['delivery.failed']);
    const byRecipient = await telemetry.history.events({ keys: { to: 'bob@example.org' } });
    expect(byRecipient.items).toHaveLength(2);
    await telemetry.flush();
    const json = lines
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const error = json.find((line) => line.event === 'smtp.error');
    expect(JSON.stringify(error)).toContain('refused in a sandbox');
    expect(JSON.stringify(json.find((line) => line.event === 'delivery.failed'))).toContain('1970-01-01T00:00:00.000Z');
    await telemetry.shutdown();
  });
});
