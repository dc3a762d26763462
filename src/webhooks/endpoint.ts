import PQueue from 'p-queue';
import { describeError } from '../base/errors.js';
import { loadedKy, loadKy } from '../base/ky.js';
import type { EventRecord } from '../core/event.js';
import type { MechanismSubscription } from '../core/mechanism.js';
import type { MechanismContext } from '../metrics/api.js';
import type { CounterMetric, GaugeMetric } from '../metrics/instruments.js';
import { drainAnswer } from './answer.js';
import { PendingBuffer } from './buffer.js';
import { IntakeDrops } from './drops.js';
import type { ResolvedWebhook, WebhookDiscardReason } from './options.js';
import { backoff, retryAfter } from './retry.js';
import { body, bodyBytes, type Item, serialize, serializerFor, toEvents } from './serialize.js';
import { Signer } from './signing.js';

/** An endpoint's state: `paused` by the host, `disabled` by a 410 answer (until `resume`). */
export type WebhookState = 'active' | 'paused' | 'disabled';

/** Counters of one endpoint, from `telemetry.webhooks.stats(id)`. */
export interface WebhookStats {
  readonly id: string;
  readonly state: WebhookState;
  /** Events held: waiting for their window, or in a request being sent or retried. */
  readonly pending: number;
  /** Serialised bytes of the pending events. */
  readonly pendingBytes: number;
  /** Events a receiver acknowledged with a 2xx. */
  readonly delivered: number;
  /** Requests acknowledged with a 2xx. */
  readonly requests: number;
  /** Attempts that failed: non-2xx answers, timeouts, connection errors. */
  readonly failed: number;
  /** Attempts that repeated a failed request. */
  readonly retried: number;
  /**
   * Events given up on: stale, over the byte cap, refused by a full intake queue (lossless), too
   * large, endpoint disabled, or shutdown. Each was passed to `onDiscard` once.
   */
  readonly discarded: number;
  /** Events a lossy endpoint dropped to stay under its caps (its intake queue's included). */
  readonly dropped: number;
  /** Events whose data could not be read at all: sent with a note in its place, and reported. */
  readonly unreadable: number;
  /** Failed attempts since the last success. */
  readonly consecutiveFailures: number;
  /** Why the last attempt failed, if it did (never holds a secret). */
  readonly lastError: string | undefined;
  /** When the last request succeeded, in epoch ms. */
  readonly lastSuccessAt: number | undefined;
  /** When the next retry is due, in epoch ms, while one is waiting. */
  readonly retryAt: number | undefined;
}

/** The registry metrics every endpoint updates, labelled by `webhook`. */
export interface WebhookMetrics {
  readonly delivered: CounterMetric<'webhook'>;
  readonly failed: CounterMetric<'webhook'>;
  readonly retried: CounterMetric<'webhook'>;
  readonly discarded: CounterMetric<'webhook'>;
  readonly dropped: CounterMetric<'webhook'>;
  readonly pending: GaugeMetric<'webhook'>;
}

type Outcome =
  | { readonly kind: 'ok'; readonly status: number }
  | { readonly kind: 'gone'; readonly status: number }
  | {
      readonly kind: 'failed';
      readonly reason: string;
      readonly code: number | string;
      readonly retryAfter?: number | undefined;
    };

/** Events cut into one request: its body is built once and resent as is until the events change. */
interface Batch {
  /**
   * The `webhook-id`: the same on every attempt, even after stale events leave the batch (a receiver
   * that processed the larger body already has every event of the smaller one). Halves split off
   * by a 413 get their own.
   */
  messageId: string;
  items: Item[];
  /** Sum of the items' bytes. */
  bytes: number;
  body: Buffer | undefined;
  signature: string | undefined;
}

/** A lossy endpoint's intake queue: room for a burst, so that level-aware dropping sees it. */
const LOSSY_INTAKE = 8192;
/**
 * The intake queue holds events not yet serialised, whose size is unknown: each is charged this
 * many bytes of `maxPendingBytes` (an event record with a few keys), with room for a burst of
 * {@link INTAKE_MIN} events at least.
 */
