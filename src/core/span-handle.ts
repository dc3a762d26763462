import type { SpanState } from './spans.js';
import { EMIT_IN_SPAN, END_SPAN } from './symbols.js';

type Data = Readonly<Record<string, unknown>>;

/** The symbol under which a span handle keeps its state. */
export const SPAN_STATE: unique symbol = Symbol('mail-telemetry.span');

/** What a span handle calls on its instance. */
export interface SpanHost {
  [EMIT_IN_SPAN](span: SpanState, name: string, input?: unknown): void;
  [END_SPAN](span: SpanState, data: unknown): void;
}

/** A span handle as returned by `span()`. */
export class SpanHandle {
  readonly id: number;
  readonly [SPAN_STATE]: SpanState;
  readonly #host: SpanHost;

  constructor(host: SpanHost, state: SpanState) {
    this.id = state.id;
    this[SPAN_STATE] = state;
    this.#host = host;
  }

  /** True once `end()` has been called. */
  get ended(): boolean {
    return this[SPAN_STATE].ended;
  }

  /** Emits an event in this span: it carries the span's id and keys. */
  emit(name: string, input?: unknown): void {
    this.#host[EMIT_IN_SPAN](this[SPAN_STATE], name, input);
  }

  /**
   * Emits the span's end event (with `elapsed` in ms unless given) and closes it. Data may be a
   * function, called once. Later calls do nothing.
   */
  end(data?: Data | (() => Data)): void {
    this.#host[END_SPAN](this[SPAN_STATE], data);
  }
}
