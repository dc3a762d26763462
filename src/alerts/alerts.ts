import * as types from 'node:util/types';
import { asCause, describeError, nearest, TelemetryConfigError } from '../base/errors.js';
import { scalarJson } from '../base/json.js';
import type { HistoryApi } from '../history/history.js';
import type { SeriesPoint } from '../history/series.js';
import type { MechanismContext } from '../metrics/api.js';
import {
  type ActionHost,
  type AlertNotification,
  emitEvent,
  failureReason,
  postAlertmanager,
  postWebhook,
  sendEmail,
} from './actions.js';
import { type BindScope, bindScope, type Compiled, compile, type Env } from './compile.js';
import type { LabelBudget } from './labels.js';
import { type AlertRuleOptions, conditionError, type ResolvedAlerts, type ResolvedRule, resolveRule } from './options.js';
import { type SeriesSource, seriesSource } from './source.js';
import type { TemplateScope } from './template.js';
import { type MetricValue, valuesOf } from './values.js';

/** Where an alert stands, as in Prometheus; `resolved` stays until the condition holds again. */
export type AlertState = 'inactive' | 'pending' | 'firing' | 'resolved';

/** One rule as `state()` shows it. */
export interface AlertStatus {
  readonly id: string;
  readonly condition: string;
  readonly enabled: boolean;
  readonly state: AlertState;
  /** The value at the last evaluation: the left side of the condition's first comparison, else its value. */
  readonly value: number;
  readonly labels: Readonly<Record<string, string>>;
  /** When the condition started to hold (pending or firing), epoch ms. */
  readonly activeAt?: number;
  /** When the alert last started firing. */
  readonly firedAt?: number;
  /** When it last resolved. */
  readonly resolvedAt?: number;
  /** When the rule was last evaluated. */
  readonly evaluatedAt?: number;
  /** Label-pattern work units its last evaluation spent (see `maxLabelWork`), skipped or not. */
  readonly labelWork: number;
  /** Evaluations skipped because their label patterns needed more than `maxLabelWork`, or because they failed. */
  readonly skipped: number;
}

/** One state change, as kept by `transitions()`. */
export interface AlertTransition {
  readonly id: string;
  readonly from: AlertState;
  readonly to: AlertState;
  /** Epoch ms. */
  readonly at: number;
  readonly value: number;
}

/** `telemetry.alerts`: rule states, on-demand evaluation and rules changed at run time. */
export interface AlertsApi {
  /** Every rule's status, in the order the rules were added. */
  state(): readonly AlertStatus[];
  /** One rule's status, or undefined for an unknown id. */
  state(id: string): AlertStatus | undefined;
  /** The rule ids. */
  rules(): readonly string[];
  /**
   * Evaluates every enabled rule now; resolves with the transitions it caused, once the actions they
   * started have finished (each bounded by its timeout).
   */
  evaluate(): Promise<readonly AlertTransition[]>;
  /** The most recent transitions, oldest first (bounded by `maxTransitions`). */
  transitions(): readonly AlertTransition[];
  /** Adds a rule; throws {@link TelemetryConfigError} for a bad rule or a duplicate id. */
  add(rule: AlertRuleOptions): void;
  /** Removes a rule (a firing one is notified as resolved first); false for an unknown id. */
  remove(id: string): boolean;
  /** Turns evaluation of a rule back on; false for an unknown id. */
  enable(id: string): boolean;
  /** Stops evaluating a rule (a firing one is notified as resolved); false for an unknown id. */
  disable(id: string): boolean;
}

/** What alerts use besides the core. */
export interface AlertsDeps {
  readonly history: HistoryApi;
}

interface Rule {
  readonly options: ResolvedRule;
  readonly compiled: Compiled;
  /** The metrics its condition and templates read: an evaluation copies only these from the registry. */
  readonly reads: readonly string[];
  enabled: boolean;
  state: AlertState;
  value: number;
  activeAt: number | undefined;
  firedAt: number | undefined;
  clearedAt: number | undefined;
  resolvedAt: number | undefined;
  evaluatedAt: number | undefined;
  notifiedAt: number;
  alertmanagerAt: number;
  labelWork: number;
  skipped: number;
  /** Run-time problems already reported (a missing host metric, a label it lacks), so each is reported once. */
  readonly reported: Set<string>;
}

type Kind = MetricValue['kind'];

export function createAlerts(context: MechanismContext, options: ResolvedAlerts, deps: AlertsDeps): AlertsApi {
  return new Alerts(context, options, seriesSource(deps.history)).api;
}

