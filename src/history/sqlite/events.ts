import type { DatabaseSync } from 'node:sqlite';
import { LEVELS, type Level } from '../../base/levels.js';
import { matchPattern } from '../../base/patterns.js';
import { encodeEventCursor, type KeyCondition, matchesKey, matchesText, ownValue, type ResolvedEventQuery } from '../query.js';
import { spanIdOf } from '../rows.js';
import type { HistoryEvent, Page } from '../types.js';
import { SPAN_SEED } from './batch.js';
import { keySeed, lineOf, linesWith, type StoredBlock, valueHash } from './block.js';
import { type BlockSummaries, type BlockSummary, mayHold } from './summaries.js';
import { readBlock } from './write.js';

/** A match found, before the page is cut. */
interface Found {
  readonly id: number;
  readonly node: number;
  readonly block: StoredBlock;
  readonly line: number;
  readonly data: Record<string, unknown>;
}

/** A query as the blocks are searched with it. */
interface Plan {
  readonly q: ResolvedEventQuery;
  /** Hashes of the exact conditions on keys, and of the span id; used where a block indexed the key. */
  readonly hashed: readonly { readonly key: string | undefined; readonly hash: number }[];
  /** Text each matching line must contain, as written (`exact`) or lower-cased. */
  readonly exact: readonly string[];
  readonly lower: readonly string[];
  readonly typeOk: Map<string, boolean>;
  /** The key set last seen, and which of `hashed` it covers. */
  keys: ReadonlySet<string> | undefined;
  covered: readonly boolean[];
}

/**
 * The events matching `q`, newest first, paged by event id (and node, when two nodes wrote one id).
 * Blocks are picked by their summaries, newest first; in each, the lines that the index hashes (or
 * the metadata) allow are checked on their raw text, then parsed and checked exactly with the
 * memory store's own matchers, so both stores answer alike.
 */
export function queryEvents(
  db: DatabaseSync,
  summaries: BlockSummaries,
  q: ResolvedEventQuery,
  node: number | undefined,
  nodeName: (node: number) => string | undefined,
): Page<HistoryEvent> {
  const plan = planOf(q);
  const found: Found[] = [];
  const want = q.limit + 1;
  const blocks = summaries.current(db);
  for (let b = 0; b < blocks.length; b++) {
    const summary = blocks[b] as BlockSummary;
    if ((node !== undefined && summary.node !== node) || !mayMatch(summary, plan)) continue;
    if (found.length >= want && (found[want - 1] as Found).id > summary.last) break;
    const block = readBlock(db, summary.id);
    if (block === undefined) {
      summaries.forget(summary.id);
      continue;
    }
    searchBlock(block, summary, plan, want, found);
    found.sort((a, b) => b.id - a.id || b.node - a.node);
    if (found.length > want) found.length = want;
  }
  const page = found.slice(0, q.limit);
  const items = page.map((f) => eventOf(f, nodeName));
  if (found.length <= q.limit) return { items };
  const last = page.at(-1) as Found;
  // Two nodes may have written one id: then the cursor says which of them the page ended on.
  const tie = (found[q.limit] as Found).id === last.id;
  return { items, cursor: tie ? encodeEventCursor(last.id, last.node) : encodeEventCursor(last.id) };
}

function planOf(q: ResolvedEventQuery): Plan {
  const hashed: { key: string | undefined; hash: number }[] = [];
  const exact: string[] = [];
  const lower: string[] = [];
  for (const c of q.keys) {
    if (c.exact !== undefined) {
      hashed.push({ key: c.key, hash: valueHash(keySeed(c.key), c.exact) });
      if (plainText(c.exact)) exact.push(c.exact);
    } else if (c.contains !== undefined && plainText(c.contains)) lower.push(c.contains);
  }
  if (q.spanId !== undefined) hashed.push({ key: undefined, hash: valueHash(SPAN_SEED, q.spanId) });
  if (q.text !== undefined && plainText(q.text)) lower.push(q.text);
  return { q, hashed, exact, lower, typeOk: new Map(), keys: undefined, covered: [] };
}

/**
 * True when a value holding `text` writes it as is in its JSON line, so the raw line can be
 * searched first: nothing JSON escapes, and no character whose lower case depends on its neighbours.
 */
function plainText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x2028 || c === 0x2029 || (c >= 0xd800 && c <= 0xdfff)) return false;
    if (c === 0x3a3 || c === 0x3c2 || c === 0x3c3) return false; // capital, final and small sigma
  }
  return true;
}

