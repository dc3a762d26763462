/**
 * A block: up to {@link BLOCK_EVENTS} events of one node in one row. Their data JSON lines, joined
 * by newlines (JSON never writes a raw one), and beside them what queries read before any line is
 * parsed: each line's id, time, level and type in a binary column, the span ids, and the hashes of
 * the block's distinct indexed values, each with the lines that hold it.
 */

/** Most events in one block. */
export const BLOCK_EVENTS = 256;

/** The pseudo-key under which span ids are hashed (no query key can be named so). */
export const SPAN_KEY = '#span';

/** One block's column values, as written. */
export interface BlockRow {
  readonly node: number;
  readonly first: number;
  readonly last: number;
  readonly tsMin: number;
  readonly tsMax: number;
  readonly count: number;
  /** Bit `1 << severity` for each level present. */
  readonly levels: number;
  /** The distinct types, as a JSON array; `kinds` index it. */
  readonly types: string;
  /** The index keys the hashes cover, newline-joined. */
  readonly keyset: string;
  /** Sorted distinct value hashes (Uint32). */
  readonly hashes: Uint8Array;
  /** Per hash, where its lines start in the rest, then the lines (Uint32). */
  readonly postings: Uint8Array;
  /** Ids and times (Float64), line ends (Uint32), type numbers (Uint16), severities (Uint8). */
  readonly meta: Uint8Array;
  /** Each line's span id as JSON text, or empty; newline-joined. */
  readonly spans: string;
  readonly data: string;
}

/** A block as read back, its columns decoded. */
export interface StoredBlock {
  readonly id: number;
  readonly node: number;
  readonly count: number;
  readonly ids: Float64Array;
  readonly times: Float64Array;
  /** Line `i` is `data.slice(i === 0 ? 0 : ends[i - 1] + 1, ends[i])`. */
  readonly ends: Uint32Array;
  readonly kinds: Uint16Array;
  readonly severities: Uint8Array;
  readonly types: readonly string[];
  readonly keyset: string;
  readonly hashes: Uint32Array;
  readonly postings: Uint32Array;
  readonly spans: string;
  readonly data: string;
}

/** Events read for storage, in flat columns; `keyEnds[i]` is where event `i`'s value hashes end. */
export interface EventColumns {
  readonly ids: number[];
  readonly times: number[];
  readonly severities: number[];
  readonly types: string[];
  /** Span ids as text, or undefined. */
  readonly spans: (string | undefined)[];
  readonly json: string[];
  readonly hashes: number[];
  readonly keyEnds: number[];
}

export function emptyColumns(): EventColumns {
  return { ids: [], times: [], severities: [], types: [], spans: [], json: [], hashes: [], keyEnds: [] };
}

/** Adds one event to `columns`, after its value hashes have been pushed to `columns.hashes`. */
export function addEvent(
  columns: EventColumns,
  id: number,
  time: number,
  severity: number,
  type: string,
  span: string | undefined,
  json: string,
): void {
  columns.ids.push(id);
  columns.times.push(time);
  columns.severities.push(severity);
  columns.types.push(type);
  columns.spans.push(span);
  columns.json.push(json);
  columns.keyEnds.push(columns.hashes.length);
}

/** Bytes of the meta column for `n` lines. */
function metaLayout(n: number): { times: number; ends: number; kinds: number; severities: number; size: number } {
  const times = 8 * n;
  const ends = 16 * n;
  const kinds = ends + 4 * n;
  const severities = kinds + 2 * n;
  return { times, ends, kinds, severities, size: severities + n };
}