class Alerts {
  readonly api: AlertsApi;
  readonly #context: MechanismContext;
  readonly #options: ResolvedAlerts;
  readonly #source: SeriesSource;
  readonly #rules = new Map<string, Rule>();
  readonly #transitions: AlertTransition[] = [];
  readonly #inflight = new Set<Promise<void>>();
  readonly #host: ActionHost;
  readonly #timer: NodeJS.Timeout;
  #running: Promise<readonly AlertTransition[]> | undefined;
  /** The transitions of the evaluation under way. */
  #collect: AlertTransition[] | undefined;
  #closed = false;

  constructor(context: MechanismContext, options: ResolvedAlerts, source: SeriesSource) {
    this.#context = context;
    this.#options = options;
    this.#source = source;
    const catalog = context.catalog;
    this.#host = {
      context,
      sendMail: options.sendMail,
      // Until the catalogue has an alert error event of its own, failures go out as subscriber errors.
      errorEvent: catalog.get('telemetry.alert-error') === undefined ? 'telemetry.subscriber-error' : 'telemetry.alert-error',
      validFor: (rule) => 4 * Math.max(options.intervalMs, rule.alertmanager?.resendMs ?? 0),
    };
    const known = this.#known();
    for (const rule of options.rules) this.#rules.set(rule.id, this.#bind(rule, known));
    this.#timer = setInterval(() => {
      if (this.#running !== undefined || this.#rules.size === 0) return;
      this.#evaluate(false).catch((error: unknown) => {
        context.report(this.#host.errorEvent, {
          id: 'alerts',
          reason: `alert evaluation failed: ${failureReason(error, 0)}`,
          causedBy: asCause(error),
        });
      });
    }, options.intervalMs);
    this.#timer.unref();
    context.attach({
      id: 'alerts',
      pending: () => this.#inflight.size,
      flush: async () => {
        await this.#running?.catch(() => undefined);
        await Promise.all(this.#inflight);
      },
      close: () => {
        this.#closed = true;
        clearInterval(this.#timer);
      },
    });
    const state = ((id?: string) =>
      id === undefined ? [...this.#rules.values()].map(status) : this.#status(id)) as AlertsApi['state'];
    this.api = {
      state,
      rules: () => [...this.#rules.keys()],
      evaluate: () => this.#evaluate(true),
      transitions: () => [...this.#transitions],
      add: (rule) => this.#add(rule),
      remove: (id) => this.#remove(id),
      enable: (id) => this.#setEnabled(id, true),
      disable: (id) => this.#setEnabled(id, false),
    };
  }

  #status(id: string): AlertStatus | undefined {
    const rule = this.#rules.get(id);
    return rule === undefined ? undefined : status(rule);
  }

  /** The registry's metrics as they are now: the catalogue's, and host metrics created so far. */
  #known(): BindScope {
    const collected = this.#context.metrics.collect();
    const known = new Map<string, Kind>(collected.map((m) => [m.name, m.kind]));
    const labels = new Map(collected.map((m) => [m.name, m.labelNames]));
    const uncounted = this.#context.catalog.events.filter((e) => !e.counter).map((e) => e.name);
    return bindScope(known, uncounted, labels);
  }

  #bind(options: ResolvedRule, scope: BindScope): Rule {
    let compiled: Compiled;
    try {
      compiled = compile(options.expr, options.condition, scope);
    } catch (error) {
      throw conditionError(`${options.path}.condition`, options.condition, error);
    }
    if (compiled.windows.length > 0 && !this.#source.recording())
      throw new TelemetryConfigError(
        `${options.path}.condition`,
        options.condition,
        'window functions (rate, increase, avg_over) only with history recording metric series',
        'turn on history with metric series, or compare current values',
      );
    const unrecorded = compiled.windows.find((w) => !this.#source.records(w.metric));
    if (unrecorded !== undefined)
      throw new TelemetryConfigError(
        `${options.path}.condition`,
        options.condition,
        `window functions over metrics whose series the history records; ${unrecorded.metric} is not`,
        'add it to options.history.series.metrics',
      );
    return {
      options,
      compiled,
      reads: readsOf(options, compiled),
      enabled: options.enabled,
      state: 'inactive',
      value: Number.NaN,
      activeAt: undefined,
      firedAt: undefined,
      clearedAt: undefined,
      resolvedAt: undefined,
      evaluatedAt: undefined,
      notifiedAt: 0,
      alertmanagerAt: 0,
      labelWork: 0,
      skipped: 0,
      reported: new Set(),
    };
  }

  #add(rule: AlertRuleOptions): void {
    const id = (rule as { id?: unknown } | null)?.id;
    const resolved = resolveRule(rule, `alerts.add(${scalarJson(id)})`, this.#options.sendMail, this.#options.timeout);
    if (this.#rules.has(resolved.id))
      throw new TelemetryConfigError(`${resolved.path}.id`, resolved.id, 'an id no other rule has');
    this.#rules.set(resolved.id, this.#bind(resolved, this.#known()));
  }

  #remove(id: string): boolean {
    const rule = this.#rules.get(id);
    if (rule === undefined) return false;
    this.#rules.delete(id);
    if (rule.state === 'firing') this.#resolve(rule, this.#context.now(), new Map());
    return true;
  }

  #setEnabled(id: string, enabled: boolean): boolean {
    const rule = this.#rules.get(id);
    if (rule === undefined) return false;
    if (rule.enabled === enabled) return true;
    rule.enabled = enabled;
    if (enabled) return true;
    const now = this.#context.now();
    if (rule.state === 'firing') this.#resolve(rule, now, new Map());
    else if (rule.state === 'pending') this.#move(rule, 'inactive', now);
    return true;
  }

  /** Ticks never overlap: a timer tick during a run is skipped, an `evaluate()` call waits its turn. */
  async #evaluate(awaitActions: boolean): Promise<readonly AlertTransition[]> {
    while (this.#running !== undefined) await this.#running.catch(() => undefined);
    if (this.#closed) return [];
    const started = new Set<Promise<void>>();
    const running = this.#tick(started);
    this.#running = running;
    try {
      const transitions = await running;
      if (awaitActions) await Promise.all(started);
      return transitions;
    } finally {
      this.#running = undefined;
    }
  }

  async #tick(started: Set<Promise<void>>): Promise<readonly AlertTransition[]> {
    const now = this.#context.now();
    const reads = new Set<string>();
    for (const rule of this.#rules.values()) if (rule.enabled) for (const name of rule.reads) reads.add(name);
    const values = valuesOf(this.#context.metrics.snapshot(reads));
    const points = await this.#points(now);
    const transitions: AlertTransition[] = [];
    this.#collect = transitions;
    let current: Rule | undefined;
    let labelNames: Map<string, readonly string[]> | undefined;
    const budget: LabelBudget = { limit: this.#options.maxLabelWork, spent: 0, exhausted: false };
    const env: Env = {
      budget,
      now,
      values,
      points: (metric) => points?.get(metric) ?? [],
      missing: (metric) => {
        if (current !== undefined) this.#missing(current, metric);
      },
      // Only matchers on a host metric created after their rule ask, and only until it exists.
      labelNames: (metric) => {
        labelNames ??= new Map(this.#context.metrics.collect().map((m) => [m.name, m.labelNames]));
        return labelNames.get(metric);
      },
      warn: (key, reason, details) => {
        if (current !== undefined) this.#warn(current, `\u0000${key}`, reason, details);
      },
    };
    for (const rule of this.#rules.values()) {
      if (!rule.enabled) continue;
      // Without the history's points a windowed rule cannot tell; it keeps its state.
      if (points === undefined && rule.compiled.windows.length > 0) continue;
      current = rule;
      budget.spent = 0;
      budget.exhausted = false;
      let outcome: ReturnType<Compiled['run']>;
      try {
        outcome = rule.compiled.run(env);
      } catch (error) {
        // A history store's points may be anything; one rule's failure costs that rule alone.
        rule.labelWork = budget.spent;
        this.#skip(rule, `evaluation failed: ${describeError(error)}; the rule keeps its state`, asCause(error));
        continue;
      }
      rule.labelWork = budget.spent;
      if (budget.exhausted) {
        this.#skip(
          rule,
          `evaluation skipped: its label patterns need more than maxLabelWork (${budget.limit} work units); the rule keeps its state`,
          undefined,
        );
        continue;
      }
      const { active, value } = outcome;
      rule.value = value;
      rule.evaluatedAt = now;
      this.#step(rule, active, now, values, started);
    }
    this.#collect = undefined;
    return transitions;
  }

  /** One query for every windowed metric, over the longest window; undefined when it failed. */
  async #points(now: number): Promise<Map<string, SeriesPoint[]> | undefined> {
    const longest = new Map<string, number>();
    for (const rule of this.#rules.values()) {
      if (!rule.enabled) continue;
      for (const w of rule.compiled.windows) longest.set(w.metric, Math.max(longest.get(w.metric) ?? 0, w.windowMs));
    }
    const out = new Map<string, SeriesPoint[]>();
    if (longest.size === 0) return out;
    try {
      const from = now - Math.max(...longest.values());
      const points = await this.#source.series({ metrics: [...longest.keys()], from, to: now });
      for (const p of points) {
        const list = out.get(p.metric);
        if (list === undefined) out.set(p.metric, [p]);
        else list.push(p);
      }
      return out;
    } catch (error) {
      this.#context.report(this.#host.errorEvent, {
        id: 'alerts',
        reason: `reading metric series from the history failed: ${failureReason(error, 0)}`,
        causedBy: asCause(error),
      });
      return undefined;
    }
  }

  #step(rule: Rule, active: boolean, now: number, values: ReadonlyMap<string, MetricValue>, started: Set<Promise<void>>): void {
    const o = rule.options;
    if (active) {
      rule.clearedAt = undefined;
      if (rule.state === 'inactive' || rule.state === 'resolved') {
        rule.activeAt = now;
        if (o.forMs > 0) {
          this.#move(rule, 'pending', now);
          return;
        }
      } else if (rule.state === 'pending' && now - (rule.activeAt as number) < o.forMs) return;
      if (rule.state === 'firing') {
        this.#keepUp(rule, now, values, started);
        return;
      }
      rule.firedAt = now;
      rule.resolvedAt = undefined;
      this.#move(rule, 'firing', now);
      this.#notify(rule, 'firing', now, values, started);
      return;
    }
    if (rule.state === 'pending') {
      rule.activeAt = undefined;
      this.#move(rule, 'inactive', now);
    } else if (rule.state === 'firing') {
      rule.clearedAt ??= now;
      if (now - rule.clearedAt >= o.keepFiringForMs) this.#resolve(rule, now, values, started);
      else this.#keepUp(rule, now, values, started);
    }
  }

  /** While firing: notify again after `repeatInterval`, and keep the Alertmanager's copy alive. */
  #keepUp(rule: Rule, now: number, values: ReadonlyMap<string, MetricValue>, started: Set<Promise<void>>): void {
    const o = rule.options;
    if (o.repeatMs > 0 && now - rule.notifiedAt >= o.repeatMs) this.#notify(rule, 'repeat', now, values, started);
    else if (o.alertmanager !== undefined && now - rule.alertmanagerAt >= o.alertmanager.resendMs) {
      const n = this.#notification(rule, 'repeat', values).notification;
      rule.alertmanagerAt = now;
      this.#run(rule, 'alertmanager', o.alertmanager.timeout, () => postAlertmanager(this.#host, o, n), started);
    }
  }

  #resolve(rule: Rule, now: number, values: ReadonlyMap<string, MetricValue>, started?: Set<Promise<void>>): void {
    rule.resolvedAt = now;
    rule.activeAt = undefined;
    rule.clearedAt = undefined;
    this.#move(rule, 'resolved', now);
    this.#notify(rule, 'resolved', now, values, started);
  }

  #move(rule: Rule, to: AlertState, at: number): void {
    const from = rule.state;
    rule.state = to;
    const transition = { id: rule.options.id, from, to, at, value: rule.value };
    this.#collect?.push(transition);
    this.#transitions.push(transition);
    if (this.#transitions.length > this.#options.maxTransitions) this.#transitions.shift();
  }

  #notification(
    rule: Rule,
    reason: AlertNotification['reason'],
    values: ReadonlyMap<string, MetricValue>,
  ): { notification: AlertNotification; scope: TemplateScope } {
    const o = rule.options;
    const state = reason === 'resolved' ? 'resolved' : 'firing';
    const base = { id: o.id, state, condition: o.condition, value: rule.value, labels: o.labels };
    const annotations: Record<string, string> = {};
    for (const [key, template] of o.annotations) annotations[key] = template.render(base, values);
    const scope: TemplateScope = { ...base, annotations };
    const message =
      o.event?.message?.render(scope, values) ??
      annotations.summary ??
      `${o.id} is ${state}: ${o.condition} (value ${scope.value})`;
    const notification: AlertNotification = {
      id: o.id,
      state,
      reason,
      value: rule.value,
      condition: o.condition,
      labels: o.labels,
      annotations,
      message,
      startsAt: rule.firedAt ?? this.#context.now(),
      ...(reason === 'resolved' && rule.resolvedAt !== undefined ? { endsAt: rule.resolvedAt } : {}),
    };
    return { notification, scope };
  }

  /** Runs every action of the rule; each is isolated from the others and from the engine. */
  #notify(
    rule: Rule,
    reason: AlertNotification['reason'],
    now: number,
    values: ReadonlyMap<string, MetricValue>,
    started?: Set<Promise<void>>,
  ): void {
    const o = rule.options;
    const { notification: n, scope } = this.#notification(rule, reason, values);
    rule.notifiedAt = now;
    if (o.event !== undefined) emitEvent(this.#host, n);
    if (o.email !== undefined) {
      const mail = { subject: o.email.subject.render(scope, values), body: o.email.body.render(scope, values) };
      this.#run(rule, 'email', o.email.timeout, () => sendEmail(this.#host, o, n, mail), started);
    }
    if (o.webhook !== undefined) this.#run(rule, 'webhook', o.webhook.timeout, () => postWebhook(this.#host, o, n), started);
    if (o.alertmanager !== undefined) {
      rule.alertmanagerAt = now;
      this.#run(rule, 'alertmanager', o.alertmanager.timeout, () => postAlertmanager(this.#host, o, n), started);
    }
  }

  #run(rule: Rule, action: string, timeout: number, fn: () => Promise<void>, started?: Set<Promise<void>>): void {
    const id = rule.options.id;
    let promise: Promise<void>;
    try {
      promise = fn();
    } catch (error) {
      promise = Promise.reject(error);
    }
    const tracked = promise.then(
      () => undefined,
      (error: unknown) => {
        this.#context.report(this.#host.errorEvent, {
          id: `alerts.${id}.${action}`,
          reason: `the ${action} action of alert ${id} failed: ${failureReason(error, timeout)}`,
          ...(action === 'email' && types.isNativeError(error) ? { causedBy: error } : {}),
        });
      },
    );
    this.#inflight.add(tracked);
    started?.add(tracked);
    void tracked.finally(() => this.#inflight.delete(tracked));
  }

  /** Counts and reports an evaluation of `rule` that had no usable result. */
  #skip(rule: Rule, reason: string, cause: Error | string | undefined): void {
    rule.skipped++;
    this.#context.report(this.#host.errorEvent, {
      id: `alerts.${rule.options.id}`,
      reason,
      details: `skipped evaluations of this rule: ${rule.skipped}; label work of this one: ${rule.labelWork}`,
      ...(cause === undefined ? {} : { causedBy: cause }),
    });
  }

  #missing(rule: Rule, metric: string): void {
    if (rule.reported.has(metric)) return;
    // Only the rules' metrics were copied into `values`: the suggestions come from the whole registry.
    const near = nearest(
      metric,
      this.#context.metrics.collect().map((m) => m.name),
    );
    this.#warn(
      rule,
      metric,
      `metric ${JSON.stringify(metric)} is not in the registry; the condition reads it as NaN`,
      near.length > 0 ? `nearest: ${near.join(', ')}` : undefined,
    );
  }

  /** Reports a run-time problem of a rule once per `key`. */
  #warn(rule: Rule, key: string, reason: string, details: string | undefined): void {
    if (rule.reported.has(key)) return;
    rule.reported.add(key);
    this.#context.report(this.#host.errorEvent, {
      id: `alerts.${rule.options.id}`,
      reason,
      ...(details !== undefined ? { details } : {}),
    });
  }
}

/** Every metric a rule's condition or templates name. */
function readsOf(options: ResolvedRule, compiled: Compiled): readonly string[] {
  const templates = [...options.annotations.values(), options.event?.message, options.email?.subject, options.email?.body];
  const names = new Set(compiled.metrics);
  for (const template of templates) for (const name of template?.metrics ?? []) names.add(name);
  return [...names];
}

function status(rule: Rule): AlertStatus {
  const o = rule.options;
  return {
    id: o.id,
    condition: o.condition,
    enabled: rule.enabled,
    state: rule.state,
    value: rule.value,
    labels: o.labels,
    labelWork: rule.labelWork,
    skipped: rule.skipped,
    ...(rule.activeAt === undefined ? {} : { activeAt: rule.activeAt }),
    ...(rule.firedAt === undefined ? {} : { firedAt: rule.firedAt }),
    ...(rule.resolvedAt === undefined ? {} : { resolvedAt: rule.resolvedAt }),
    ...(rule.evaluatedAt === undefined ? {} : { evaluatedAt: rule.evaluatedAt }),
  };
}
