import { R, type Cluster } from './cluster.js';
import { cloneJson, rfc3339, type KubeObject } from './kube-object.js';
import type { ServiceModel } from './model.js';
import { stepPod } from './pod-lifecycle.js';
import { isActive, type PodRecord } from './pods.js';
import { codeFingerprint, sameTemplate, templateHash, type PodTemplate } from './templates.js';

/** The annotation holding a ReplicaSet's (and its Deployment's) revision. */
export const REVISION = 'deployment.kubernetes.io/revision';

interface WorkloadSpec {
  replicas?: number;
  template: PodTemplate;
  selector?: { matchLabels?: Record<string, string> };
  [key: string]: unknown;
}

function specOf(object: KubeObject): WorkloadSpec {
  return object.spec as WorkloadSpec;
}

/** The revision of a ReplicaSet (0 when unset). */
export function revisionOf(object: KubeObject): number {
  return Number(object.metadata.annotations?.[REVISION] ?? 0);
}

/** The ReplicaSets a Deployment controls, oldest revision first. */
export function replicaSetsOf(cluster: Cluster, deployment: Readonly<KubeObject>): KubeObject[] {
  return [...cluster.store.scan(R.replicasets, deployment.metadata.namespace)]
    .filter((rs) => rs.metadata.ownerReferences?.some((owner) => owner.uid === deployment.metadata.uid))
    .sort((a, b) => revisionOf(a) - revisionOf(b));
}

/** Creates a pod for an owner from a template; it is scheduled and started by the next step. */
export function createPod(
  cluster: Cluster,
  model: ServiceModel,
  owner: KubeObject,
  template: PodTemplate,
  hash: string,
  name: string,
  ordinal?: number,
): PodRecord {
  const now = cluster.now();
  const pod: PodRecord = {
    name,
    namespace: model.namespace,
    service: model.name,
    uid: cluster.uid(),
    owner: {
      apiVersion: owner.apiVersion,
      kind: owner.kind,
      name: owner.metadata.name,
      uid: owner.metadata.uid ?? '',
    },
    templateHash: hash,
    fingerprint: codeFingerprint(template),
    template: cloneJson(template),
    ...(ordinal !== undefined ? { ordinal } : {}),
    ip: '',
    createdAt: now,
    phase: 'Pending',
    ready: false,
    restartCount: 0,
    serving: [],
  };
  cluster.pods.push(pod);
  stepPod(cluster, pod, now);
  return pod;
}

/** Pods to remove first: unscheduled, then not ready, then the newest. */
function removalOrder(pods: PodRecord[]): PodRecord[] {
  return [...pods].sort((a, b) => {
    const rank = (pod: PodRecord): number => (pod.node === undefined ? 0 : pod.ready ? 2 : 1);
    return rank(a) - rank(b) || b.createdAt - a.createdAt;
  });
}

function syncReplicaSetPods(cluster: Cluster, model: ServiceModel, rs: KubeObject): void {
  const wanted = Number(specOf(rs).replicas ?? 0);
  const pods = cluster.podsOf(rs.metadata.uid ?? '');
  const hash = rs.metadata.labels?.['pod-template-hash'] ?? '';
  for (let count = pods.length; count < wanted; count++) {
    const pod = createPod(
      cluster,
      model,
      rs,
      specOf(rs).template,
      hash,
      `${rs.metadata.name}-${cluster.podSuffix()}`,
    );
    cluster.objectEvent(
      rs,
      'Normal',
      'SuccessfulCreate',
      `Created pod: ${pod.name}`,
      'replicaset-controller',
    );
  }
  for (const pod of removalOrder(pods).slice(0, Math.max(0, pods.length - wanted))) {
    cluster.deletePod(pod);
    cluster.objectEvent(
      rs,
      'Normal',
      'SuccessfulDelete',
      `Deleted pod: ${pod.name}`,
      'replicaset-controller',
    );
  }
}

function replicaSetStatus(cluster: Cluster, rs: KubeObject): void {
  const pods = cluster.podsOf(rs.metadata.uid ?? '');
  const ready = pods.filter((pod) => pod.ready).length;
  const status = {
    replicas: pods.length,
    fullyLabeledReplicas: pods.length,
    readyReplicas: ready,
    availableReplicas: ready,
    observedGeneration: rs.metadata.generation ?? 1,
  };
  if (JSON.stringify(rs.status) !== JSON.stringify(status))
    cluster.store.put(R.replicasets, { ...rs, status });
}

