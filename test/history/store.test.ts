import { describe, expect, it } from 'vitest';
import { type HistoryRecords, type HistoryStore, MemoryHistoryStore } from '../../src/index.js';
import { make } from '../support/telemetry.js';

/** A store over the memory store whose writes and reads can be made to fail, as a full disk would. */
class FlakyStore implements HistoryStore {
  readonly inner = new MemoryHistoryStore({ events: 100, traces: 10, series: 100 });
  failWrites = false;
  failReads = false;
  closed = 0;
  async append(records: HistoryRecords): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failWrites) throw new Error('disk full');
    this.inner.append(records);
  }
  events(...args: Parameters<MemoryHistoryStore['events']>) {
    if (this.failReads) throw new Error('database is locked');
    return this.inner.events(...args);
  }
  traces(...args: Parameters<MemoryHistoryStore['traces']>) {
    return this.inner.traces(...args);
  }
  trace(...args: Parameters<MemoryHistoryStore['trace']>) {
    return this.inner.trace(...args);
  }
  series(...args: Parameters<MemoryHistoryStore['series']>) {
    return this.inner.series(...args);
  }
  purge(...args: Parameters<MemoryHistoryStore['purge']>) {
    this.inner.purge(...args);
  }
  close() {
    this.closed++;
  }
}

describe('a custom HistoryStore', () => {
  it('is written asynchronously, waited for by flush and queries, and closed once on shutdown', async () => {
    const store = new FlakyStore();
    const telemetry = make({ history: { store } });
    telemetry.emit('smtp.ehlo', { domain: 'a.test' });
    await telemetry.flush();
    expect((await telemetry.history.events()).items.map((e) => e.data.domain)).toEqual(['a.test']);
    await telemetry.shutdown();
    await telemetry.shutdown();
    expect(store.closed).toBe(1);
  });

  it('reports failed writes as telemetry.subscriber-error, and failed reads as a rejection or a 500', async () => {
    const store = new FlakyStore();
    const telemetry = make({ history: { store, authorize: () => true } });
    const errors: Record<string, unknown>[] = [];
    telemetry.on('telemetry.subscriber-error', (e) => errors.push({ ...e.data }));
    store.failWrites = true;
    telemetry.emit('smtp.ehlo', { domain: 'lost.test' });
    await telemetry.flush();
    await telemetry.flush();
    expect(errors).toEqual([expect.objectContaining({ id: 'history.events', reason: 'disk full' })]);
    store.failWrites = false;
    store.failReads = true;
    await expect(telemetry.history.events()).rejects.toThrow('database is locked');
    const response = await telemetry.handlers.history.fetch(new Request('http://localhost/api/telemetry/events'));
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(body).toContain('Internal error');
    expect(body).not.toContain('database is locked');
  });
});
