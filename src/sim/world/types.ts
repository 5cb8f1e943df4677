/**
 * The read side of the simulated world, for the vendor servers (Datadog, Prometheus, Slack,
 * PagerDuty, GitHub, Alertmanager) and the eval harness. Every time is sim time in milliseconds
 * since the Unix epoch. Calls are synchronous and cheap, and none throws for an unknown service,
 * pod or metric: they answer empty.
 *
 * The world also serves the Kubernetes API and the flag provider itself (src/sim/kubernetes/,
 * src/sim/flags-server.ts); those write paths are not part of this interface.
 */

/**
 * The per-service series the world keeps, in the world's own units:
 *
 * | name | unit | on |
 * |---|---|---|
 * | `rps` | requests per second served | every service |
 * | `latencyP50Ms`, `latencyP99Ms` | milliseconds | every service |
 * | `errorRate` | failed / all requests, 0..1 | every service |
 * | `cpu` | cores used, mean per running pod | every service with pods |
 * | `memoryMi` | working set MiB, mean per running pod | every service with pods |
 * | `restarts` | container restarts summed over the service's current pods (a counter that resets when pods are replaced) | every service with pods |
 * | `replicasReady` | ready pods | every service with pods |
 * | `dbConnectionsInUse`, `dbConnectionsMax` | connections | datastores except caches |
 * | `cacheMemoryMi`, `cacheMemoryMaxMi` | MiB used / maxmemory | caches (engine redis or memcached) |
 * | `cacheEvictions` | evicted keys per second | caches |
 * | `cacheFragmentationRatio` | RSS / used memory | caches |
 */
export type SimMetricName =
  | 'rps'
  | 'latencyP50Ms'
  | 'latencyP99Ms'
  | 'errorRate'
  | 'cpu'
  | 'memoryMi'
  | 'restarts'
  | 'replicasReady'
  | 'dbConnectionsInUse'
  | 'dbConnectionsMax'
  | 'cacheMemoryMi'
  | 'cacheMemoryMaxMi'
  | 'cacheEvictions'
  | 'cacheFragmentationRatio';

/** Every metric name, in a stable order. */
export const SIM_METRIC_NAMES: readonly SimMetricName[] = [
  'rps',
  'latencyP50Ms',
  'latencyP99Ms',
  'errorRate',
  'cpu',
  'memoryMi',
  'restarts',
  'replicasReady',
  'dbConnectionsInUse',
  'dbConnectionsMax',
  'cacheMemoryMi',
  'cacheMemoryMaxMi',
  'cacheEvictions',
  'cacheFragmentationRatio',
];

/** One sample: sim time `t` (ms) and its value. */
export interface SimSeriesPoint {
  t: number;
  value: number;
}

/** A service of the estate as the world runs it. */
export interface SimService {
  name: string;
  namespace: string;
  /** service | datastore | queue | external | job */
  kind: string;
  tier: string;
  environment: string;
  /** The image the service runs now (after deploys and rollbacks). */
  image?: string;
  /** e.g. redis, postgres, kafka (datastores and queues). */
  engine?: string;
  owner?: string;
  /** owner/name of its repository, e.g. `shop/checkout`. */
  repo?: string;
  /** Absolute path of the local git repository the sim keeps for it, when it has one. */
  repoPath?: string;
  dependsOn: readonly string[];
  slo?: { latencyP99Ms?: number; errorRate?: number };
  /** The metrics this service has (see SimMetricName). */
  metrics: readonly SimMetricName[];
}

/** One log line of a pod. */
export interface SimLogLine {
  t: number;
  service: string;
  pod: string;
  /** error | warn | info | debug */
  level: string;
  message: string;
}

/**
 * Something that happened in the estate that a monitoring vendor would show as an event: a
 * deploy, a config change, a flag flip, a Kubernetes action. Faults themselves never appear.
 */
export interface SimEvent {
  t: number;
  title: string;
  text: string;
  service?: string;
  /** deploy | config | flag | kubernetes | alert */
  source: string;
  /** info | warning | error | success */
  severity: string;
  tags: readonly string[];
}

/** A message someone typed in Slack, from the scenario's timeline. */
export interface SimSlackMessage {
  channel: string;
  user: string;
  text: string;
  threadTs?: string;
  /** Sim time it was typed. */
  t: number;
}

/** A deploy of a new image (and a commit in the service's repository). */
export interface SimDeploy {
  service: string;
  image: string;
  previousImage?: string;
  /** The new ConfigMap the rollout's pods read, when it changed the configuration. */
  configMap?: string;
  /** owner/name, e.g. `shop/checkout`. */
  repo?: string;
  /** Absolute path of the local git repository. */
  repoPath?: string;
  sha?: string;
  previousSha?: string;
  message?: string;
  author?: string;
  authorEmail?: string;
  /** Files the commit touched, relative to the repository root. */
  files?: readonly string[];
  /** The Deployment revision the rollout created. */
  revision?: number;
  t: number;
}

/**
 * An alert the scenario asks a source to send: an explicit `alert:` timeline entry (its `body`
 * as written, `{}` when omitted) or the alert a `flapping` fault toggles (then `status` and
 * `labels` are set and `body` is a complete Alertmanager v4 webhook body).
 */
export interface SimAlert {
  /** alertmanager | datadog | pagerduty */
  source: string;
  body: unknown;
  status?: 'firing' | 'resolved';
  labels?: Readonly<Record<string, string>>;
  t: number;
}

