import { sleep } from '../../../shared/clock.js';
import type { Logger } from '../../../shared/logger.js';
import { silentLogger } from '../../../shared/logger.js';
import { snakeCase } from '../metric-catalog.js';
import type { VendorWorld } from '../source.js';
import { labelsFingerprint } from './fingerprint.js';
import { webhookBody, ZERO_TIME, type WebhookAlert } from './payload.js';
import {
  alertRuleSchema,
  defaultRules,
  renderAnnotation,
  type AlertRule,
  type AlertRuleInput,
} from './rules.js';

/** Options of the Alertmanager sender. */
export interface AlertmanagerSenderOptions {
  /** The receiver's webhook URL (the daemon's Alertmanager endpoint); can be set later with `connect`. */
  url?: string;
  /** Sent as `Authorization: Bearer …` when set. */
  bearerToken?: string;
  /** Rules to evaluate; default: from each service's SLO (see rules.ts). */
  rules?: readonly AlertRuleInput[];
  /** Sim ms between rule evaluations. Default 15 s. */
  evaluationIntervalMs?: number;
  /** Sim ms after which a still-firing group is notified again. Default 5 min. */
  repeatIntervalMs?: number;
  /** Wall ms between sim-clock checks in the loop. Default 50. */
  pollMs?: number;
  /** The `receiver` field. Default `nightshift`. */
  receiver?: string;
  /** The `externalURL` field. Default `http://alertmanager.sim:9093`. */
  externalUrl?: string;
  /** Base of each alert's `generatorURL` (a Prometheus). Default `http://prometheus.sim:9090`. */
  generatorUrl?: string;
  logger?: Logger;
}

/** One POST the sender made (or tried). */
export interface AlertmanagerNotification {
  /** Sim time. */
  at: number;
  body: unknown;
  /** The receiver's HTTP status; absent when the request failed. */
  status?: number;
  error?: string;
  /** `rules` for a rule-driven notification, `explicit` for sendAlert. */
  origin: 'rules' | 'explicit';
}

interface RuleState {
  rule: AlertRule;
  labels: Record<string, string>;
  activeSince?: number;
  firedAt?: number;
  resolvedAt?: number;
  value: number;
}

interface GroupState {
  lastSentAt?: number;
  /** Fingerprints the receiver last heard firing. */
  firingSent: Set<string>;
  /** `fingerprint:firing` of those, sorted: a change from it means a notification is due. */
  signature: string;
}

/**
 * Evaluates alert rules on the world's series every evaluation interval of sim time and posts
 * Alertmanager v4 webhook bodies, grouped by service: a group is notified when an alert of it
 * starts firing or resolves, and again every repeat interval while any alert fires. A failed
 * POST is retried at the next evaluation. Evaluations run on the interval's schedule and are
 * stamped with their scheduled time, as Prometheus stamps rule evaluations, so how late a tick
 * runs does not change when an alert fires. `stop()` ends the loop; safe to call twice.
 */
export class AlertmanagerSender {
  readonly notifications: AlertmanagerNotification[] = [];
  readonly rules: readonly AlertRule[];
  readonly #states: RuleState[];
  #lastEvaluatedAt = Number.NEGATIVE_INFINITY;
  readonly #groups = new Map<string, GroupState>();
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  #url: string | undefined;
  #token: string | undefined;
  #loop: Promise<void> | undefined;
  #evaluating: Promise<void> = Promise.resolve();

