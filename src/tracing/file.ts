import type { FileHandle } from 'node:fs/promises';
import { fs, fsPromises, path, streamPromises, zlib } from '../base/builtins.js';
import { TelemetryConfigError } from '../base/errors.js';
import { isoTime } from '../base/json.js';
import { boolean, integer, oneOf } from '../base/validate.js';
import { WRITE_CHARS } from '../base/write-size.js';
import type { TelemetryEvent } from '../catalog/types.js';
import type { Sink, SinkContext } from '../core/sink.js';
import { linesOf } from './lines.js';
import type { TracerCommonOptions } from './options.js';

/**
 * A file tracer: text or JSON lines appended to a log file in a directory, rotated by time and size.
 *
 * File names are `<prefix>.<period>.log`, where the period is the UTC `YYYY-MM-DD` (daily),
 * `YYYY-MM-DDTHH` (hourly) or `YYYY-MM-DDTHH-mm` (minutely) of the telemetry clock, or
 * `<prefix>.log` when `rotate` is `never`. When `maxSize` starts a new file within one period, the
 * next files are `<prefix>.<period>.1.log`, `<prefix>.<period>.2.log`... (`<prefix>.1.log`... with
 * `never`): the file with the highest number is the active one. Gzipped rotated files keep their
 * name with `.gz` appended.
 */
export interface FileTracerOptions extends TracerCommonOptions {
  readonly type: 'file';
  /** The directory the log files are written in; created (with its parents) when missing. */
  readonly path: string;
  /**
   * The start of every file name: letters, digits, `.`, `_` and `-`.
   * @default 'mail-telemetry'
   */
  readonly prefix?: string;
  /**
   * `text`: `<RFC 3339 time> <LEVEL> <description> (<event>) key = value, ...`; `json`: one object per line.
   * @default 'text'
   */
  readonly format?: 'text' | 'json';
  /**
   * Text format: each key on its own line.
   * @default false
   */
  readonly multiline?: boolean;
  /**
   * When a new file is started, by the UTC period of the telemetry clock; `never` keeps one file
   * (rotated only by `maxSize`).
   * @default 'daily'
   */
  readonly rotate?: 'daily' | 'hourly' | 'minutely' | 'never';
  /**
   * Bytes: a new file is also started when the next line would make the current one larger
   * (a single line larger than this still goes into a file of its own).
   * @default undefined (no size rotation)
   */
  readonly maxSize?: number;
  /**
   * Retention: the most rotated files kept (the active file is not counted); the oldest are deleted
   * after each rotation.
   * @default undefined (all files are kept)
   */
  readonly maxFiles?: number;
  /**
   * Compresses each rotated file with gzip (to `<name>.log.gz`) after a rotation; the active file
   * is never compressed.
   * @default false
   */
  readonly gzip?: boolean;
}

/** The options specific to a file tracer, on top of the common ones. */
export const FILE_TRACER_KEYS: readonly string[] = [
  'path',
  'prefix',
  'format',
  'multiline',
  'rotate',
  'maxSize',
  'maxFiles',
  'gzip',
];

const PREFIX = /^[a-zA-Z0-9._-]+$/;
const ROTATE = ['daily', 'hourly', 'minutely', 'never'] as const;

/** Validates the options of a file tracer at `path` (such as `options.tracers[0]`). */
export function checkFileOptions(t: Record<string, unknown>, path: string): void {
  if (typeof t.path !== 'string' || t.path.length === 0)
    throw new TelemetryConfigError(`${path}.path`, t.path, 'a directory path');
  if (t.prefix !== undefined && (typeof t.prefix !== 'string' || !PREFIX.test(t.prefix)))
    throw new TelemetryConfigError(`${path}.prefix`, t.prefix, 'letters, digits, ., _ and -');
  oneOf(t.format, `${path}.format`, 'text', ['text', 'json']);
  oneOf(t.rotate, `${path}.rotate`, 'daily', ROTATE);
  boolean(t.multiline, `${path}.multiline`, false);
  boolean(t.gzip, `${path}.gzip`, false);
  integer(t.maxSize, `${path}.maxSize`, 0, 1);
  integer(t.maxFiles, `${path}.maxFiles`, 0, 1);
}