/** The row of the events at positions `order` of `columns` (ids ascending), written by node `node`. */
export function encodeBlock(columns: EventColumns, order: readonly number[], node: number, keyset: string): BlockRow {
  const n = order.length;
  const layout = metaLayout(n);
  const buffer = new ArrayBuffer(layout.size);
  const ids = new Float64Array(buffer, 0, n);
  const times = new Float64Array(buffer, layout.times, n);
  const ends = new Uint32Array(buffer, layout.ends, n);
  const kinds = new Uint16Array(buffer, layout.kinds, n);
  const severities = new Uint8Array(buffer, layout.severities, n);
  const typeNumbers = new Map<string, number>();
  const typeNames: string[] = [];
  const lines = new Array<string>(n);
  const spans = new Array<string>(n);
  let pairs = 0;
  for (let i = 0; i < n; i++) {
    const e = order[i] as number;
    pairs += (columns.keyEnds[e] as number) - (e === 0 ? 0 : (columns.keyEnds[e - 1] as number));
  }
  const pairHashes = new Uint32Array(pairs);
  const pairLines = new Uint32Array(pairs);
  let tsMin = Number.POSITIVE_INFINITY;
  let tsMax = Number.NEGATIVE_INFINITY;
  let levels = 0;
  let lastType: string | undefined;
  let lastKind = 0;
  let lastSpan: string | undefined;
  let spanJson = '';
  let end = -1;
  let p = 0;
  for (let i = 0; i < n; i++) {
    const e = order[i] as number;
    const time = columns.times[e] as number;
    const severity = columns.severities[e] as number;
    const type = columns.types[e] as string;
    const json = columns.json[e] as string;
    ids[i] = columns.ids[e] as number;
    times[i] = time;
    if (time < tsMin) tsMin = time;
    if (time > tsMax) tsMax = time;
    severities[i] = severity;
    levels |= 1 << severity;
    if (type !== lastType) {
      lastType = type;
      lastKind = typeNumbers.get(type) ?? -1;
      if (lastKind < 0) {
        lastKind = typeNames.length;
        typeNames.push(type);
        typeNumbers.set(type, lastKind);
      }
    }
    kinds[i] = lastKind;
    end += json.length + 1;
    ends[i] = end;
    lines[i] = json;
    // A span's events come in runs: its JSON is written once per run.
    const span = columns.spans[e];
    if (span !== lastSpan) {
      lastSpan = span;
      spanJson = span === undefined ? '' : JSON.stringify(span);
    }
    spans[i] = spanJson;
    for (let h = e === 0 ? 0 : (columns.keyEnds[e - 1] as number); h < (columns.keyEnds[e] as number); h++) {
      pairHashes[p] = columns.hashes[h] as number;
      pairLines[p++] = i;
    }
  }
  const { hashes, postings } = postingsOf(pairHashes, pairLines);
  return {
    node,
    first: ids[0] as number,
    last: ids[n - 1] as number,
    tsMin,
    tsMax,
    count: n,
    levels,
    types: JSON.stringify(typeNames),
    keyset,
    hashes: new Uint8Array(hashes.buffer),
    postings: new Uint8Array(postings.buffer),
    meta: new Uint8Array(buffer),
    spans: spans.join('\n'),
    data: lines.join('\n'),
  };
}

/**
 * Distinct hashes (ascending) and their line lists from (hash, line) pairs in line order: a stable
 * radix sort by hash (three passes of 11 bits) keeps each hash's lines in order.
 */