function typeMatches(plan: Plan, type: string): boolean {
  const patterns = plan.q.types;
  if (patterns === undefined) return true;
  let ok = plan.typeOk.get(type);
  if (ok === undefined) {
    ok = patterns.some((p) => matchPattern(p, type));
    plan.typeOk.set(type, ok);
  }
  return ok;
}

/** Whether a block may hold a match, by its summary alone. */
function mayMatch(s: BlockSummary, plan: Plan): boolean {
  const { q } = plan;
  if (q.before !== undefined && !(s.first < q.before || (q.beforeSeq !== undefined && s.first === q.before))) return false;
  if (s.tsMax < q.from || s.tsMin > q.to) return false;
  if (s.levels >> q.minLevel === 0) return false;
  if (q.types !== undefined && !s.types.some((t) => typeMatches(plan, t))) return false;
  const hashed = plan.hashed;
  if (hashed.length === 0) return true;
  // Blocks written with the same index keys share one set: which conditions it covers is asked once per set.
  if (s.keys !== plan.keys) {
    plan.keys = s.keys;
    plan.covered = hashed.map(({ key }) => key === undefined || s.keys.has(key));
  }
  for (let i = 0; i < hashed.length; i++)
    if (plan.covered[i] === true && !mayHold(s, (hashed[i] as Plan['hashed'][number]).hash)) return false;
  return true;
}

/** Adds to `found` the block's matches, newest first, at most `want` of them. */
function searchBlock(block: StoredBlock, summary: BlockSummary, plan: Plan, want: number, found: Found[]): void {
  const { q } = plan;
  let lines: Uint32Array | undefined;
  for (const { key, hash } of plan.hashed) {
    if (key !== undefined && !summary.keys.has(key)) continue;
    const with_ = linesWith(block, hash);
    if (with_ === undefined) return;
    lines = lines === undefined ? with_ : intersect(lines, with_);
  }
  let added = 0;
  const count = lines === undefined ? block.count : lines.length;
  for (let n = count - 1; n >= 0 && added < want; n--) {
    const i = lines === undefined ? n : (lines[n] as number);
    const id = block.ids[i] as number;
    if (q.before !== undefined && !(id < q.before || (q.beforeSeq !== undefined && id === q.before && block.node < q.beforeSeq)))
      continue;
    const time = block.times[i] as number;
    if (time < q.from || time > q.to) continue;
    if ((block.severities[i] as number) < q.minLevel) continue;
    if (!typeMatches(plan, block.types[block.kinds[i] as number] as string)) continue;
    if (q.spanId !== undefined) {
      if (spanText(block, i) !== q.spanId) continue;
    }
    const line = lineOf(block, i);
    if (!rawMatch(line, plan)) continue;
    const data = parse(line);
    if (!q.keys.every((c: KeyCondition) => matchesKey(ownValue(data, c.key), c))) continue;
    if (q.text !== undefined && !matchesText(data, q.text)) continue;
    found.push({ id, node: block.node, block, line: i, data });
    added++;
  }
}

function rawMatch(line: string, plan: Plan): boolean {
  for (const text of plan.exact) if (!line.includes(text)) return false;
  if (plan.lower.length === 0) return true;
  const lower = line.toLowerCase();
  for (const text of plan.lower) if (!lower.includes(text)) return false;
  return true;
}

function parse(line: string): Record<string, unknown> {
  try {
    const data = JSON.parse(line) as unknown;
    return typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Each block's span column, split once. */
const spanLists = new WeakMap<StoredBlock, readonly string[]>();

/** The span id text of line `i`, if it has one. */
function spanText(block: StoredBlock, i: number): string | undefined {
  let spans = spanLists.get(block);
  if (spans === undefined) {
    spans = block.spans.split('\n');
    spanLists.set(block, spans);
  }
  const entry = spans[i];
  return entry === undefined || entry === '' ? undefined : (JSON.parse(entry) as string);
}

/** The lines in both sorted lists. */
function intersect(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    while (j < b.length && (b[j] as number) < x) j++;
    if (j < b.length && b[j] === x) out.push(x);
  }
  return Uint32Array.from(out);
}

function eventOf(f: Found, nodeName: (node: number) => string | undefined): HistoryEvent {
  const { block, line: i } = f;
  const node = nodeName(f.node);
  const event = {
    id: f.id,
    type: block.types[block.kinds[i] as number] as string,
    level: LEVELS[block.severities[i] as number] as Level,
    timestamp: block.times[i] as number,
    data: f.data,
    ...(node === undefined ? {} : { node }),
  };
  const span = spanText(block, i);
  return span === undefined ? event : { ...event, spanId: spanIdOf(span) };
}
