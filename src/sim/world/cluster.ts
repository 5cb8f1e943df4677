import type { Logger } from '../../shared/logger.js';
import type { SimRandom } from '../random.js';
import type { Estate } from '../scenario/estate-schema.js';
import { KubeEventRecorder, type InvolvedObject } from './kube-events.js';
import type { KubeObject } from './kube-object.js';
import type { ServiceModel } from './model.js';
import { isActive, podObject, setServing, type PodFate, type PodRecord, type Termination } from './pods.js';
import { ResourceRegistry } from './resources.js';
import { SnapshotHistory } from './snapshots.js';
import { ObjectStore } from './store.js';
import type { PodTemplate } from './templates.js';
import type { SimLogLine } from './types.js';

/** Resource ids of the built-in types the controllers touch. */
export const R = {
  namespaces: '/namespaces',
  nodes: '/nodes',
  pods: '/pods',
  services: '/services',
  configmaps: '/configmaps',
  secrets: '/secrets',
  events: '/events',
  deployments: 'apps/deployments',
  replicasets: 'apps/replicasets',
  statefulsets: 'apps/statefulsets',
  daemonsets: 'apps/daemonsets',
  hpas: 'autoscaling/horizontalpodautoscalers',
  jobs: 'batch/jobs',
  networkpolicies: 'networking.k8s.io/networkpolicies',
  certificates: 'cert-manager.io/certificates',
} as const;

/** What the cluster needs from the world around it. */
export interface ClusterHost {
  now(): number;
  random: SimRandom;
  logger: Logger;
  estate: Estate;
  models: ReadonlyMap<string, ServiceModel>;
  /** The fate the active faults give a pod; undefined when it may run normally. */
  fateOf(pod: PodRecord): PodFate | undefined;
  addLog(line: SimLogLine): void;
}

/** Time a healthy container takes from start to ready. */
export const STARTUP_MS = 5_000;

/**
 * The Kubernetes side of the world: the object store, the pods' bookkeeping, the event
 * recorder and the per-service snapshots metrics read. Controllers (rollout.ts,
 * pod-lifecycle.ts) work on it.
 */
export class Cluster {
  readonly host: ClusterHost;
  readonly store: ObjectStore;
  readonly resources = new ResourceRegistry();
  readonly events: KubeEventRecorder;
  readonly snapshots = new SnapshotHistory();
  /** Every pod that ever existed, in creation order. */
  readonly pods: PodRecord[] = [];
  /** Models of batch jobs that faults start and the estate does not list. */
  readonly jobModels = new Map<string, ServiceModel>();
  /** While set, the time objects are stamped with (bootstrap builds history in the past). */
  timeOverride: number | undefined;
  readonly #podJson = new Map<string, string>();
  #ipCounter = 10;

  constructor(host: ClusterHost, options: { historySize?: number } = {}) {
    this.host = host;
    this.store = new ObjectStore(options);
    this.events = new KubeEventRecorder(
      this.store,
      () => this.now(),
      () => this.#hex(16),
    );
  }

  now(): number {
    return this.timeOverride ?? this.host.now();
  }

