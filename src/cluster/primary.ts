/**
 * The primary's side: asks every connected worker for its metrics, waits for the answers within
 * the timeout, and keeps what each worker last sent. Counters and histograms never go backwards:
 * a worker that is late keeps its last values in the sum, and a worker that exits or restarts
 * leaves its last values in a retained total that later scrapes add.
 */

import type { Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import type { ExpositionFormat } from '../metrics/exposition.js';
import { type DecodedAnswer, decodeAnswer, decodeSeries, type MetricMeta, type MetricSamples } from './decode.js';
import { Aggregate } from './merge.js';
import type { ResolvedClusterOptions } from './options.js';
import { isTagged, type ScrapeRequest, type SettingsWire, TAG, VERSION } from './protocol.js';
import { ClusterExposition, DEFAULT_SETTINGS, type ScrapeCounts } from './render.js';

/** Far above what real workers retire (each host metric holds at most `maxSeries`, 2000 by default). */
const MAX_RETAINED_SERIES = 1_000_000;
/** Retired instances remembered per worker: a real worker restarts its telemetry a few times at most. */
const MAX_RETIRED_INSTANCES = 64;

/** What the primary holds of one worker. */
interface WorkerState {
  readonly worker: number;
  /** The telemetry instance these values come from. */
  readonly instance: string;
  meta: (MetricMeta | null)[];
  /** The wire name of the last description held, which the worker checks before sending only the new ones. */
  last: string | null;
  metrics: MetricSamples[];
  settings: SettingsWire;
  /** The scrape these values answered; 0 for a snapshot the worker pushed when closing. */
  round: number;
}

/** One scrape in flight: the workers asked that have not answered yet. */
class Round {
  readonly waiting = new Set<number>();
  /** Workers whose channel closed before they could answer. */
  lost = 0;
  answered = 0;
  timer: NodeJS.Timeout | undefined;
  readonly done: Promise<void>;
  readonly resolve: () => void;

  constructor(
    readonly id: string,
    readonly seq: number,
  ) {
    let resolve = () => {};
    this.done = new Promise<void>((r) => {
      resolve = r;
    });
    this.resolve = resolve;
  }
}

/** The aggregation behind `createClusterMetrics`. */
export class ClusterAggregator {
  readonly #options: ResolvedClusterOptions;
  readonly #states = new Map<number, WorkerState>();
  /** Worker ids gone for good: nothing more is taken from them. */
  readonly #gone = new Set<number>();
  /** Earlier instances of live workers, whose values are retained already: a late message from one is ignored. */
  readonly #retiredInstances = new Map<number, Set<string>>();
  /** The counters and histograms of retired worker instances, bounded against a worker inventing series. */
  readonly #retained = new Aggregate(MAX_RETAINED_SERIES);
  readonly #exposition = new ClusterExposition();
  /** Tells this aggregator's requests from another's in the same primary. */
  readonly #prefix = randomUUID();
  #seq = 0;
  #round: Round | undefined;
  #lastRound = 0;
  #counts = { workers: 0, missing: 0, missed: 0, retired: 0, rejected: 0 } satisfies ScrapeCounts;
  #closed = false;
  /** The settings of the last scrape that had a worker, so that names hold while none answers. */
  #settings: SettingsWire = DEFAULT_SETTINGS;

  readonly #onMessage = (worker: Worker, message: unknown): void => {
    if (!isTagged(message)) return;
    try {
      this.#receive(worker, message);
    } catch {
      // A worker's message must never take the primary down: refused and counted.
      this.#counts.rejected++;
    }
  };

  readonly #onExit = (worker: Worker): void => {
    this.#guard(() => {
      if (!worker.isConnected()) this.#forget(worker);
    });
  };

  readonly #onDisconnect = (worker: Worker): void => {
    this.#guard(() => {
      // Every message a worker sent arrives before its channel closes: it cannot answer now.
      const id = workerId(worker);
      if (id !== undefined && this.#round !== undefined) this.#settle(this.#round, id, false);
      if (worker.isDead()) this.#forget(worker);
    });
  };

  constructor(options: ResolvedClusterOptions) {
    this.#options = options;
    const { cluster } = options;
    cluster.on('message', this.#onMessage);
    cluster.on('exit', this.#onExit);
    cluster.on('disconnect', this.#onDisconnect);
  }

  /** One scrape: asks the workers, waits for them within the timeout, renders the sum. */
  async prometheus(format: ExpositionFormat = 'text'): Promise<string> {
    await this.#gather();
    return this.#render(format === 'openmetrics' ? 'openmetrics' : 'text');
  }

  /**
   * A scrape for the handler: in the format asked, except text 0.0.4 when the workers name their
   * metrics as Stalwart does, as a worker's own `handlers.prometheus` answers.
   */
  async scrape(asked: ExpositionFormat): Promise<{ readonly format: ExpositionFormat; readonly body: string }> {
    await this.#gather();
    const states = [...this.#states.values()];
    const naming = (commonSettings(states) ?? this.#settings).naming;
    const format = naming === 'stalwart' ? 'text' : asked;
    return { format, body: this.#render(format) };
  }

  /** Stops listening to the cluster; a scrape in flight ends at once with what it has. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const { cluster } = this.#options;
    this.#guard(() => {
      cluster.off('message', this.#onMessage);
      cluster.off('exit', this.#onExit);
      cluster.off('disconnect', this.#onDisconnect);
    });
    if (this.#round !== undefined) this.#finish(this.#round);
  }

  /** Asks every connected worker; concurrent scrapes share one round. Never rejects. */
  #gather(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#round !== undefined) return this.#round.done;
    const seq = ++this.#seq;
    const round = new Round(`${this.#prefix}-${seq}`, seq);
    this.#round = round;
    for (const worker of this.#workers()) this.#ask(round, worker);
    if (round.waiting.size === 0) this.#finish(round);
    else round.timer = setTimeout(() => this.#finish(round), this.#options.timeout);
    return round.done;
  }

  /** Ends a round: those who have not answered are missing from it. */
  #finish(round: Round): void {
    if (this.#round !== round) return;
    clearTimeout(round.timer);
    this.#round = undefined;
    this.#lastRound = round.seq;
    const missing = round.waiting.size + round.lost;
    this.#counts.workers = round.answered;
    this.#counts.missing = missing;
    this.#counts.missed += missing;
    round.resolve();
  }

  /** Takes worker `id` out of the round, answered or lost; the last one out ends it. */
  #settle(round: Round, id: number, answered: boolean): void {
    if (!round.waiting.delete(id)) return;
    if (answered) round.answered++;
    else round.lost++;
    if (round.waiting.size === 0) this.#finish(round);
  }

  #workers(): Worker[] {
    const out: Worker[] = [];
    try {
      for (const worker of Object.values(this.#options.cluster.workers ?? {})) {
        if (worker !== undefined && workerId(worker) !== undefined && worker.isConnected()) out.push(worker);
      }
    } catch {
      // A cluster module that cannot list its workers has none to ask.
    }
    return out;
  }

  #ask(round: Round, worker: Worker): void {
    const id = workerId(worker) as number;
    const state = this.#states.get(id);
    const known = state?.meta.length ?? 0;
    const request: ScrapeRequest = {
      [TAG]: VERSION,
      type: 'scrape',
      id: round.id,
      instance: state?.instance ?? null,
      known,
      last: known > 0 ? (state?.last ?? null) : null,
    };
    round.waiting.add(id);
    try {
      // With a callback, a closed channel is reported there, not as an 'error' event nobody handles.
      worker.send(request, (error) => {
        if (error) this.#settle(round, id, false);
      });
    } catch {
      this.#settle(round, id, false);
    }
  }

  #receive(worker: Worker, message: object): void {
    const id = workerId(worker);
    if (id === undefined || this.#gone.has(id)) return;
    const answer = decodeAnswer(message);
    if (answer === undefined) {
      this.#counts.rejected++;
      return;
    }
    const round = this.#round;
    // An answer to another aggregator, or one that came after its scrape ended, is not ours to use.
    if (answer.id !== null && (round === undefined || answer.id !== round.id || !round.waiting.has(id))) return;
    if (this.#retiredInstances.get(id)?.has(answer.instance) === true) return;
    let state = this.#states.get(id);
    if (state !== undefined && state.instance !== answer.instance) {
      this.#retire(state);
      state = undefined;
    }
    const applied = this.#apply(id, state, answer);
    if (applied === undefined) {
      this.#counts.rejected++;
      return;
    }
    if (applied.flawed) this.#counts.rejected++;
    if (answer.id !== null && round !== undefined) {
      applied.state.round = round.seq;
      this.#settle(round, id, true);
    } else {
      applied.state.round = 0;
    }
  }

  /** Takes an answer's descriptions and values into the worker's state; undefined when they do not fit what it holds. */
  #apply(
    id: number,
    previous: WorkerState | undefined,
    answer: DecodedAnswer,
  ): { readonly state: WorkerState; readonly flawed: boolean } | undefined {
    const held = previous?.meta ?? [];
    if (answer.from > held.length) return undefined;
    const meta = answer.from === held.length ? held.concat(answer.meta) : held.slice(0, answer.from).concat(answer.meta);
    let flawed = answer.flawed;
    const metrics: MetricSamples[] = [];
    for (let i = 0; i < meta.length; i++) {
      const description = meta[i];
      if (description === null || description === undefined) continue;
      const decoded = decodeSeries(description, answer.values[i]);
      if (decoded === undefined) flawed = true;
      else metrics.push(decoded);
    }
    const state: WorkerState = previous ?? {
      worker: id,
      instance: answer.instance,
      meta: [],
      last: null,
      metrics: [],
      settings: answer.settings,
      round: 0,
    };
    state.meta = meta;
    if (answer.meta.length > 0) state.last = answer.lastName;
    else if (answer.from < held.length) state.last = null;
    state.metrics = metrics;
    state.settings = answer.settings;
    this.#states.set(id, state);
    return { state, flawed };
  }

  /** Moves a worker instance's counters and histograms into the retained totals; its gauges go. */
  #retire(state: WorkerState): void {
    for (const metric of state.metrics) if (metric.meta.kind !== 'gauge') this.#retained.add(metric);
    this.#counts.retired++;
    this.#states.delete(state.worker);
    let retired = this.#retiredInstances.get(state.worker);
    if (retired === undefined) {
      retired = new Set();
      this.#retiredInstances.set(state.worker, retired);
    }
    retired.add(state.instance);
    // The oldest goes first: only a worker that invents instances reaches the cap.
    if (retired.size > MAX_RETIRED_INSTANCES) retired.delete(retired.values().next().value as string);
  }

  #forget(worker: Worker): void {
    const id = workerId(worker);
    if (id === undefined || this.#gone.has(id)) return;
    const state = this.#states.get(id);
    if (state !== undefined) this.#retire(state);
    this.#retiredInstances.delete(id);
    this.#gone.add(id);
  }

  #render(format: ExpositionFormat): string {
    const states = [...this.#states.values()].sort((a, b) => a.worker - b.worker);
    const settings = commonSettings(states) ?? this.#settings;
    const { gauges, workerLabel } = this.#options;
    const sum = new Aggregate();
    for (const state of states) {
      const fresh = state.round !== 0 && state.round === this.#lastRound;
      for (const metric of state.metrics) {
        if (metric.meta.kind !== 'gauge') {
          sum.add(metric);
          continue;
        }
        if (!fresh) continue;
        const perWorker =
          gauges === 'per-worker' &&
          !metric.meta.labelNames.includes(workerLabel) &&
          !Object.hasOwn(settings.defaultLabels, workerLabel);
        sum.add(metric, perWorker ? { name: workerLabel, value: String(state.worker) } : undefined);
      }
    }
    sum.addAll(this.#retained);
    this.#settings = settings;
    return this.#exposition.render(sum.metrics(), this.#counts, settings, format);
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch {
      // A cluster module or worker object that throws must not reach the host's emitter.
    }
  }
}

/**
 * The settings most workers have (the first worker's among equals): workers of one host share
 * them, and one odd worker does not rename the others' metrics.
 */
function commonSettings(states: readonly WorkerState[]): SettingsWire | undefined {
  const votes = new Map<string, { settings: SettingsWire; count: number }>();
  let best: { settings: SettingsWire; count: number } | undefined;
  for (const state of states) {
    const key = JSON.stringify(state.settings);
    let vote = votes.get(key);
    if (vote === undefined) {
      vote = { settings: state.settings, count: 0 };
      votes.set(key, vote);
    }
    vote.count++;
    if (best === undefined || vote.count > best.count) best = vote;
  }
  return best?.settings;
}

/** The worker's id in the cluster, or undefined for an object that has none. */
function workerId(worker: Worker | undefined): number | undefined {
  const id: unknown = worker?.id;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : undefined;
}