function postingsOf(pairHashes: Uint32Array, pairLines: Uint32Array): { hashes: Uint32Array; postings: Uint32Array } {
  const n = pairHashes.length;
  let keys: Uint32Array = pairHashes;
  let lines: Uint32Array = pairLines;
  let nextKeys: Uint32Array = new Uint32Array(n);
  let nextLines: Uint32Array = new Uint32Array(n);
  const counts = new Uint32Array(2048);
  for (let shift = 0; shift < 32; shift += 11) {
    counts.fill(0);
    for (let i = 0; i < n; i++) (counts[((keys[i] as number) >>> shift) & 2047] as number)++;
    let sum = 0;
    for (let b = 0; b < 2048; b++) {
      const c = counts[b] as number;
      counts[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const key = keys[i] as number;
      const at = (counts[(key >>> shift) & 2047] as number)++;
      nextKeys[at] = key;
      nextLines[at] = lines[i] as number;
    }
    [keys, nextKeys] = [nextKeys, keys];
    [lines, nextLines] = [nextLines, lines];
  }
  let distinct = 0;
  for (let i = 0; i < n; i++) if (i === 0 || keys[i] !== keys[i - 1]) distinct++;
  const hashes = new Uint32Array(distinct);
  const postings = new Uint32Array(distinct + 1 + n);
  let h = -1;
  for (let i = 0; i < n; i++) {
    if (i === 0 || keys[i] !== keys[i - 1]) {
      h++;
      hashes[h] = keys[i] as number;
      postings[h] = i;
    }
  }
  postings[distinct] = n;
  postings.set(lines, distinct + 1);
  return { hashes, postings };
}

/** A block row as a query reads it back. */
export interface BlockRecord
  extends Pick<BlockRow, 'node' | 'count' | 'types' | 'keyset' | 'hashes' | 'postings' | 'meta' | 'spans' | 'data'> {
  readonly id: number;
}

/** Typed views of a block's columns (copied: the blobs sqlite hands over need not be aligned). */
export function decodeBlock(row: BlockRecord): StoredBlock {
  const n = row.count;
  const layout = metaLayout(n);
  const meta = new Uint8Array(row.meta).buffer;
  return {
    id: row.id,
    node: row.node,
    count: n,
    ids: new Float64Array(meta, 0, n),
    times: new Float64Array(meta, layout.times, n),
    ends: new Uint32Array(meta, layout.ends, n),
    kinds: new Uint16Array(meta, layout.kinds, n),
    severities: new Uint8Array(meta, layout.severities, n),
    types: JSON.parse(row.types) as string[],
    keyset: row.keyset,
    hashes: uint32(row.hashes),
    postings: uint32(row.postings),
    spans: row.spans,
    data: row.data,
  };
}

export function uint32(blob: Uint8Array): Uint32Array {
  return new Uint32Array(new Uint8Array(blob).buffer);
}

/** The JSON text of line `i`. */
export function lineOf(block: StoredBlock, i: number): string {
  return block.data.slice(i === 0 ? 0 : (block.ends[i - 1] as number) + 1, block.ends[i]);
}

/** The lines holding hash `hash` (ascending), or undefined when none does. */
export function linesWith(block: StoredBlock, hash: number): Uint32Array | undefined {
  const at = findHash(block.hashes, hash);
  if (at < 0) return undefined;
  const base = block.hashes.length + 1;
  return block.postings.subarray(base + (block.postings[at] as number), base + (block.postings[at + 1] as number));
}

/** The position of `hash` in sorted `hashes`, or -1. */
export function findHash(hashes: Uint32Array, hash: number): number {
  let lo = 0;
  let hi = hashes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const value = hashes[mid] as number;
    if (value === hash) return mid;
    if (value < hash) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * The row of the lines of `block` that `keep` accepts (in order), its hashes and postings carried
 * over: retention and replaced events rewrite a block without parsing a line. Undefined when none is kept.
 */
export function subsetBlock(block: StoredBlock, keep: (i: number) => boolean): BlockRow | undefined {
  const kept: number[] = [];
  const renumber = new Int32Array(block.count).fill(-1);
  for (let i = 0; i < block.count; i++) {
    if (!keep(i)) continue;
    renumber[i] = kept.length;
    kept.push(i);
  }
  if (kept.length === 0) return undefined;
  const spans = block.spans.split('\n');
  const columns = emptyColumns();
  // Each kept line's hashes, from the postings turned around.
  const perLine: number[][] = kept.map(() => []);
  const base = block.hashes.length + 1;
  for (let h = 0; h < block.hashes.length; h++) {
    for (let p = block.postings[h] as number; p < (block.postings[h + 1] as number); p++) {
      const line = renumber[block.postings[base + p] as number] as number;
      if (line >= 0) (perLine[line] as number[]).push(block.hashes[h] as number);
    }
  }
  kept.forEach((i, k) => {
    columns.hashes.push(...(perLine[k] as number[]));
    const span = spans[i] ?? '';
    addEvent(
      columns,
      block.ids[i] as number,
      block.times[i] as number,
      block.severities[i] as number,
      block.types[block.kinds[i] as number] as string,
      span === '' ? undefined : (JSON.parse(span) as string),
      lineOf(block, i),
    );
  });
  return encodeBlock(
    columns,
    kept.map((_, k) => k),
    block.node,
    block.keyset,
  );
}

/** FNV-1a state after `key` and a separator: the start of every hash of that key's values. */
export function keySeed(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return Math.imul(h ^ 0xff, 0x01000193);
}

/** Characters of a value that its hash reads: a long value costs no more than this, and its length tells it apart. */
const HASHED = 256;

/** The 32-bit hash of a value's text under a key's seed. */
export function valueHash(seed: number, text: string): number {
  let h = seed;
  const end = Math.min(text.length, HASHED);
  for (let i = 0; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return Math.imul(h ^ (text.length & 0xffff), 0x01000193) >>> 0;
}
