import type { DatabaseSync } from 'node:sqlite';
import { findHash, uint32 } from './block.js';
import { statement } from './write.js';

/** What a query reads of a block before choosing to read the block itself. */
export interface BlockSummary {
  readonly id: number;
  readonly node: number;
  readonly first: number;
  readonly last: number;
  readonly tsMin: number;
  readonly tsMax: number;
  readonly levels: number;
  readonly types: readonly string[];
  /** The keys whose values the hashes cover. */
  readonly keys: ReadonlySet<string>;
  readonly hashes: Uint32Array;
  /** 2048 bits, one set for each hash's low 11 bits: most blocks without a hash are told by one bit. */
  readonly filter: Uint32Array;
}

/** True when the block's hashes may include `hash` (the filter first, then the sorted list). */
export function mayHold(s: BlockSummary, hash: number): boolean {
  if (((s.filter[(hash >>> 5) & 63] as number) & (1 << (hash & 31))) === 0) return false;
  return findHash(s.hashes, hash) >= 0;
}

function filterOf(hashes: Uint32Array): Uint32Array {
  const filter = new Uint32Array(64);
  for (let i = 0; i < hashes.length; i++) {
    const hash = hashes[i] as number;
    filter[(hash >>> 5) & 63] = (filter[(hash >>> 5) & 63] as number) | (1 << (hash & 31));
  }
  return filter;
}

interface SummaryRow {
  readonly id: number;
  readonly node: number;
  readonly first_id: number;
  readonly last_id: number;
  readonly ts_min: number;
  readonly ts_max: number;
  readonly levels: number;
  readonly types: string;
  readonly keyset: string;
  readonly hashes: Uint8Array;
}

/**
 * Every block's summary, kept in memory (about 4 bytes per distinct indexed value of a block, and a 256-byte filter), so
 * that a query picks its blocks without reading the others. Blocks only ever come (with a new, higher
 * id) and go, and whoever removes one moves the file's generation on: new ids are read as they
 * come, and a new generation makes the cache drop the blocks that have gone, whichever process
 * wrote or removed them.
 */
export class BlockSummaries {
  readonly #byId = new Map<number, BlockSummary>();
  #newestFirst: BlockSummary[] | undefined;
  #loaded = 0;
  #generation = -1;
  readonly #keysets = new Map<string, ReadonlySet<string>>();

  /** The summaries, newest last id first; brought up to date with the file. */
  current(db: DatabaseSync): readonly BlockSummary[] {
    const generation = Number((statement(db, 'SELECT value FROM generation').get() as { value: number }).value);
    if (generation !== this.#generation) {
      if (this.#generation !== -1) {
        const live = new Set((statement(db, 'SELECT id FROM blocks').all() as { id: number }[]).map((r) => r.id));
        for (const id of this.#byId.keys()) if (!live.has(id)) this.forget(id);
      }
      this.#generation = generation;
    }
    const rows = statement(
      db,
      'SELECT id, node, first_id, last_id, ts_min, ts_max, levels, types, keyset, hashes FROM blocks WHERE id > ? ORDER BY id',
    ).all(this.#loaded) as unknown as SummaryRow[];
    for (const row of rows) {
      const hashes = uint32(row.hashes);
      this.#byId.set(row.id, {
        id: row.id,
        node: row.node,
        first: row.first_id,
        last: row.last_id,
        tsMin: row.ts_min,
        tsMax: row.ts_max,
        levels: row.levels,
        types: JSON.parse(row.types) as string[],
        keys: this.#keyset(row.keyset),
        hashes,
        filter: filterOf(hashes),
      });
      this.#loaded = row.id;
      this.#newestFirst = undefined;
    }
    this.#newestFirst ??= [...this.#byId.values()].sort((a, b) => b.last - a.last || b.node - a.node);
    return this.#newestFirst;
  }

  /** Drops a block that has gone. */
  forget(id: number): void {
    if (this.#byId.delete(id)) this.#newestFirst = undefined;
  }

  /** One set per distinct key set: blocks written with the same keys share it. */
  #keyset(text: string): ReadonlySet<string> {
    let keys = this.#keysets.get(text);
    if (keys === undefined) {
      keys = new Set(text === '' ? [] : text.split('\n'));
      this.#keysets.set(text, keys);
    }
    return keys;
  }
}
