import { join } from 'node:path';
import { describeError } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { SimClock } from '../clock.js';
import { SimRandom } from '../random.js';
import type { Estate } from '../scenario/estate-schema.js';
import type { Fault } from '../scenario/fault-schema.js';
import type { Scenario } from '../scenario/load.js';
import { bootstrapCluster } from './bootstrap.js';
import { Cluster, levelOf, type R } from './cluster.js';
import { deployChange } from './deploy.js';
import {
  activeSince,
  type DeployChange,
  type FaultModel,
  type FaultRuntime,
  type FaultWorld,
} from './faults/fault-model.js';
import { faultModel } from './faults/index.js';
import { FlagStore, type FlagChange } from './flags.js';
import { GitRepos } from './git-repos.js';
import { KubeApi } from './kube-api.js';
import { generateLogs } from './logs.js';
import { computeSamples, type MetricsInput } from './metrics.js';
import { buildServiceModels, dependencyOrder, type ServiceModel } from './model.js';
import { isActive, type PodFate, type PodRecord } from './pods.js';
import { MemoryRequestLog } from './request-log.js';
import { reconcileAll } from './rollout.js';
import type { Samples } from './samples.js';
import { runTimelineEntry } from './timeline.js';
import { initRepositories } from './repositories.js';
import type {
  SimAction,
  SimAlert,
  SimApprovals,
  SimEvent,
  SimFaultState,
  SimFlagValue,
  SimLogLine,
  SimMetricName,
  SimPodSummary,
  SimSeriesPoint,
  SimService,
  SimWorld,
  SimWorldEvents,
} from './types.js';

/** How to build a world. */
export interface WorldOptions {
  estate: Estate;
  scenario?: Scenario;
  /** Default: the scenario's seed, else 1. */
  seed?: number;
  /** Sim epoch ms of `at: 0s`. Default: now, rounded down to the second. */
  startMs?: number;
  /** Sim ms per wall ms once started. Default: the scenario's speed, else 1. */
  speed?: number;
  logger?: Logger;
  /** Where the git repositories go (`<dataDir>/git`); without it the world keeps none. */
  dataDir?: string;
  /** Sim ms between world ticks (controllers, faults). Default 5000. */
  tickMs?: number;
  /** Object changes kept for watches to resume from (default 20000); older versions get 410 Gone. */
  watchHistory?: number;
}

type Listener = (payload: never) => void;

/**
 * The simulated estate: Kubernetes objects and controllers, metric series, logs, git
 * repositories, flags and the faults of a scenario, all on one discrete-event sim clock.
 * Create it with `createWorld`; step it with `advance` (tests) or `clock.start()`.
 */
export class World implements SimWorld {
  readonly estate: Estate;
  readonly scenario: Scenario | undefined;
  readonly clock: SimClock;
  readonly random: SimRandom;
  readonly logger: Logger;
  readonly models: ReadonlyMap<string, ServiceModel>;
  readonly order: readonly string[];
  readonly cluster: Cluster;
  readonly kube: KubeApi;
  readonly flags: FlagStore;
  readonly requestLog: MemoryRequestLog;
  readonly repos: GitRepos | undefined;
  readonly faultWorld: FaultWorld;
  readonly #startMs: number;
  readonly #tickMs: number;
  readonly #faults: Array<{ runtime: FaultRuntime; model: FaultModel }> = [];
  readonly #actions: SimAction[] = [];
  readonly #events: SimEvent[] = [];
  readonly #logs: SimLogLine[] = [];
  readonly #rollouts = new Map<string, number[]>();
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #cache = new Map<number, Samples>();
  readonly #metricsInput: MetricsInput;