  #hex(length: number): string {
    return this.host.random.stream('kube-names').text(length, '0123456789abcdef');
  }

  /** A new, deterministic UID. */
  uid(): string {
    const hex = this.host.random.stream('uids').text(32, '0123456789abcdef');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  /** A 5-character pod name suffix. */
  podSuffix(): string {
    return this.host.random.stream('pod-names').text(5);
  }

  /** The next pod IP on a node (10.244.<node index>.<n>). */
  podIp(node: string | undefined): string {
    const index = Math.max(
      0,
      this.host.estate.nodes.findIndex((candidate) => candidate.name === node),
    );
    this.#ipCounter += 1;
    return `10.244.${index}.${this.#ipCounter % 250}`;
  }

  nodeIp(node: string): string {
    const index = Math.max(
      0,
      this.host.estate.nodes.findIndex((candidate) => candidate.name === node),
    );
    return `10.0.1.${10 + index}`;
  }

  model(service: string): ServiceModel | undefined {
    return this.host.models.get(service) ?? this.jobModels.get(service);
  }

  /** The workload object (Deployment or StatefulSet) of a service, read-only (never mutate it). */
  workload(service: string): Readonly<KubeObject> | undefined {
    const model = this.model(service);
    if (!model) return undefined;
    if (model.workload === 'Deployment') return this.store.peek(R.deployments, model.namespace, model.name);
    if (model.workload === 'StatefulSet') return this.store.peek(R.statefulsets, model.namespace, model.name);
    return undefined;
  }

  /** The pod template a service's workload runs now. */
  currentTemplate(service: string): PodTemplate | undefined {
    const workload = this.workload(service);
    return (workload?.spec as { template?: PodTemplate } | undefined)?.template;
  }

  /** Live (not deleted) pods of a service, including failed ones. */
  livePods(service?: string): PodRecord[] {
    return this.pods.filter(
      (pod) => pod.deletedAt === undefined && (service === undefined || pod.service === service),
    );
  }

  /** Active pods (not deleted, not terminal) of an owner. */
  podsOf(ownerUid: string): PodRecord[] {
    return this.pods.filter((pod) => pod.owner.uid === ownerUid && isActive(pod));
  }

  findPod(namespace: string, name: string): PodRecord | undefined {
    return this.pods.find(
      (pod) => pod.namespace === namespace && pod.name === name && pod.deletedAt === undefined,
    );
  }

  /** Writes a pod's object if it changed. */
  syncPod(pod: PodRecord): void {
    const key = `${pod.namespace}/${pod.name}`;
    if (pod.deletedAt !== undefined) {
      if (this.#podJson.has(key)) {
        this.#podJson.delete(key);
        this.store.delete(R.pods, pod.namespace, pod.name);
      }
      return;
    }
    const object = podObject(pod);
    const json = JSON.stringify(object);
    if (this.#podJson.get(key) === json) return;
    this.#podJson.set(key, json);
    this.store.put(R.pods, object);
  }

  /** Records an Event about a pod. */
  podEvent(
    pod: PodRecord,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component = 'kubelet',
  ): void {
    const involved: InvolvedObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      name: pod.name,
      namespace: pod.namespace,
      uid: pod.uid,
      ...(component === 'kubelet'
        ? { fieldPath: `spec.containers{${pod.template.spec.containers[0]?.name ?? 'app'}}` }
        : {}),
    };
    this.events.record(
      involved,
      type,
      reason,
      message,
      component,
      component === 'kubelet' ? pod.node : undefined,
    );
  }

  /** Records an Event about any object. */
  objectEvent(
    object: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component: string,
  ): void {
    this.events.record(
      {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name,
        ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
        ...(object.metadata.uid ? { uid: object.metadata.uid } : {}),
      },
      type,
      reason,
      message,
      component,
    );
  }

  /** Restarts a pod's container after a termination (OOMKilled, Error, …). */
  restartContainer(
    pod: PodRecord,
    termination: Omit<Termination, 'finishedAt' | 'startedAt'>,
    lines: readonly string[] = [],
  ): void {
    const now = this.now();
    for (const [index, line] of lines.entries()) {
      this.host.addLog({
        t: now - lines.length + index,
        service: pod.service,
        pod: pod.name,
        level: levelOf(line),
        message: line,
      });
    }
    pod.lastTerminated = {
      ...termination,
      startedAt: pod.containerStartedAt ?? pod.createdAt,
      finishedAt: now,
    };
    pod.restartCount += 1;
    pod.containerStartedAt = now;
    pod.ready = false;
    delete pod.readyAt;
    setServing(pod, false, now);
    this.podEvent(
      pod,
      'Normal',
      'Pulled',
      `Container image "${pod.template.spec.containers[0]?.image ?? ''}" already present on machine`,
    );
    this.podEvent(
      pod,
      'Normal',
      'Started',
      `Started container ${pod.template.spec.containers[0]?.name ?? 'app'}`,
    );
    this.syncPod(pod);
  }

  /** Evicts a pod as the kubelet does under node pressure. */
  evict(pod: PodRecord, message: string): void {
    const now = this.now();
    pod.phase = 'Failed';
    pod.reason = 'Evicted';
    pod.message = message;
    pod.ready = false;
    pod.lastTerminated = {
      reason: 'Evicted',
      exitCode: 137,
      startedAt: pod.containerStartedAt ?? pod.createdAt,
      finishedAt: now,
    };
    setServing(pod, false, now);
    this.podEvent(pod, 'Warning', 'Evicted', message);
    this.podEvent(
      pod,
      'Normal',
      'Killing',
      `Stopping container ${pod.template.spec.containers[0]?.name ?? 'app'}`,
    );
    this.syncPod(pod);
  }

  /** Deletes a pod (gracefully, at once). */
  deletePod(pod: PodRecord, component = 'kubelet'): void {
    const now = this.now();
    if (pod.containerStartedAt !== undefined && isActive(pod)) {
      this.podEvent(
        pod,
        'Normal',
        'Killing',
        `Stopping container ${pod.template.spec.containers[0]?.name ?? 'app'}`,
        component,
      );
    }
    setServing(pod, false, now);
    pod.deletedAt = now;
    pod.ready = false;
    this.syncPod(pod);
  }

  /** Records the current snapshot of every service (for metrics). */
  snapshot(time = this.now()): void {
    for (const model of this.host.models.values()) {
      if (model.workload === 'none') continue;
      const pods = this.livePods(model.name).filter(isActive);
      const ready = pods.filter((pod) => pod.ready);
      const readyByFingerprint: Record<string, number> = {};
      for (const pod of ready)
        readyByFingerprint[pod.fingerprint] = (readyByFingerprint[pod.fingerprint] ?? 0) + 1;
      const workload = this.workload(model.name);
      const desired = Number((workload?.spec as { replicas?: number } | undefined)?.replicas ?? pods.length);
      this.snapshots.record(model.name, {
        t: time,
        desired,
        ready: ready.length,
        readyByFingerprint,
        restarts: pods.reduce((sum, pod) => sum + pod.restartCount, 0),
      });
    }
  }
}

/** The level a log line announces (`ERROR …`, `level=warn`, `FATAL`), info otherwise. */
export function levelOf(line: string): string {
  const head = line.slice(0, 40).toLowerCase();
  if (/\b(error|fatal|panic|err)\b/.test(head) || head.startsWith('e0')) return 'error';
  if (/\b(warn|warning)\b/.test(head) || head.startsWith('w0')) return 'warn';
  if (/\bdebug\b/.test(head)) return 'debug';
  return 'info';
}