function newReplicaSet(
  cluster: Cluster,
  deployment: KubeObject,
  template: PodTemplate,
  revision: number,
): KubeObject {
  const hash = templateHash(template);
  const rsTemplate = cloneJson(template);
  rsTemplate.metadata.labels['pod-template-hash'] = hash;
  const selector = {
    matchLabels: { ...(specOf(deployment).selector?.matchLabels ?? {}), 'pod-template-hash': hash },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${deployment.metadata.name}-${hash}`,
      namespace: deployment.metadata.namespace,
      uid: cluster.uid(),
      generation: 1,
      creationTimestamp: rfc3339(cluster.now()),
      labels: { ...rsTemplate.metadata.labels },
      annotations: {
        'deployment.kubernetes.io/desired-replicas': String(specOf(deployment).replicas ?? 1),
        'deployment.kubernetes.io/max-replicas': String(Number(specOf(deployment).replicas ?? 1) + 1),
        [REVISION]: String(revision),
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: deployment.metadata.name,
          uid: deployment.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { replicas: 0, selector, template: rsTemplate },
    status: { replicas: 0, observedGeneration: 1 },
  };
}

function scaleReplicaSet(
  cluster: Cluster,
  deployment: KubeObject,
  rs: KubeObject,
  replicas: number,
): KubeObject {
  const from = Number(specOf(rs).replicas ?? 0);
  if (from === replicas) return rs;
  const updated: KubeObject = {
    ...rs,
    metadata: {
      ...rs.metadata,
      generation: (rs.metadata.generation ?? 1) + 1,
      annotations: {
        ...rs.metadata.annotations,
        'deployment.kubernetes.io/desired-replicas': String(specOf(deployment).replicas ?? 1),
      },
    },
    spec: { ...specOf(rs), replicas },
  };
  const message =
    replicas > from
      ? `Scaled up replica set ${rs.metadata.name} from ${from} to ${replicas}`
      : `Scaled down replica set ${rs.metadata.name} from ${from} to ${replicas}`;
  cluster.objectEvent(deployment, 'Normal', 'ScalingReplicaSet', message, 'deployment-controller');
  return cluster.store.put(R.replicasets, updated);
}

/**
 * The deployment controller, one step: find or create the ReplicaSet of the current template
 * (adopting an old one with revision max+1, as after `kubectl rollout undo`), scale it up and
 * the old ones down within maxSurge 25% / maxUnavailable 25%, and keep pods and statuses in line.
 */
export function reconcileDeployment(cluster: Cluster, model: ServiceModel): void {
  let deployment = cluster.store.get(R.deployments, model.namespace, model.name);
  if (!deployment) return;
  const spec = specOf(deployment);
  const desired = Number(spec.replicas ?? 1);
  let sets = replicaSetsOf(cluster, deployment);
  const maxRevision = sets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
  let current = sets.find((rs) => sameTemplate(specOf(rs).template, spec.template));
  if (!current) {
    current = cluster.store.create(
      R.replicasets,
      newReplicaSet(cluster, deployment, spec.template, maxRevision + 1),
    );
    sets = replicaSetsOf(cluster, deployment);
  } else if (revisionOf(current) !== maxRevision) {
    const old = revisionOf(current);
    const annotations: Record<string, string> = {
      ...current.metadata.annotations,
      [REVISION]: String(maxRevision + 1),
    };
    const history = annotations['deployment.kubernetes.io/revision-history'];
    annotations['deployment.kubernetes.io/revision-history'] = history ? `${history},${old}` : String(old);
    current = cluster.store.put(R.replicasets, {
      ...current,
      metadata: { ...current.metadata, annotations },
    });
    sets = replicaSetsOf(cluster, deployment);
  }
  const revision = current.metadata.annotations?.[REVISION] ?? '1';
  if (deployment.metadata.annotations?.[REVISION] !== revision) {
    deployment = cluster.store.put(R.deployments, {
      ...deployment,
      metadata: {
        ...deployment.metadata,
        annotations: { ...deployment.metadata.annotations, [REVISION]: revision },
      },
    });
  }
  const currentUid = current.metadata.uid;
  const olds = sets.filter((rs) => rs.metadata.uid !== currentUid);
  const maxSurge = Math.ceil(desired * 0.25);
  const maxUnavailable =
    maxSurge === 0 ? Math.max(1, Math.floor(desired * 0.25)) : Math.floor(desired * 0.25);
  const readyOf = (rs: KubeObject): number =>
    cluster.podsOf(rs.metadata.uid ?? '').filter((pod) => pod.ready).length;

  let currentReplicas = Number(specOf(current).replicas ?? 0);
  const oldTotal = olds.reduce((sum, rs) => sum + Number(specOf(rs).replicas ?? 0), 0);
  if (currentReplicas > desired) currentReplicas = desired;
  else if (currentReplicas < desired) {
    const room = desired + maxSurge - oldTotal - currentReplicas;
    currentReplicas += Math.max(0, Math.min(room, desired - currentReplicas));
  }
  current = scaleReplicaSet(cluster, deployment, current, currentReplicas);
  syncReplicaSetPods(cluster, model, current);

  const available = readyOf(current) + olds.reduce((sum, rs) => sum + readyOf(rs), 0);
  let removable = available - (desired - maxUnavailable);
  for (const rs of olds) {
    const replicas = Number(specOf(rs).replicas ?? 0);
    if (replicas === 0) {
      syncReplicaSetPods(cluster, model, rs);
      replicaSetStatus(cluster, rs);
      continue;
    }
    const unhealthy = Math.max(0, replicas - readyOf(rs));
    const healthyCut = Math.max(0, Math.min(replicas - unhealthy, removable));
    removable -= healthyCut;
    const scaled = scaleReplicaSet(cluster, deployment, rs, replicas - unhealthy - healthyCut);
    syncReplicaSetPods(cluster, model, scaled);
    replicaSetStatus(cluster, scaled);
  }
  replicaSetStatus(cluster, current);
  deploymentStatus(cluster, model, current);
}

function deploymentStatus(cluster: Cluster, model: ServiceModel, current: KubeObject): void {
  const deployment = cluster.store.get(R.deployments, model.namespace, model.name);
  if (!deployment) return;
  const desired = Number(specOf(deployment).replicas ?? 1);
  const sets = replicaSetsOf(cluster, deployment);
  const pods = sets.flatMap((rs) => cluster.podsOf(rs.metadata.uid ?? ''));
  const updated = cluster.podsOf(current.metadata.uid ?? '');
  const ready = pods.filter((pod) => pod.ready).length;
  const updatedReady = updated.filter((pod) => pod.ready).length;
  const complete = updatedReady >= desired && pods.length === updated.length;
  const previous =
    (deployment.status as { conditions?: Array<Record<string, unknown>> } | undefined)?.conditions ?? [];
  const progressingSince = previous.find((condition) => condition.type === 'Progressing')?.lastUpdateTime as
    string | undefined;
  const changedAt = Date.parse(current.metadata.creationTimestamp ?? '') || cluster.now();
  const stalled = !complete && cluster.now() - changedAt > 600_000;
  const progressing = complete
    ? {
        status: 'True',
        reason: 'NewReplicaSetAvailable',
        message: `ReplicaSet "${current.metadata.name}" has successfully progressed.`,
      }
    : stalled
      ? {
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: `ReplicaSet "${current.metadata.name}" has timed out progressing.`,
        }
      : {
          status: 'True',
          reason: 'ReplicaSetUpdated',
          message: `ReplicaSet "${current.metadata.name}" is progressing.`,
        };
  const availableOk = ready >= desired - Math.floor(desired * 0.25);
  const previousAvailable = previous.find((condition) => condition.type === 'Available');
  const previousProgressing = previous.find((condition) => condition.type === 'Progressing');
  const stamp = rfc3339(cluster.now());
  const conditions = [
    {
      type: 'Available',
      status: availableOk ? 'True' : 'False',
      reason: availableOk ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
      message: availableOk
        ? 'Deployment has minimum availability.'
        : 'Deployment does not have minimum availability.',
      lastUpdateTime:
        previousAvailable?.status === (availableOk ? 'True' : 'False')
          ? previousAvailable.lastUpdateTime
          : stamp,
      lastTransitionTime:
        previousAvailable?.status === (availableOk ? 'True' : 'False')
          ? previousAvailable.lastTransitionTime
          : stamp,
    },
    {
      type: 'Progressing',
      ...progressing,
      lastUpdateTime:
        previousProgressing?.reason === progressing.reason ? (progressingSince ?? stamp) : stamp,
      lastTransitionTime:
        previousProgressing?.status === progressing.status ? previousProgressing.lastTransitionTime : stamp,
    },
  ];
  const status: Record<string, unknown> = {
    observedGeneration: deployment.metadata.generation ?? 1,
    replicas: pods.length,
    updatedReplicas: updated.length,
    readyReplicas: ready,
    availableReplicas: ready,
    conditions,
  };
  if (pods.length - ready > 0) status.unavailableReplicas = pods.length - ready;
  if (JSON.stringify(deployment.status) !== JSON.stringify(status))
    cluster.store.put(R.deployments, { ...deployment, status });
}

/** The statefulset controller, one step: ordinals 0..n-1, rolling update from the highest ordinal. */
export function reconcileStatefulSet(cluster: Cluster, model: ServiceModel): void {
  const set = cluster.store.get(R.statefulsets, model.namespace, model.name);
  if (!set) return;
  const spec = specOf(set);
  const desired = Number(spec.replicas ?? 1);
  const hash = templateHash(spec.template);
  const pods = cluster.livePods(model.name).filter((pod) => pod.owner.uid === set.metadata.uid);
  for (const pod of pods) {
    if (!isActive(pod) || (pod.ordinal ?? 0) >= desired) {
      cluster.deletePod(pod, 'statefulset-controller');
      if ((pod.ordinal ?? 0) >= desired) {
        cluster.objectEvent(
          set,
          'Normal',
          'SuccessfulDelete',
          `delete Pod ${pod.name} in StatefulSet ${set.metadata.name} successful`,
          'statefulset-controller',
        );
      }
    }
  }
  const live = (): PodRecord[] => cluster.podsOf(set.metadata.uid ?? '');
  for (let ordinal = 0; ordinal < desired; ordinal++) {
    if (live().some((pod) => pod.ordinal === ordinal)) continue;
    const name = `${set.metadata.name}-${ordinal}`;
    createPod(cluster, model, set, spec.template, hash, name, ordinal);
    cluster.objectEvent(
      set,
      'Normal',
      'SuccessfulCreate',
      `create Pod ${name} in StatefulSet ${set.metadata.name} successful`,
      'statefulset-controller',
    );
  }
  const current = live();
  const outdated = current
    .filter((pod) => pod.templateHash !== hash)
    .sort((a, b) => (b.ordinal ?? 0) - (a.ordinal ?? 0));
  const target = outdated[0];
  if (target && current.every((pod) => pod.ready || pod.templateHash !== hash)) {
    cluster.deletePod(target, 'statefulset-controller');
    createPod(cluster, model, set, spec.template, hash, target.name, target.ordinal);
  }
  const after = live();
  const ready = after.filter((pod) => pod.ready).length;
  const updated = after.filter((pod) => pod.templateHash === hash).length;
  const status = {
    observedGeneration: set.metadata.generation ?? 1,
    replicas: after.length,
    readyReplicas: ready,
    availableReplicas: ready,
    currentReplicas: updated,
    updatedReplicas: updated,
    currentRevision: `${set.metadata.name}-${hash}`,
    updateRevision: `${set.metadata.name}-${hash}`,
    collisionCount: 0,
  };
  if (JSON.stringify(set.status) !== JSON.stringify(status))
    cluster.store.put(R.statefulsets, { ...set, status });
}

/** The job controller, one step: a running job keeps one active pod. */
export function reconcileJob(cluster: Cluster, model: ServiceModel, job: KubeObject): void {
  const status = (job.status ?? {}) as Record<string, unknown>;
  if (status.completionTime || status.succeeded) return;
  const spec = specOf(job);
  const pods = cluster.podsOf(job.metadata.uid ?? '');
  if (pods.length === 0) {
    const pod = createPod(
      cluster,
      model,
      job,
      spec.template,
      '',
      `${job.metadata.name}-${cluster.podSuffix()}`,
    );
    cluster.objectEvent(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.name}`, 'job-controller');
  }
  const active = cluster.podsOf(job.metadata.uid ?? '');
  const next = {
    ...status,
    active: active.length,
    ready: active.filter((pod) => pod.ready).length,
    startTime: status.startTime ?? rfc3339(cluster.now()),
  };
  if (JSON.stringify(status) !== JSON.stringify(next)) cluster.store.put(R.jobs, { ...job, status: next });
}