const INTAKE_EVENT_BYTES = 512;
const INTAKE_MIN = 1024;
/** Milliseconds the intake gathers events before they are serialised, at most. */
const INTAKE_WINDOW = 100;
/** Marks an attempt aborted by its own timeout (as opposed to shutdown). */
const TIMED_OUT = Symbol('attempt timed out');
const DISCARD_DETAILS: Readonly<Record<WebhookDiscardReason, string>> = {
  stale: 'undelivered for longer than discardAfter',
  bytes: 'held bytes over maxPendingBytes',
  dropped: 'lossy endpoint over maxPending: lowest-level events dropped first',
  'queue-full': 'intake queue full: events arrived faster than the endpoint takes them',
  disabled: 'endpoint disabled',
  shutdown: 'undelivered at shutdown',
  'too-large': 'refused with 413 on its own: retrying cannot help',
};

/** One webhook endpoint: its buffer, its ordered request queue and its retry loop. */
export class Endpoint {
  readonly id: string;
  readonly #o: ResolvedWebhook;
  readonly #context: MechanismContext;
  readonly #metrics: WebhookMetrics;
  readonly #labels: { readonly webhook: string };
  readonly #signer: Signer;
  /** Stalwart's body-item writer when the endpoint has a version; undefined: the library's `serialize`, called directly. */
  readonly #stalwart: ((event: EventRecord) => Item) | undefined;
  readonly #buffer = new PendingBuffer();
  /** Concurrency 1: requests leave in order, and one waits while another is in flight. */
  readonly #queue = new PQueue({ concurrency: 1 });
  readonly #batches = new Set<Batch>();
  #subscription: MechanismSubscription | undefined;
  readonly #intakeDrops = new IntakeDrops((events, reason) => this.#intakeDropped(events, reason));
  /** The core's drop callback, made once: it runs inside emits. */
  readonly #onDrop = (event: EventRecord): void => this.#dropped1(event);
  #state: WebhookState = 'active';
  #closed = false;
  #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  /** The batch window has elapsed: cut whatever is held. */
  #due = false;
  #flushing = 0;
  #wait: { readonly wake: () => void; readonly backoff: boolean } | undefined;
  #resumed: { readonly promise: Promise<void>; readonly resolve: () => void } | undefined;
  #delivered = 0;
  #requests = 0;
  #failed = 0;
  #retried = 0;
  #discarded = 0;
  #dropped = 0;
  #unreadable = 0;
  /** Events `close` discarded: what shutdown could not deliver, for its report. */
  #discardedAtClose = 0;
  #consecutiveFailures = 0;
  #lastError: string | undefined;
  #lastSuccessAt: number | undefined;
  #retryAt: number | undefined;

  constructor(context: MechanismContext, options: ResolvedWebhook, metrics: WebhookMetrics) {
    this.id = options.id;
    this.#o = options;
    this.#context = context;
    this.#metrics = metrics;
    this.#labels = { webhook: options.id };
    this.#signer = new Signer(options.signatureKey, options.signing);
    this.#stalwart = options.stalwart === undefined ? undefined : serializerFor(options.stalwart);
    for (const counter of [metrics.delivered, metrics.failed, metrics.retried, metrics.discarded, metrics.dropped])
      counter.inc(this.#labels, 0);
    metrics.pending.set(this.#labels, 0);
    // Refill the waiting slot as soon as a request starts.
    this.#queue.addEventListener('active', () => this.#pump());
    this.#subscribe();
  }

  // -- intake ---------------------------------------------------------------

  #subscribe(): void {
    const o = this.#o;
    this.#subscription = this.#context.subscribe(
      {
        id: `webhook:${o.id}`,
        path: o.path,
        events: o.events,
        exclude: o.exclude,
        level: o.level,
        lossy: o.lossy,
        maxQueue: intakeBound(o),
        maxBatch: 4096,
        // Requests leave once per throttle anyway: gathering the intake costs no latency beyond it.
        // A tenth of a second keeps each intake batch of a busy server to well under a millisecond of work.
        delay: Math.min(o.throttle, INTAKE_WINDOW),
        errorEvent: 'telemetry.webhook-error',
        onDrop: this.#onDrop,
      },
      (batch) => this.#receive(batch),
    );
  }