  constructor(options: WorldOptions) {
    this.estate = options.estate;
    this.scenario = options.scenario;
    this.logger = options.logger ?? silentLogger();
    this.#startMs = options.startMs ?? Math.floor(Date.now() / 1000) * 1000;
    this.#tickMs = options.tickMs ?? 5_000;
    this.random = new SimRandom(options.seed ?? options.scenario?.seed ?? 1);
    this.clock = new SimClock({
      startMs: this.#startMs,
      speed: options.speed ?? options.scenario?.speed ?? 1,
      onError: (error) => this.logger.error({ err: error }, 'sim task failed'),
    });
    this.models = buildServiceModels(this.estate);
    this.order = dependencyOrder(this.models);
    this.requestLog = new MemoryRequestLog(() => this.now());
    this.flags = new FlagStore(
      this.estate.flags,
      () => this.now(),
      (change) => this.#flagChanged(change),
    );
    this.repos = options.dataDir ? new GitRepos(join(options.dataDir, 'git')) : undefined;
    this.cluster = new Cluster(
      {
        now: () => this.now(),
        random: this.random,
        logger: this.logger,
        estate: this.estate,
        models: this.models,
        fateOf: (pod) => this.#fateOf(pod),
        addLog: (line) => this.addLog(line),
      },
      options.watchHistory ? { historySize: options.watchHistory } : {},
    );
    this.faultWorld = this.#makeFaultWorld();
    this.kube = new KubeApi(this);
    this.#metricsInput = {
      models: this.models,
      order: this.order,
      random: this.random,
      startMs: this.#startMs,
      snapshotAt: (service, t) => this.cluster.snapshots.at(service, t),
      faults: this.#faults,
      world: this.faultWorld,
    };
  }

  /** Builds the cluster and repositories and schedules the timeline; called once by createWorld. */
  async init(): Promise<void> {
    bootstrapCluster(this.cluster, this.#startMs);
    for (const raw of this.scenario?.kubernetes ?? []) this.kube.addRaw(raw);
    if (this.repos) await initRepositories(this, this.repos);
    this.clock.every(this.#tickMs, (now) => this.#tick(now), this.#startMs);
    for (const entry of this.scenario?.timeline ?? []) {
      this.clock.at(this.#startMs + entry.at, () => runTimelineEntry(this, entry));
    }
    await this.clock.advanceTo(this.#startMs);
  }

  // ---- SimWorld -------------------------------------------------------------------------

  now(): number {
    return this.clock.now();
  }

  startedAt(): number {
    return this.#startMs;
  }

  scenarioName(): string | undefined {
    return this.scenario?.name;
  }

  estateName(): string {
    return this.estate.name;
  }

  clusterName(): string {
    return this.estate.cluster ?? this.estate.name;
  }

  approvals(): SimApprovals {
    return this.scenario?.approvals ?? 'approve';
  }

  services(): readonly SimService[] {
    return [...this.models.values()].map((model) => {
      const template = this.cluster.currentTemplate(model.name);
      const repoPath = model.repo && this.repos ? this.repos.path(model.repo) : undefined;
      return {
        name: model.name,
        namespace: model.namespace,
        kind: model.kind,
        tier: model.tier,
        environment: model.environment,
        ...(model.workload !== 'none' ? { image: template?.spec.containers[0]?.image ?? model.image } : {}),
        ...(model.engine ? { engine: model.engine } : {}),
        ...(model.spec.owner ? { owner: model.spec.owner } : {}),
        ...(model.repo ? { repo: model.repo } : {}),
        ...(repoPath ? { repoPath } : {}),
        dependsOn: model.dependsOn,
        ...(model.spec.slo ? { slo: model.spec.slo } : {}),
        metrics: model.metrics,
      };
    });
  }

  /** Every service's samples at `t` (cached for times already past). */
  samplesAt(t: number): Samples {
    const cached = this.#cache.get(t);
    if (cached) return cached;
    const samples = computeSamples(this.#metricsInput, t);
    if (t < this.now()) {
      this.#cache.set(t, samples);
      if (this.#cache.size > 50_000) {
        const first = this.#cache.keys().next().value;
        if (first !== undefined) this.#cache.delete(first);
      }
    }
    return samples;
  }

  series(
    service: string,
    metric: SimMetricName,
    fromMs: number,
    toMs: number,
    stepMs: number,
  ): readonly SimSeriesPoint[] {
    const model = this.models.get(service);
    if (!model || !model.metrics.includes(metric)) return [];
    const step = Math.max(1_000, Math.floor(stepMs));
    const end = Math.min(toMs, this.now());
    const points: SimSeriesPoint[] = [];
    for (let t = fromMs; t <= end && points.length < 20_000; t += step) {
      const value = this.samplesAt(t).get(service)?.[metric] ?? 0;
      points.push({ t, value: Number(value.toPrecision(6)) });
    }
    return points;
  }

  logs(service: string, range: { fromMs: number; toMs: number; pod?: string }): readonly SimLogLine[] {
    return generateLogs(
      {
        random: this.random,
        startMs: this.#startMs,
        model: (name) => this.models.get(name),
        pods: (name) => this.cluster.pods.filter((pod) => pod.service === name),
        samplesAt: (t) => this.samplesAt(t),
        faults: this.#faults,
        world: this.faultWorld,
        stored: this.#logs,
      },
      service,
      range.fromMs,
      Math.min(range.toMs, this.now()),
      range.pod,
    );
  }

  events(fromMs: number, toMs: number): readonly SimEvent[] {
    return this.#events.filter((event) => event.t >= fromMs && event.t <= toMs);
  }

  pods(service?: string): readonly SimPodSummary[] {
    return this.cluster.livePods(service).map((pod) => ({
      name: pod.name,
      namespace: pod.namespace,
      service: pod.service,
      ...(pod.node ? { node: pod.node } : {}),
      phase: pod.phase,
      ready: pod.ready,
      restarts: pod.restartCount,
      ...(pod.waiting?.reason ? { reason: pod.waiting.reason } : pod.reason ? { reason: pod.reason } : {}),
    }));
  }

  actions(): readonly SimAction[] {
    return [...this.#actions];
  }

  faults(): readonly SimFaultState[] {
    return this.#faults.map(({ runtime, model }) => {
      const present = activeSince(runtime, this.now()) !== undefined;
      const subject = model.subject?.(runtime, this.faultWorld);
      const node = model.node?.(runtime, this.faultWorld);
      return {
        kind: runtime.fault.kind,
        service: runtime.fault.service,
        ...(subject ? { subject } : {}),
        ...(node ? { node } : {}),
        startedAt: runtime.startedAt,
        active: present,
        mitigated: model.mitigated ? model.mitigated(runtime, this.faultWorld) : !present,
        ...(runtime.clearedAt !== undefined ? { clearedAt: runtime.clearedAt } : {}),
      };
    });
  }

  on<K extends keyof SimWorldEvents>(event: K, listener: (payload: SimWorldEvents[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    const stored: Listener = listener;
    set.add(stored);
    return () => set.delete(stored);
  }

  // ---- stepping -------------------------------------------------------------------------

  /** Runs the world `ms` of sim time forward (ticks, timeline, faults), without waiting on the wall clock. */
  advance(ms: number): Promise<void> {
    return this.clock.advance(ms);
  }

  /** Runs the world up to sim time `simMs`. */
  advanceTo(simMs: number): Promise<void> {
    return this.clock.advanceTo(simMs);
  }

  async #tick(now: number): Promise<void> {
    reconcileAll(this.cluster);
    for (const { runtime, model } of this.#faults) {
      if (model.tick && activeSince(runtime, now) !== undefined) model.tick(runtime, this.faultWorld, now);
    }
    this.afterChange();
    this.emit('tick', { now });
    await Promise.resolve();
  }

  // ---- internal API (faults, timeline, Kubernetes API) ----------------------------------

  emit<K extends keyof SimWorldEvents>(event: K, payload: SimWorldEvents[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as (payload: SimWorldEvents[K]) => void)(payload);
      } catch (error) {
        this.logger.warn({ err: error, event }, 'world listener threw');
      }
    }
  }

  addLog(line: SimLogLine): void {
    this.#logs.push(line);
  }

  /** Adds scenario log lines to a service's first serving pod (or the named one). */
  addScenarioLogs(service: string, lines: readonly string[], level?: string, pod?: string): void {
    const target =
      pod ??
      this.cluster.livePods(service).find((candidate) => candidate.ready)?.name ??
      this.cluster.livePods(service)[0]?.name ??
      `${service}-0`;
    const now = this.now();
    lines.forEach((message, index) =>
      this.addLog({ t: now + index, service, pod: target, level: level ?? levelOf(message), message }),
    );
  }

  recordEvent(event: Omit<SimEvent, 't'> & { t?: number }): void {
    const full: SimEvent = { ...event, t: event.t ?? this.now() };
    this.#events.push(full);
    this.emit('event', full);
  }

  /** Records an action that changed the world and lets faults react. */
  recordAction(action: Omit<SimAction, 't'>): void {
    const full: SimAction = { ...action, t: this.now() };
    this.#actions.push(full);
    const model = this.models.get(full.target);
    this.recordEvent({
      title: `${full.kind} ${full.target}`,
      text: `${full.kind} on ${full.target} via ${full.via}${Object.keys(full.details).length ? ` ${JSON.stringify(full.details)}` : ''}`,
      ...(model ? { service: model.name } : {}),
      source: full.kind.startsWith('flags.') ? 'flag' : 'kubernetes',
      severity: 'info',
      tags: [
        `action:${full.kind}`,
        ...(model
          ? [`service:${model.name}`, `kube_namespace:${model.namespace}`]
          : [`target:${full.target}`]),
      ],
    });
    for (const { runtime, model: fault } of this.#faults) fault.onAction?.(runtime, this.faultWorld, full);
    this.emit('action', full);
  }

  /** Notes that a service's pods are being replaced (its template changed). */
  recordRollout(service: string): void {
    const list = this.#rollouts.get(service) ?? [];
    list.push(this.now());
    this.#rollouts.set(service, list);
  }

  /** Re-checks every fault's root cause and records snapshots; call after any change. */
  afterChange(): void {
    const now = this.now();
    for (const { runtime, model } of this.#faults) {
      const present = model.present ? model.present(runtime, this.faultWorld) : true;
      const last = runtime.intervals[runtime.intervals.length - 1];
      const open = last !== undefined && last.to === undefined;
      if (present && !open) runtime.intervals.push({ from: now });
      if (!present && open) {
        last.to = now;
        runtime.clearedAt ??= now;
      }
    }
    this.cluster.snapshot(now);
  }

  /** Starts a fault now. */
  async startFault(fault: Fault): Promise<void> {
    const model = faultModel(fault.kind);
    const runtime: FaultRuntime = {
      fault,
      startedAt: this.now(),
      intervals: [{ from: this.now() }],
      data: {},
    };
    this.#faults.push({ runtime, model });
    this.logger.debug({ kind: fault.kind, service: fault.service }, 'fault started');
    await model.start(runtime, this.faultWorld);
    reconcileAll(this.cluster);
    this.afterChange();
  }

  /** Deploys a change to a service now (commit, new revision, events). */
  deploy(service: string, change: DeployChange): Promise<void> {
    return deployChange(this, service, change);
  }

  #fateOf(pod: PodRecord): PodFate | undefined {
    for (const { runtime, model } of this.#faults) {
      if (!model.fateOf || activeSince(runtime, this.now()) === undefined) continue;
      const fate = model.fateOf(runtime, this.faultWorld, pod);
      if (fate) return fate;
    }
    return undefined;
  }

  #flagChanged(change: FlagChange): void {
    const service = change.flag.service;
    this.recordEvent({
      title: `Flag ${change.flag.key} set to ${String(change.flag.value)}`,
      text: `${change.actor} changed ${change.flag.key} from ${String(change.previous)} to ${String(change.flag.value)}`,
      ...(service ? { service } : {}),
      source: 'flag',
      severity: 'info',
      tags: [`flag:${change.flag.key}`, ...(service ? [`service:${service}`] : [])],
    });
    if (change.via !== 'fault') {
      this.recordAction({
        kind: 'flags.set',
        target: change.flag.key,
        via: change.via,
        details: { value: change.flag.value, previous: change.previous, actor: change.actor },
      });
    }
    this.afterChange();
  }

  #makeFaultWorld(): FaultWorld {
    return {
      now: () => this.now(),
      startedAt: () => this.#startMs,
      random: this.random,
      cluster: this.cluster,
      model: (service) => this.models.get(service) ?? this.cluster.jobModels.get(service),
      models: () => [...this.models.values()],
      deploy: (service, change) => this.deploy(service, change),
      flagValue: (key) => this.flags.get(key)?.value,
      setFlag: (key: string, value: SimFlagValue, actor: string) => {
        this.flags.set(key, value, { actor, via: 'fault' });
      },
      addLog: (line) => this.addLog(line),
      recordEvent: (event) => this.recordEvent(event),
      emitAlert: (alert: SimAlert) => this.emit('alert', alert),
      actions: () => this.#actions,
      snapshotAt: (service, t) => this.cluster.snapshots.at(service, t),
      rollouts: (service) => this.#rollouts.get(service) ?? [],
    };
  }

  /** Pods of a service that are active now. */
  activePods(service: string): PodRecord[] {
    return this.cluster.livePods(service).filter(isActive);
  }

  /** Describes a timeline failure in the log without stopping the world. */
  reportFailure(what: string, error: unknown): void {
    this.logger.warn({ err: error }, `${what} failed: ${describeError(error)}`);
  }

  /** The Kubernetes objects of one resource (for tests and tools). */
  objects(resource: (typeof R)[keyof typeof R]): ReturnType<Cluster['store']['list']> {
    return this.cluster.store.list(resource);
  }
}

/** Builds a world and its history; the clock is at `startMs` and not running. */
export async function createWorld(options: WorldOptions): Promise<World> {
  const world = new World(options);
  await world.init();
  return world;
}