/** An action that changed the world, however it arrived (Kubernetes API, flag server, timeline). */
export interface SimAction {
  t: number;
  /** k8s.rollback | k8s.rolloutRestart | k8s.scale | k8s.deletePod | k8s.cordonNode | k8s.uncordonNode | flags.set */
  kind: string;
  /** The service, node or flag acted on. */
  target: string;
  /** kubernetes | flags | timeline */
  via: string;
  details: Readonly<Record<string, unknown>>;
}

/** What the world knows about a fault: when it started and whether its root cause is still there. */
export interface SimFaultState {
  kind: string;
  service: string;
  /** The node, datastore, job, flag or policy the fault also names, when it does. */
  subject?: string;
  /** The node involved (node_pressure, noisy_neighbor). */
  node?: string;
  startedAt: number;
  /** True while the root cause is present (an escalation-only fault stays active). */
  active: boolean;
  /** True while the symptoms are relieved (cleared, or temporarily relieved by a restart). */
  mitigated: boolean;
  /** When the right action cleared it. */
  clearedAt?: number;
}

/** A pod as the vendor servers may need it (e.g. for kube-state-metrics style series). */
export interface SimPodSummary {
  name: string;
  namespace: string;
  service: string;
  node?: string;
  /** Pending | Running | Succeeded | Failed */
  phase: string;
  ready: boolean;
  restarts: number;
  /** Waiting reason (CrashLoopBackOff, ImagePullBackOff, …) or termination reason (Evicted). */
  reason?: string;
}

/** One HTTP request a sim server received. */
export interface SimRequest {
  /** Sim time. */
  t: number;
  /** kubernetes | flags | datadog | prometheus | slack | pagerduty | github | anthropic | … */
  server: string;
  method: string;
  /** Path without the query string. */
  path: string;
  query: string;
  contentType?: string;
  /** A mutating method (POST, PUT, PATCH, DELETE) that was not a dry run. */
  write: boolean;
  dryRun: boolean;
  /** The reply status; 0 when the request was recorded before the reply. */
  status: number;
}

/** Every request the sim's servers received, in arrival order. Safe to call from any server. */
export interface SimRequestLog {
  record(request: Omit<SimRequest, 't'> & { t?: number }): void;
  entries(filter?: { server?: string; write?: boolean }): readonly SimRequest[];
  /** Writes that were not dry runs, optionally of one server. */
  writes(server?: string): readonly SimRequest[];
  clear(): void;
}

/** A flag value as the flag provider serves it. */
export type SimFlagValue = boolean | string | number;

/** One feature flag. */
export interface SimFlag {
  key: string;
  service?: string;
  value: SimFlagValue;
  updatedAt: number;
}

/** The flag provider's store. `set` records a `flags.set` action and an event. */
export interface SimFlags {
  get(key: string): SimFlag | undefined;
  list(): readonly SimFlag[];
  /** Changes a flag; throws a ValidationError for an unknown key. */
  set(key: string, value: SimFlagValue, options?: { actor?: string; via?: string }): SimFlag;
}

/** The notifications the world emits, by name, and their payloads. */
export interface SimWorldEvents {
  /** The world advanced to `now` (once per world tick, every few sim seconds). */
  tick: { now: number };
  /** A timeline `slack:` entry is due: deliver it to the daemon as a Slack event. */
  slack: SimSlackMessage;
  /** A service was deployed (timeline `deploy:` or a fault's deploy): send push/deployment webhooks. */
  deploy: SimDeploy;
  /** An alert is due (timeline `alert:` entry, or a `flapping` fault toggling). */
  alert: SimAlert;
  /** An action changed the world. */
  action: SimAction;
  /** An estate event was recorded (same objects as `events()`). */
  event: SimEvent;
}

/** How the sim's on-call answers approval requests. */
export type SimApprovals = 'approve' | 'reject' | 'ignore';

/**
 * The simulated world. Series, logs and events are pure functions of the estate, the scenario,
 * the seed and what happened so far, so the same scenario and seed give the same answers.
 */
export interface SimWorld {
  /** Sim time now, ms since the epoch. */
  now(): number;
  /** Sim time at which the scenario's timeline starts (`at: 0s`). */
  startedAt(): number;
  /** The scenario's name, or undefined when the world runs an estate alone. */
  scenarioName(): string | undefined;
  /** The estate's name and Kubernetes cluster name. */
  estateName(): string;
  clusterName(): string;
  services(): readonly SimService[];
  /**
   * Samples of one series at `fromMs`, `fromMs + stepMs`, … up to `toMs` and never after
   * `now()`; empty for an unknown service or a metric the service does not have.
   */
  series(
    service: string,
    metric: SimMetricName,
    fromMs: number,
    toMs: number,
    stepMs: number,
  ): readonly SimSeriesPoint[];
  /** Log lines of a service in [fromMs, toMs], oldest first; `pod` narrows to one pod. */
  logs(service: string, range: { fromMs: number; toMs: number; pod?: string }): readonly SimLogLine[];
  /** Estate events in [fromMs, toMs], oldest first. */
  events(fromMs: number, toMs: number): readonly SimEvent[];
  /** Pods that exist now (including failed, evicted ones); `service` narrows. */
  pods(service?: string): readonly SimPodSummary[];
  /** Actions applied so far, oldest first. */
  actions(): readonly SimAction[];
  /** Faults started so far, in start order. */
  faults(): readonly SimFaultState[];
  /** How the sim's on-call answers approval requests (scenario `approvals`, default approve). */
  approvals(): SimApprovals;
  /** Subscribes to a notification; returns the unsubscribe function. Listeners must not throw. */
  on<K extends keyof SimWorldEvents>(event: K, listener: (payload: SimWorldEvents[K]) => void): () => void;
  readonly flags: SimFlags;
  readonly requestLog: SimRequestLog;
}