  #receive(batch: readonly EventRecord[]): void {
    const items = new Array<Item>(batch.length);
    let unreadable: Item | undefined;
    let unreadables = 0;
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i] as EventRecord;
      const item = this.#stalwart === undefined ? serialize(event) : this.#stalwart(event);
      items[i] = item;
      if (item.unreadable !== undefined) {
        unreadable = item;
        unreadables++;
      }
    }
    if (unreadable !== undefined) {
      this.#unreadable += unreadables;
      this.#report('telemetry.webhook-error', {
        reason: `event data could not be serialised: ${unreadable.unreadable}`,
        total: unreadables,
        details: 'sent with a note in place of the data',
      });
    }
    if (this.#closed || this.#state === 'disabled') {
      this.#discard(items, this.#closed ? 'shutdown' : 'disabled');
      return;
    }
    for (const item of items) this.#buffer.push(item);
    this.#enforceLimits();
    this.#pump();
  }

  /** Discards stale events, then what exceeds the byte cap, then (lossy) what exceeds the count cap. */
  #enforceLimits(): void {
    const stale = this.#buffer.expire(this.#context.now() - this.#o.discardAfter);
    if (stale.length > 0) this.#discard(stale, 'stale');
    const held = this.#held();
    if (held.bytes > this.#o.maxPendingBytes) {
      // Requests already cut stay whole; the cap is met from the buffer, oldest first.
      const limit = this.#o.maxPendingBytes - (held.bytes - this.#buffer.bytes);
      const over: Item[] = [];
      while (this.#buffer.size > 0 && this.#buffer.bytes > limit) over.push(this.#buffer.shift() as Item);
      this.#discard(over, 'bytes');
    }
    if (this.#o.lossy) {
      const over: Item[] = [];
      for (let excess = this.#held().events - this.#o.maxPending; excess > 0 && this.#buffer.size > 0; excess--)
        over.push(this.#buffer.shiftLowest() as Item);
      this.#discard(over, 'dropped');
    }
  }

  // -- batching -------------------------------------------------------------

  /** Cuts requests while one may wait in the queue: full ones at once, the rest when the window is due. */
  #pump(): void {
    if (this.#state !== 'active' || this.#closed) return;
    const o = this.#o;
    const buffer = this.#buffer;
    while (buffer.size > 0 && this.#queue.size === 0) {
      const full = buffer.size >= o.maxBatchEvents || bodyBytes(buffer.size, buffer.bytes) >= o.maxBatchBytes;
      if (!full && !this.#due && this.#flushing === 0) break;
      this.#cut();
    }
    if (buffer.size === 0) this.#due = false;
    else if (!this.#due && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#due = true;
        this.#pump();
      }, o.throttle);
      this.#timer.unref();
    }
    this.#metrics.pending.set(this.#labels, this.#held().events);
  }

  #cut(): void {
    const o = this.#o;
    const items: Item[] = [];
    let bytes = 0;
    for (let next = this.#buffer.peek(); next !== undefined; next = this.#buffer.peek()) {
      if (
        items.length > 0 &&
        (items.length >= o.maxBatchEvents || bodyBytes(items.length + 1, bytes + next.bytes) > o.maxBatchBytes)
      )
        break;
      items.push(this.#buffer.shift() as Item);
      bytes += next.bytes;
    }
    const batch: Batch = { messageId: messageId(items), items, bytes, body: undefined, signature: undefined };
    this.#batches.add(batch);
    // #send never rejects; the catch only keeps an unexpected bug from becoming an unhandled rejection.
    this.#queue
      .add(() => this.#send(batch))
      .catch((error: unknown) => this.#report('telemetry.webhook-error', { reason: describeError(error) }));
  }

  // -- delivery -------------------------------------------------------------

  /** Delivers a batch, and in order the halves it is split into when the receiver answers 413. */
  async #send(batch: Batch): Promise<void> {
    const stack = [batch];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) await this.#deliver(next, stack);
  }

  async #deliver(batch: Batch, splits: Batch[]): Promise<void> {
    let attempts = 0;
    try {
      while (!this.#closed && this.#batches.has(batch)) {
        if (this.#state === 'paused') {
          await this.#whenResumed();
          continue;
        }
        if (this.#state === 'disabled') return;
        this.#expire(batch);
        if (batch.items.length === 0) return;
        if (attempts++ > 0) {
          this.#retried++;
          this.#metrics.retried.inc(this.#labels);
        }
        const outcome = await this.#attempt(batch);
        if (this.#closed || !this.#batches.has(batch)) return;
        if (outcome.kind === 'ok') {
          this.#succeeded(batch);
          return;
        }
        if (outcome.kind === 'gone') {
          this.#disable(outcome.status);
          return;
        }
        this.#failed++;
        this.#consecutiveFailures++;
        this.#lastError = outcome.reason;
        this.#metrics.failed.inc(this.#labels);
        if (outcome.code === 413 && batch.items.length > 1) {
          const rest = this.#split(batch);
          splits.push(rest);
          this.#report('telemetry.webhook-error', {
            reason: outcome.reason,
            code: outcome.code,
            total: batch.items.length + rest.items.length,
            details: `payload too large: sending it as ${batch.items.length} and ${rest.items.length} events`,
          });
          continue;
        }
        if (outcome.code === 413) {
          // One event the receiver will never take: holding it would only delay the ones behind it.
          this.#discard(batch.items.splice(0), 'too-large');
          return;
        }
        const asked = outcome.retryAfter;
        const delay =
          asked === undefined ? backoff(this.#o.retry, this.#consecutiveFailures) : Math.min(asked, this.#o.discardAfter);
        this.#retryAt = this.#context.now() + delay;
        this.#report('telemetry.webhook-error', {
          reason: outcome.reason,
          code: outcome.code,
          total: batch.items.length,
          details: `attempt ${this.#consecutiveFailures} failed; retrying in ${delay} ms${asked === undefined ? '' : ' as Retry-After asks'}`,
        });
        await this.#sleep(delay, asked === undefined);
        this.#retryAt = undefined;
      }
    } finally {
      this.#batches.delete(batch);
    }
  }

  /** Keeps the first half in `batch` and returns the second half as a new batch. */
  #split(batch: Batch): Batch {
    const items = batch.items.splice(Math.ceil(batch.items.length / 2));
    const bytes = items.reduce((sum, item) => sum + item.bytes, 0);
    batch.bytes -= bytes;
    batch.body = undefined;
    batch.messageId = messageId(batch.items);
    const rest: Batch = { messageId: messageId(items), items, bytes, body: undefined, signature: undefined };
    this.#batches.add(rest);
    return rest;
  }

  async #attempt(batch: Batch): Promise<Outcome> {
    if (batch.body === undefined) {
      batch.body = body(batch.items);
      batch.signature = this.#signer.stalwart(batch.body);
    }
    // Stable for the batch: receivers may use it as an idempotency key (see Batch.messageId).
    const messageId = batch.messageId;
    const timestamp = Math.floor(this.#context.now() / 1000);
    const headers: Record<string, string> = {
      ...this.#o.headers,
      'webhook-id': messageId,
      'webhook-timestamp': String(timestamp),
    };
    if (batch.signature !== undefined) headers['x-signature'] = batch.signature;
    const standard = this.#signer.standard(messageId, timestamp, batch.body);
    if (standard !== undefined) headers['webhook-signature'] = standard;
    // One deadline for the whole exchange, answer body included: ky's own timeout ends at the headers.
    const attempt = new AbortController();
    const timer = setTimeout(() => attempt.abort(TIMED_OUT), this.#o.timeout);
    const closing = this.#abort.signal;
    const onClose = (): void => attempt.abort(closing.reason);
    if (closing.aborted) onClose();
    else closing.addEventListener('abort', onClose, { once: true });
    try {
      // ky would not retry a POST anyway; retries are ours, so events can expire between attempts.
      const { default: ky } = await loadKy();
      const response = await ky.post(this.#o.url, {
        body: batch.body,
        headers,
        timeout: false,
        retry: 0,
        throwHttpErrors: false,
        redirect: 'manual',
        signal: attempt.signal,
      });
      const status = response.status;
      const after = response.headers.get('retry-after');
      // The status is the answer: the body is read only so that a short one frees the connection.
      await drainAnswer(response.body);
      if (status >= 200 && status < 300) return { kind: 'ok', status };
      if (status === 410) return { kind: 'gone', status };
      const reason = status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`;
      return { kind: 'failed', reason, code: status, retryAfter: retryAfter(after, this.#context.now()) };
    } catch (error) {
      if (attempt.signal.reason === TIMED_OUT || loadedKy()?.isTimeoutError(error) === true)
        return { kind: 'failed', reason: `no answer within ${this.#o.timeout} ms`, code: 'ETIMEDOUT' };
      // Messages are not quoted: ky's name the URL, which may carry a token.
      const code = causeCode(error);
      return {
        kind: 'failed',
        reason: `request failed: ${code ?? (error instanceof Error ? error.name : 'error')}`,
        code: code ?? 'EFETCH',
      };
    } finally {
      clearTimeout(timer);
      closing.removeEventListener('abort', onClose);
    }
  }

  #succeeded(batch: Batch): void {
    this.#batches.delete(batch);
    const n = batch.items.length;
    this.#delivered += n;
    this.#requests++;
    this.#consecutiveFailures = 0;
    this.#lastSuccessAt = this.#context.now();
    this.#metrics.delivered.inc(this.#labels, n);
  }

  /** Drops the batch's stale events; its body is rebuilt if any went. */
  #expire(batch: Batch): void {
    const cutoff = this.#context.now() - this.#o.discardAfter;
    if (!batch.items.some((item) => item.timestamp < cutoff)) return;
    const stale = batch.items.filter((item) => item.timestamp < cutoff);
    batch.items = batch.items.filter((item) => item.timestamp >= cutoff);
    batch.bytes = batch.items.reduce((sum, item) => sum + item.bytes, 0);
    batch.body = undefined;
    this.#discard(stale, 'stale');
    // The buffer behind it is older than nothing in this batch; expire it too.
    this.#enforceLimits();
  }

  #disable(status: number): void {
    this.#state = 'disabled';
    this.#clearTimer();
    this.#report('telemetry.webhook-disabled', {
      code: status,
      details: `the receiver answered ${status}: resume() enables it again`,
    });
    this.#discard(this.#takeAll(), 'disabled');
    this.#queue.clear();
    // What the intake queue still holds goes to onDiscard as 'disabled', through onDrop.
    this.#unsubscribe();
  }

  #unsubscribe(): void {
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
  }

  // -- waiting --------------------------------------------------------------

  #sleep(ms: number, backoff: boolean): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => wake(), ms);
      timer.unref();
      const wake = () => {
        clearTimeout(timer);
        this.#wait = undefined;
        resolve();
      };
      this.#wait = { wake, backoff };
    });
  }

  #whenResumed(): Promise<void> {
    if (this.#resumed === undefined) {
      let resolve = () => {};
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#resumed = { promise, resolve };
    }
    return this.#resumed.promise;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  // -- control --------------------------------------------------------------

  pause(): void {
    if (this.#state !== 'active') return;
    this.#state = 'paused';
    this.#clearTimer();
  }

  resume(): void {
    if (this.#closed || this.#state === 'active') return;
    if (this.#state === 'disabled') {
      this.#consecutiveFailures = 0;
      if (this.#subscription === undefined) this.#subscribe();
    }
    this.#state = 'active';
    const resumed = this.#resumed;
    this.#resumed = undefined;
    resumed?.resolve();
    this.#due = true;
    this.#pump();
  }

  /** Sends everything held now, without waiting for the window; a backoff wait is cut short once. */
  async flush(): Promise<void> {
    this.#intakeDrops.flush();
    if (this.#state !== 'active' || this.#closed) return;
    this.#flushing++;
    try {
      if (this.#wait?.backoff === true) this.#wait.wake();
      this.#pump();
      while (!this.#closed && this.#state === 'active' && this.#held().events > 0) {
        await this.#queue.onIdle();
        this.#pump();
      }
    } finally {
      this.#flushing--;
    }
  }

  /** Stops timers and requests; whatever is still held is discarded, reported and handed to `onDiscard`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    this.#wait?.wake();
    this.#resumed?.resolve();
    this.#abort.abort();
    this.#queue.clear();
    const held = this.#takeAll();
    this.#discardedAtClose = held.length;
    this.#discard(held, 'shutdown');
    this.#intakeDrops.flush();
    this.#metrics.pending.set(this.#labels, 0);
  }

  /** Events held; once closed, the events `close` discarded (what shutdown reports as undelivered). */
  pending(): number {
    return this.#closed ? this.#discardedAtClose : this.#held().events;
  }

  stats(): WebhookStats {
    const held = this.#held();
    return {
      id: this.id,
      state: this.#state,
      pending: held.events,
      pendingBytes: held.bytes,
      delivered: this.#delivered,
      requests: this.#requests,
      failed: this.#failed,
      retried: this.#retried,
      discarded: this.#discarded,
      dropped: this.#dropped,
      unreadable: this.#unreadable,
      consecutiveFailures: this.#consecutiveFailures,
      lastError: this.#lastError,
      lastSuccessAt: this.#lastSuccessAt,
      retryAt: this.#retryAt,
    };
  }

  // -- accounting -----------------------------------------------------------

  #held(): { events: number; bytes: number } {
    let events = this.#buffer.size;
    let bytes = this.#buffer.bytes;
    for (const batch of this.#batches) {
      events += batch.items.length;
      bytes += batch.bytes;
    }
    return { events, bytes };
  }

  /** Everything held, oldest first. */
  #takeAll(): Item[] {
    const out: Item[] = [];
    for (const batch of this.#batches) out.push(...batch.items);
    this.#batches.clear();
    out.sort((a, b) => a.seq - b.seq);
    out.push(...this.#buffer.clear());
    return out;
  }

  #countDropped(n: number): void {
    this.#dropped += n;
    this.#metrics.dropped.inc(this.#labels, n);
  }

  #countDiscarded(n: number): void {
    this.#discarded += n;
    this.#metrics.discarded.inc(this.#labels, n);
  }

  /** Counts, reports and hands to `onDiscard` the events given up on, each exactly once. */
  #discard(items: readonly Item[], reason: WebhookDiscardReason): void {
    if (items.length === 0) return;
    const total = items.length;
    if (reason === 'dropped') {
      this.#countDropped(total);
      this.#report('telemetry.events-dropped', { reason: DISCARD_DETAILS.dropped, total });
    } else {
      this.#countDiscarded(total);
      this.#reportDiscard(reason, total);
    }
    this.#tell(items, reason);
  }

  #reportDiscard(reason: WebhookDiscardReason, total: number): void {
    this.#report('telemetry.webhook-error', { reason: `events discarded (${reason})`, details: DISCARD_DETAILS[reason], total });
  }

  /**
   * One event the core dropped from the intake queue, counted at once (this runs inside an emit);
   * it reaches `onDiscard` shortly after, through {@link IntakeDrops}.
   */
  #dropped1(event: EventRecord): void {
    const reason: WebhookDiscardReason = this.#closed ? 'shutdown' : this.#state === 'disabled' ? 'disabled' : 'queue-full';
    if (reason === 'queue-full' && this.#o.lossy) this.#countDropped(1);
    else this.#countDiscarded(1);
    this.#intakeDrops.add(event, reason);
  }

  #intakeDropped(events: readonly EventRecord[], reason: WebhookDiscardReason): void {
    // The core reports a full queue itself (telemetry.events-dropped), but not an unsubscribe.
    if (reason !== 'queue-full') this.#reportDiscard(reason, events.length);
    if (this.#o.onDiscard === undefined) return;
    const items = new Array<Item>(events.length);
    const write = this.#stalwart ?? serialize;
    for (let i = 0; i < events.length; i++) items[i] = write(events[i] as EventRecord);
    this.#tell(items, reason);
  }

  #tell(items: readonly Item[], reason: WebhookDiscardReason): void {
    const hook = this.#o.onDiscard;
    if (hook === undefined) return;
    try {
      hook(toEvents(items), reason);
    } catch (error) {
      this.#report('telemetry.webhook-error', { reason: `onDiscard threw: ${describeError(error)}`, total: items.length });
    }
  }

  /** Reports on this endpoint's behalf, so it never receives its own reports (other webhooks may). */
  #report(name: string, data: Readonly<Record<string, unknown>>): void {
    const payload = { id: this.id, ...data };
    if (this.#subscription !== undefined) this.#subscription.report(name, payload);
    else this.#context.report(name, payload);
  }
}

/** The `webhook-id` of a request holding `items`: unique, since requests never share an event. */
function messageId(items: readonly Item[]): string {
  const first = items[0];
  const last = items[items.length - 1];
  return first === undefined || last === undefined ? 'msg_empty' : `msg_${first.id}_${last.id}`;
}

/** How many events the core may queue for an endpoint before it drops (lossy) or refuses (lossless). */
function intakeBound(o: ResolvedWebhook): number {
  const byBytes = Number.isFinite(o.maxPendingBytes)
    ? Math.max(INTAKE_MIN, Math.floor(o.maxPendingBytes / INTAKE_EVENT_BYTES))
    : Number.POSITIVE_INFINITY;
  return o.lossy ? Math.min(byBytes, Math.max(o.maxPending, LOSSY_INTAKE)) : byBytes;
}

/** The system error code behind a failed fetch (`ECONNRESET`, `ECONNREFUSED`, ...), if any. */
function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