  constructor(
    private readonly world: VendorWorld,
    private readonly options: AlertmanagerSenderOptions = {},
  ) {
    this.rules = options.rules
      ? options.rules.map((rule) => alertRuleSchema.parse(rule))
      : defaultRules(world.services());
    this.#url = options.url;
    this.#token = options.bearerToken;
    this.#logger = options.logger ?? silentLogger();
    const namespaces = new Map(world.services().map((service) => [service.name, service.namespace]));
    this.#states = this.rules.map((rule) => ({
      rule,
      value: Number.NaN,
      labels: {
        alertname: rule.name,
        service: rule.service,
        ...(namespaces.get(rule.service) ? { namespace: namespaces.get(rule.service) ?? '' } : {}),
        severity: rule.severity,
        ...rule.labels,
      },
    }));
  }

  /** Points notifications at a receiver (for one started after this sender). */
  connect(target: { url: string; bearerToken?: string }): void {
    this.#url = target.url;
    this.#token = target.bearerToken;
  }

  /** Alerts firing now (after the last evaluation). */
  firing(): WebhookAlert[] {
    return this.#states
      .filter((state) => state.firedAt !== undefined && state.resolvedAt === undefined)
      .map((state) => this.#alert(state));
  }

  /** Runs the evaluation loop on sim time until `stop()`. */
  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    await this.#evaluating;
  }

  /**
   * Evaluates every rule at the world's now and notifies the groups that need it. `force` (a
   * scenario's `alert:` entry without a body) fires every rule whose condition holds without
   * waiting for its `for`, and notifies every firing group.
   */
  evaluate(options: { force?: boolean } = {}): Promise<void> {
    return this.#evaluateAt(undefined, options.force ?? false);
  }

  /** Queues an evaluation stamped `at` (the world's now when it runs, if not given). */
  #evaluateAt(at: number | undefined, force: boolean): Promise<void> {
    this.#evaluating = this.#evaluating.then(() => this.#evaluate(at ?? this.world.now(), force));
    return this.#evaluating;
  }

  /** Posts a webhook body as given (a scenario's explicit `alert:` body). */
  async sendAlert(body: unknown): Promise<AlertmanagerNotification> {
    return this.#post(body, 'explicit');
  }

  async #run(): Promise<void> {
    const interval = this.options.evaluationIntervalMs ?? 15_000;
    let nextAt = this.world.now();
    while (!this.#abort.signal.aborted) {
      const now = this.world.now();
      if (now >= nextAt) {
        // As in Prometheus, an evaluation is stamped with its scheduled time (the latest one due),
        // not the moment it ran: a late tick neither shifts `for` nor reads later samples.
        const at = Math.max(nextAt, Math.floor(now / interval) * interval);
        await this.#evaluateAt(at, false);
        nextAt = Math.floor(at / interval) * interval + interval;
      }
      await sleep(this.options.pollMs ?? 50, this.#abort.signal).catch(() => undefined);
    }
  }

  #expression(rule: AlertRule): string {
    return `nightshift_sim_${snakeCase(rule.metric)}{service="${rule.service}"} ${rule.op} ${rule.threshold}`;
  }

  #alert(state: RuleState): WebhookAlert {
    const values = { value: state.value, threshold: state.rule.threshold, labels: state.labels };
    const annotations = Object.fromEntries(
      Object.entries(state.rule.annotations).map(([key, template]) => [
        key,
        renderAnnotation(template, values),
      ]),
    );
    const query = new URLSearchParams({ 'g0.expr': this.#expression(state.rule), 'g0.tab': '1' });
    return {
      status: state.resolvedAt === undefined ? 'firing' : 'resolved',
      labels: state.labels,
      annotations,
      startsAt: new Date(state.firedAt ?? 0).toISOString(),
      endsAt: state.resolvedAt === undefined ? ZERO_TIME : new Date(state.resolvedAt).toISOString(),
      generatorURL: `${this.options.generatorUrl ?? 'http://prometheus.sim:9090'}/graph?${query.toString()}`,
      fingerprint: labelsFingerprint(state.labels),
    };
  }

  #reset(state: RuleState): void {
    state.activeSince = state.firedAt = state.resolvedAt = undefined;
  }

  #step(state: RuleState, now: number, force: boolean): void {
    const points = this.world.series(state.rule.service, state.rule.metric, now, now, 1_000);
    const value = points[points.length - 1]?.value;
    if (value === undefined) return;
    state.value = value;
    const holds = state.rule.op === '>' ? value > state.rule.threshold : value < state.rule.threshold;
    if (holds) {
      state.activeSince ??= now;
      if (state.firedAt === undefined && (force || now - state.activeSince >= state.rule.for))
        state.firedAt = now;
    } else if (state.firedAt !== undefined) {
      state.resolvedAt = now;
    } else {
      state.activeSince = undefined;
    }
  }

  async #evaluate(at: number, force: boolean): Promise<void> {
    // Stamps never go back (a forced evaluation may have run since the tick was due).
    const now = Math.max(at, this.#lastEvaluatedAt);
    this.#lastEvaluatedAt = now;
    // A resolved alert waits, unchanged, until a notification carrying its resolution succeeds.
    for (const state of this.#states) if (state.resolvedAt === undefined) this.#step(state, now, force);
    for (const service of new Set(this.#states.map((state) => state.rule.service))) {
      const group = this.#groups.get(service) ?? { firingSent: new Set<string>(), signature: '' };
      this.#groups.set(service, group);
      const members = this.#states.filter(
        (state) => state.rule.service === service && state.firedAt !== undefined,
      );
      for (const state of members) {
        // The receiver never heard it fire: nothing to resolve.
        if (state.resolvedAt !== undefined && !group.firingSent.has(labelsFingerprint(state.labels)))
          this.#reset(state);
      }
      const alerts = members
        .filter((state) => state.firedAt !== undefined)
        .map((state) => this.#alert(state));
      if (alerts.length === 0) continue;
      const signature = alerts
        .map((alert) => `${alert.fingerprint}:${alert.status}`)
        .sort()
        .join(',');
      const anyFiring = alerts.some((alert) => alert.status === 'firing');
      const repeatDue =
        anyFiring &&
        group.lastSentAt !== undefined &&
        now - group.lastSentAt >= (this.options.repeatIntervalMs ?? 300_000);
      if (signature === group.signature && !repeatDue && !(force && anyFiring)) continue;
      const body = webhookBody({
        receiver: this.options.receiver ?? 'nightshift',
        externalUrl: this.options.externalUrl ?? 'http://alertmanager.sim:9093',
        groupLabels: { service },
        alerts,
      });
      const notification = await this.#post(body, 'rules');
      if (notification.status === undefined || notification.status >= 300) continue;
      const firing = alerts.filter((alert) => alert.status === 'firing');
      group.lastSentAt = now;
      group.firingSent = new Set(firing.map((alert) => alert.fingerprint));
      group.signature = firing
        .map((alert) => `${alert.fingerprint}:firing`)
        .sort()
        .join(',');
      for (const state of members) if (state.resolvedAt !== undefined) this.#reset(state);
    }
  }

  async #post(body: unknown, origin: AlertmanagerNotification['origin']): Promise<AlertmanagerNotification> {
    const notification: AlertmanagerNotification = { at: this.world.now(), body, origin };
    this.notifications.push(notification);
    if (!this.#url) {
      notification.error = 'no receiver URL connected';
      return notification;
    }
    try {
      const response = await fetch(this.#url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Alertmanager/0.27.0',
          ...(this.#token ? { authorization: `Bearer ${this.#token}` } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      notification.status = response.status;
      if (response.status >= 300)
        this.#logger.warn({ status: response.status }, 'the receiver refused an Alertmanager notification');
    } catch (error) {
      notification.error = error instanceof Error ? error.message : String(error);
      this.#logger.warn({ reason: notification.error }, 'Alertmanager notification not delivered');
    }
    return notification;
  }
}
