import type { Level } from '../base/levels.js';
import type { Sink, SinkContext } from '../core/sink.js';
import type { OtelTracerOptions } from '../otel/tracer.js';
import type { FileTracerOptions } from './file.js';
import type { PinoTracerOptions } from './pino.js';

/** Options every tracer takes. */
export interface TracerCommonOptions {
  /**
   * Names the tracer in stats and error events.
   * @default the type and its position, such as `console-0`
   */
  readonly id?: string;
  /**
   * The least severe level written.
   * @default 'info'
   */
  readonly level?: Level;
  /**
   * Event names or wildcards to write.
   * @default ['*']
   */
  readonly events?: readonly string[];
  /**
   * Event names or wildcards to leave out.
   * @default []
   */
  readonly exclude?: readonly string[];
  /**
   * When the queue is full, drop the oldest events (true) or refuse the newest (false); both are counted.
   * @default false
   */
  readonly lossy?: boolean;
  /**
   * Most events queued for the sink.
   * @default 10_240 when lossy, 100_000 otherwise
   */
  readonly maxQueue?: number;
  /**
   * Keys written as `[redacted]` by this tracer, on top of the telemetry-wide `sensitiveKeys`.
   * @default []
   */
  readonly redact?: readonly string[];
}

/** A console tracer: Stalwart's text line, or JSON lines, on stderr or stdout. */
export interface ConsoleTracerOptions extends TracerCommonOptions {
  readonly type: 'console';
  /**
   * The stream written to.
   * @default 'stderr'
   */
  readonly stream?: 'stderr' | 'stdout';
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
   * Text format: ANSI colours; `auto` uses them when the stream is a TTY.
   * @default 'auto'
   */
  readonly ansi?: boolean | 'auto';
  /**
   * Prefixes each line with its syslog priority (`<3>` ... `<7>`), which systemd-journald reads
   * from stderr, so levels reach the journal without a native module.
   * @default false
   */
  readonly journald?: boolean;
}

/** A tracer over the host's own sink. */
export interface CustomTracerOptions extends TracerCommonOptions {
  readonly type: 'custom';
  /** The sink, or a function that makes it from the context. */
  readonly sink: Sink | ((context: SinkContext) => Sink);
}

/** A tracer: where events are written, and which ones. */
export type TracerOptions =
  | ConsoleTracerOptions
  | FileTracerOptions
  | PinoTracerOptions
  | OtelTracerOptions
  | CustomTracerOptions;