/** Keeps an autoscaler's status in line with the replicas of its target (the sim does not autoscale). */
function syncAutoscaler(cluster: Cluster, hpa: Readonly<KubeObject>): void {
  const target = (hpa.spec as { scaleTargetRef?: { name?: string } }).scaleTargetRef?.name ?? '';
  const workload = cluster.workload(target);
  if (!workload) return;
  const replicas = Number((workload.spec as { replicas?: number }).replicas ?? 0);
  const status = (hpa.status ?? {}) as Record<string, unknown>;
  if (status.currentReplicas === replicas && status.desiredReplicas === replicas) return;
  cluster.store.put(R.hpas, {
    ...hpa,
    status: { ...status, currentReplicas: replicas, desiredReplicas: replicas },
  });
}

/** One controller step for every workload: pods move on, then workloads reconcile, then a snapshot. */
export function reconcileAll(cluster: Cluster): void {
  const now = cluster.now();
  for (const pod of cluster.pods) if (isActive(pod)) stepPod(cluster, pod, now);
  for (const model of cluster.host.models.values()) {
    if (model.workload === 'Deployment') reconcileDeployment(cluster, model);
    else if (model.workload === 'StatefulSet') reconcileStatefulSet(cluster, model);
  }
  for (const hpa of cluster.store.scan(R.hpas)) syncAutoscaler(cluster, hpa);
  for (const job of cluster.store.list(R.jobs)) {
    const service = job.metadata.labels?.app;
    const model = service ? cluster.model(service) : undefined;
    if (model) reconcileJob(cluster, model, job);
  }
  cluster.snapshot(now);
}