/** The UTC period of `time` that names the file, or '' for `never`. */
function periodOf(rotate: FileTracerOptions['rotate'], time: number): string {
  if (rotate === 'never') return '';
  // isoTime never throws: a clock that returns NaN names the file after the epoch, not a lost batch.
  const iso = isoTime(time);
  if (rotate === 'hourly') return iso.slice(0, 13);
  if (rotate === 'minutely') return `${iso.slice(0, 13)}-${iso.slice(14, 16)}`;
  return iso.slice(0, 10);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function code(error: unknown): string | undefined {
  return (error as { code?: unknown } | null)?.code as string | undefined;
}

/** A log file of this sink found in the directory. */
interface Found {
  /** The name without `.gz`. */
  readonly base: string;
  readonly period: string;
  readonly index: number;
  readonly gz: boolean;
}

/**
 * Appends each batch to the active log file through one kept `fs.promises` handle (flag `a`). The
 * returned promise resolves once the batch is written, so the tracer's bounded queue absorbs bursts.
 *
 * Failures never throw: they are reported with `context.report` (the tracer's error event). A batch
 * that cannot be written is dropped (no retry buffer) and the report says how many events were
 * lost; the next batch opens the file again, recreating the directory, so logging resumes as soon
 * as the path is usable. Before each batch the active file is checked with `stat`: when it was
 * removed or replaced (its directory deleted, or moved by an external logrotate), that is reported
 * and a new file is opened, so the batch is not lost.
 *
 * After a rotation, retention (`maxFiles`) and then `gzip` run in the background, one rotation at a
 * time, never delaying writes. `flush()` waits for both the pending writes and that background work;
 * `close()` flushes, `fdatasync`s and closes the handle; between batches, data is handed to the operating system without a sync.
 */
export function fileSink(options: FileTracerOptions, context: SinkContext): Sink {
  const { createReadStream, createWriteStream } = fs();
  const { mkdir, open, readdir, rename, stat, unlink } = fsPromises();
  const { join, resolve } = path();
  const { pipeline } = streamPromises();
  const { createGzip } = zlib();
  const dir = resolve(options.path);
  const prefix = options.prefix ?? 'mail-telemetry';
  const rotate = options.rotate ?? 'daily';
  const format = {
    json: options.format === 'json',
    text: { multiline: options.multiline === true, ansi: false, journald: false },
  };
  const { maxSize, maxFiles } = options;
  const gzip = options.gzip === true;
  const pattern = new RegExp(
    `^${escapeRegExp(prefix)}(?:\\.(\\d{4}-\\d{2}-\\d{2}(?:T\\d{2}(?:-\\d{2})?)?))?(?:\\.(\\d+))?\\.log(\\.gz)?$`,
  );

  let handle: FileHandle | undefined;
  /** The active file's name, period, size index and size in bytes. */
  let active = '';
  let period = '';
  let index = 0;
  let size = 0;
  let closed = false;
  /** The write queue: every operation on the handle runs after the previous one. */
  let tail: Promise<void> = Promise.resolve();
  /** Retention and compression after rotations. */
  let housekeeping: Promise<void> = Promise.resolve();

  const nameOf = (p: string, i: number) => `${prefix}${p === '' ? '' : `.${p}`}${i === 0 ? '' : `.${i}`}.log`;

  const exists = async (file: string) => {
    try {
      await stat(file);
      return true;
    } catch {
      return false;
    }
  };

  const release = async () => {
    const h = handle;
    handle = undefined;
    if (h !== undefined) await h.close().catch(() => undefined);
  };

  /** Opens the first usable file of period `p` from index `from`: not gzipped already, not full. */
  const openFile = async (p: string, from: number) => {
    await mkdir(dir, { recursive: true });
    for (let i = from; ; i++) {
      const name = nameOf(p, i);
      const file = join(dir, name);
      if (await exists(`${file}.gz`)) continue;
      const h = await open(file, 'a');
      const current = (await h.stat()).size;
      if (maxSize !== undefined && current >= maxSize) {
        await h.close();
        continue;
      }
      handle = h;
      active = name;
      period = p;
      index = i;
      size = current;
      return;
    }
  };

  /** Closes the active file and opens the next one; then tidies up in the background. */
  const rotateTo = async (p: string, from: number) => {
    await release();
    await openFile(p, from);
    if (gzip || maxFiles !== undefined) {
      housekeeping = housekeeping.then(tidy).catch((error) => context.report(error, 'log file housekeeping failed'));
    }
  };

  /** Makes sure a handle is open on the right file for `p`; reports a vanished file. */
  const ensure = async (p: string) => {
    if (handle === undefined) return openFile(p, 0);
    const file = join(dir, active);
    try {
      const [onDisk, held] = await Promise.all([stat(file), handle.stat()]);
      if (onDisk.ino !== held.ino || onDisk.dev !== held.dev) throw new Error(`${file} was replaced by another file`);
    } catch (error) {
      await release();
      // Reported only once reopening works; otherwise the reopen error is reported, with the loss.
      await openFile(p, 0);
      context.report(error, `log file ${file} was removed or replaced; reopened`);
    }
    if (p !== period) await rotateTo(p, 0);
  };

  const append = async (data: string) => {
    const buffer = Buffer.from(data, 'utf8');
    let offset = 0;
    while (offset < buffer.length) {
      const { bytesWritten } = await (handle as FileHandle).write(buffer, offset);
      offset += bytesWritten;
    }
    size += buffer.length;
  };

  const writeLines = async (lines: readonly string[]) => {
    let written = 0;
    let chunk = '';
    let chunkBytes = 0;
    let chunkLines = 0;
    const flush = async () => {
      if (chunk !== '') await append(chunk);
      written += chunkLines;
      chunk = '';
      chunkBytes = 0;
      chunkLines = 0;
    };
    try {
      await ensure(periodOf(rotate, context.now()));
      for (const line of lines) {
        const bytes = Buffer.byteLength(line, 'utf8');
        if (maxSize !== undefined && size + chunkBytes > 0 && size + chunkBytes + bytes > maxSize) {
          await flush();
          await rotateTo(period, index + 1);
        }
        chunk += line;
        chunkBytes += bytes;
        chunkLines++;
        if (chunk.length >= WRITE_CHARS) await flush();
      }
      await flush();
    } catch (error) {
      await release();
      const lost = lines.length - written;
      context.report(error, `log file write failed in ${dir}: ${lost} event${lost === 1 ? '' : 's'} dropped`);
    }
  };

  /** Retention, then compression, of the rotated files (every matching file but the active one). */
  const tidy = async () => {
    const found: Found[] = [];
    for (const name of await readdir(dir)) {
      const m = pattern.exec(name);
      if (m === null) continue;
      const gz = m[3] !== undefined;
      found.push({ base: gz ? name.slice(0, -3) : name, period: m[1] ?? '', index: Number(m[2] ?? 0), gz });
    }
    const rotated = found.filter((f) => f.base !== active);
    if (maxFiles !== undefined) {
      const bases = new Map<string, Found>();
      for (const f of rotated) bases.set(f.base, f);
      const ordered = [...bases.values()].sort((a, b) =>
        a.period === b.period ? a.index - b.index : a.period < b.period ? -1 : 1,
      );
      const doomed = new Set(ordered.slice(0, Math.max(0, ordered.length - maxFiles)).map((f) => f.base));
      for (const f of rotated) {
        if (!doomed.has(f.base) || f.base === active) continue;
        await unlink(join(dir, f.gz ? `${f.base}.gz` : f.base)).catch((error) => {
          if (code(error) !== 'ENOENT') context.report(error, `could not delete old log file ${f.base}`);
        });
      }
      for (let i = rotated.length - 1; i >= 0; i--) if (doomed.has((rotated[i] as Found).base)) rotated.splice(i, 1);
    }
    if (gzip) {
      for (const f of rotated) {
        if (f.gz || f.base === active) continue;
        const file = join(dir, f.base);
        try {
          await pipeline(createReadStream(file), createGzip(), createWriteStream(`${file}.gz.tmp`));
          await rename(`${file}.gz.tmp`, `${file}.gz`);
          await unlink(file);
        } catch (error) {
          await unlink(`${file}.gz.tmp`).catch(() => undefined);
          if (code(error) !== 'ENOENT') context.report(error, `could not gzip log file ${f.base}`);
        }
      }
    }
  };

  const enqueue = (job: () => Promise<void>): Promise<void> => {
    tail = tail.then(job);
    return tail;
  };

  return {
    write(batch: readonly TelemetryEvent[]) {
      if (closed || batch.length === 0) return;
      const lines = linesOf(batch, format, context);
      if (lines.length === 0) return;
      return enqueue(() => writeLines(lines));
    },
    async flush() {
      await tail;
      await housekeeping;
    },
    async close() {
      closed = true;
      await tail;
      await housekeeping;
      // At shutdown the data should survive a crash of the machine too, not only of the process.
      await enqueue(async () => {
        await handle?.datasync().catch((error: unknown) => context.report(error, 'could not sync the log file'));
      });
      await enqueue(release);
    },
  };
}
