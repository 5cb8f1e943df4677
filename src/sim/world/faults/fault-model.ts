import type { Fault, FaultKind } from '../../scenario/fault-schema.js';
import type { SimRandom } from '../../random.js';
import type { Cluster } from '../cluster.js';
import type { ServiceModel } from '../model.js';
import type { PodFate, PodRecord } from '../pods.js';
import type { Samples } from '../samples.js';
import type { ServiceSnapshot } from '../snapshots.js';
import type { PodTemplate } from '../templates.js';
import type { SimAction, SimAlert, SimEvent, SimFlagValue, SimLogLine } from '../types.js';

/** A change a deploy makes, as a fault or the timeline asks for it. */
export interface DeployChange {
  image?: string;
  /** New or changed ConfigMap keys: a new versioned ConfigMap is created and referenced. */
  config?: Record<string, string>;
  /** Any further change to the template (resources, annotations). */
  mutate?: (template: PodTemplate) => void;
  message?: string;
  author?: string;
  /** Files (path → content) the commit writes; default: the image tag in deploy/values.yaml. */
  files?: Record<string, string>;
  /** Sees the final template before it is applied (before any pod of it exists). */
  onTemplate?: (template: PodTemplate) => void;
}

/** What a fault model may read and change in the world. */
export interface FaultWorld {
  now(): number;
  startedAt(): number;
  readonly random: SimRandom;
  readonly cluster: Cluster;
  model(service: string): ServiceModel | undefined;
  models(): readonly ServiceModel[];
  /** Deploys a change to a service as a CI pipeline would (commit, new revision, events). */
  deploy(service: string, change: DeployChange): Promise<void>;
  flagValue(key: string): SimFlagValue | undefined;
  /** Flips a flag as its owner would (an event, not an action of nightshift). */
  setFlag(key: string, value: SimFlagValue, actor: string): void;
  addLog(line: SimLogLine): void;
  recordEvent(event: Omit<SimEvent, 't'> & { t?: number }): void;
  emitAlert(alert: SimAlert): void;
  actions(): readonly SimAction[];
  snapshotAt(service: string, t: number): ServiceSnapshot | undefined;
  /** Times the service's pods were all replaced (template changes), ascending. */
  rollouts(service: string): readonly number[];
}

/** One fault as it runs: its spec, when its root cause was present, and the model's own data. */
export interface FaultRuntime<F extends Fault = Fault> {
  fault: F;
  startedAt: number;
  /** Intervals in which the root cause was present. */
  intervals: Array<{ from: number; to?: number }>;
  clearedAt?: number;
  /** The model's own state (fingerprints, node, job names). */
  data: Record<string, unknown>;
}

/** The start of the present-interval containing `t`, or undefined when the cause was absent at `t`. */
export function activeSince(runtime: FaultRuntime, t: number): number | undefined {
  for (const interval of runtime.intervals)
    if (interval.from <= t && (interval.to === undefined || t < interval.to)) return interval.from;
  return undefined;
}

/**
 * How one fault kind shows in the world and what clears it (docs/evals.md, "Faults"). Every
 * method is deterministic given the world; `apply` is pure in `t` (it reads only history up to t).
 */
export interface FaultModel<F extends Fault = Fault> {
  readonly kind: F['kind'];
  /** The node, datastore, job, flag, policy or certificate the fault also names. */
  subject?(runtime: FaultRuntime<F>, world: FaultWorld): string | undefined;
  /** The node involved, when there is one. */
  node?(runtime: FaultRuntime<F>, world: FaultWorld): string | undefined;
  /** At the fault's `at`: change the world (deploy a bad revision, add a policy, flip a flag). */
  start(runtime: FaultRuntime<F>, world: FaultWorld): void | Promise<void>;
  /** Whether the root cause is still present; checked every tick and after every write. Default: always. */
  present?(runtime: FaultRuntime<F>, world: FaultWorld): boolean;
  /** Whether the symptoms are relieved now; default: not present. */
  mitigated?(runtime: FaultRuntime<F>, world: FaultWorld): boolean;
  /** The fate of a pod while the cause is present (crash loop, image pull, unschedulable). */
  fateOf?(runtime: FaultRuntime<F>, world: FaultWorld, pod: PodRecord): PodFate | undefined;
  /** Object changes each world tick while present (OOM kills, evictions, alert toggles). */
  tick?(runtime: FaultRuntime<F>, world: FaultWorld, now: number): void;
  /** Reacts to an action (e.g. a restart during exhaustion makes it worse). */
  onAction?(runtime: FaultRuntime<F>, world: FaultWorld, action: SimAction): void;
  /** Changes the samples at `t` (called for every t after the start; check `activeSince`). */
  apply(runtime: FaultRuntime<F>, world: FaultWorld, t: number, samples: Samples): void;
  /** The error a request failing on `service` at `t` logs because of this fault, if it explains it. */
  errorLine?(runtime: FaultRuntime<F>, world: FaultWorld, service: string, t: number): string | undefined;
  /** Extra lines a serving pod logs at `t` (once per 10 s bucket). */
  podLines?(
    runtime: FaultRuntime<F>,
    world: FaultWorld,
    pod: PodRecord,
    t: number,
  ): ReadonlyArray<{ level: string; message: string }>;
}

/** A FaultModel of a given kind. */
export type FaultModelOf<K extends FaultKind> = FaultModel<Extract<Fault, { kind: K }>>;
