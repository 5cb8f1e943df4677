import { R } from '../cluster.js';
import { rfc3339, type KubeObject } from '../kube-object.js';
import type { ServiceModel } from '../model.js';
import { isActive } from '../pods.js';
import { reconcileAll } from '../rollout.js';
import { buildTemplate, codeFingerprint } from '../templates.js';
import type { FaultRuntime, FaultWorld } from './fault-model.js';

/** A string the model stored in `runtime.data`, or the fallback. */
export function dataText(runtime: { data: Record<string, unknown> }, key: string, fallback = ''): string {
  const value = runtime.data[key];
  return typeof value === 'string' ? value : fallback;
}

/** The code fingerprint of the template a service runs now. */
export function currentFingerprint(world: FaultWorld, service: string): string | undefined {
  const template = world.cluster.currentTemplate(service);
  return template ? codeFingerprint(template) : undefined;
}

/** The share of a service's ready pods that run `fingerprint` at `t` (0 when none is ready). */
export function readyShare(world: FaultWorld, service: string, fingerprint: unknown, t: number): number {
  if (typeof fingerprint !== 'string') return 0;
  const snapshot = world.snapshotAt(service, t);
  if (!snapshot || snapshot.ready === 0) return 0;
  return (snapshot.readyByFingerprint[fingerprint] ?? 0) / snapshot.ready;
}

/** A ramp from 0 at `from` to 1 after `durationMs`. */
export function ramp(t: number, from: number, durationMs: number): number {
  return Math.max(0, Math.min(1, (t - from) / durationMs));
}

/** The node of the service's first running pod (or the first node). */
export function nodeOfService(world: FaultWorld, service: string): string {
  const pod = world.cluster.livePods(service).find((candidate) => isActive(candidate) && candidate.node);
  return pod?.node ?? world.cluster.store.list(R.nodes)[0]?.metadata.name ?? 'node-a';
}

/** The tag of an image (`3.1.0` of `shop/checkout:3.1.0`). */
export function tagOf(image: string): string {
  return image.includes(':') ? (image.split(':').pop() ?? '') : 'latest';
}

/** Sets a node condition (MemoryPressure, DiskPressure, …). */
export function setNodeCondition(
  world: FaultWorld,
  node: string,
  type: string,
  status: 'True' | 'False',
  reason: string,
  message: string,
): void {
  const object = world.cluster.store.get(R.nodes, undefined, node);
  if (!object) return;
  const stamp = rfc3339(world.now());
  const nodeStatus = (object.status ?? {}) as { conditions?: Array<Record<string, unknown>> };
  nodeStatus.conditions = (nodeStatus.conditions ?? []).map((condition) =>
    condition.type === type
      ? { ...condition, status, reason, message, lastHeartbeatTime: stamp, lastTransitionTime: stamp }
      : condition,
  );
  world.cluster.store.put(R.nodes, { ...object, status: nodeStatus });
}

/**
 * Starts a running batch Job named `job` (a service of kind job in the estate, or one made up
 * in `namespace`), pinned to `node` when given; returns the Job object.
 */
export function startJob(
  world: FaultWorld,
  job: string,
  namespace: string,
  node: string | undefined,
  cpu: number,
): KubeObject {
  const cluster = world.cluster;
  let model: ServiceModel | undefined = world.model(job);
  if (!model) {
    model = {
      spec: {
        name: job,
        namespace,
        kind: 'job',
        replicas: 1,
        tier: 'standard',
        stateful: false,
        dependsOn: [],
        env: {},
        baseline: {},
      },
      name: job,
      namespace,
      kind: 'job',
      tier: 'standard',
      environment: cluster.host.estate.environment,
      workload: 'Job',
      image: `${cluster.host.estate.name}/${job}:1.0.0`,
      port: 8080,
      portName: 'http',
      replicas: 1,
      baseline: { rps: 0, latencyP50Ms: 0, latencyP99Ms: 0, errorRate: 0, cpu, memoryMi: 1024 },
      limits: { cpu: cpu * 1.5, memoryMi: 2048 },
      isCache: false,
      isDatabase: false,
      dependsOn: [],
      dependents: [],
      metrics: ['cpu', 'memoryMi'],
    };
    cluster.jobModels.set(job, model);
  }
  const template = buildTemplate(model, cluster.host.estate, undefined);
  template.spec.restartPolicy = 'Never';
  if (node) template.spec.nodeSelector = { 'kubernetes.io/hostname': node };
  const name = `${job}-${Math.floor(world.now() / 1000)}`;
  const object: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: model.namespace,
      uid: cluster.uid(),
      creationTimestamp: rfc3339(world.now()),
      labels: { app: job },
    },
    spec: { parallelism: 1, completions: 1, backoffLimit: 6, template },
    status: { startTime: rfc3339(world.now()), active: 0 },
  };
  cluster.store.create(R.jobs, object);
  reconcileAll(cluster);
  return object;
}

/** Times of actions of a kind on a target after the fault started. */
export function actionTimes(
  runtime: FaultRuntime,
  world: FaultWorld,
  kinds: readonly string[],
  target: string,
): number[] {
  return world
    .actions()
    .filter(
      (action) => kinds.includes(action.kind) && action.target === target && action.t >= runtime.startedAt,
    )
    .map((action) => action.t);
}

/** The latest rollout of a service at or before `t` (pods replaced), if any. */
export function lastRollout(world: FaultWorld, service: string, t: number): number | undefined {
  let last: number | undefined;
  for (const at of world.rollouts(service)) if (at <= t) last = at;
  return last;
}
