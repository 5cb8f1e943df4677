import { rfc3339, type KubeObject } from './kube-object.js';
import type { PodTemplate } from './templates.js';

/** Why a pod is not simply running: the fate faults assign to new or existing pods. */
export type PodFate =
  | { kind: 'unschedulable'; message: string }
  | { kind: 'image-pull'; image: string; message: string }
  | { kind: 'crash-loop'; exitCode: number; reason: string; lines: readonly string[] };

/** A container's last termination. */
export interface Termination {
  reason: string;
  exitCode: number;
  startedAt: number;
  finishedAt: number;
  message?: string;
}

/** The sim's bookkeeping of one pod; the Kubernetes object is derived from it (`podObject`). */
export interface PodRecord {
  name: string;
  namespace: string;
  service: string;
  uid: string;
  owner: { apiVersion: string; kind: string; name: string; uid: string };
  /** pod-template-hash (ReplicaSet pods) or controller-revision-hash (StatefulSet pods). */
  templateHash: string;
  /** codeFingerprint of the template. */
  fingerprint: string;
  template: PodTemplate;
  ordinal?: number;
  ip: string;
  node?: string;
  hostIP?: string;
  createdAt: number;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  ready: boolean;
  readyAt?: number;
  containerStartedAt?: number;
  waiting?: { reason: string; message?: string };
  restartCount: number;
  lastTerminated?: Termination;
  /** Pod-level reason and message (e.g. Evicted). */
  reason?: string;
  message?: string;
  unschedulableMessage?: string;
  nextRestartAt?: number;
  backoffMs?: number;
  deletedAt?: number;
  /** Wall of time intervals [from, to) in which the pod served traffic (for its logs). */
  serving: Array<{ from: number; to?: number }>;
}

/** True for a pod that is neither deleted nor terminal (Failed/Succeeded). */
export function isActive(pod: PodRecord): boolean {
  return pod.deletedAt === undefined && pod.phase !== 'Failed' && pod.phase !== 'Succeeded';
}

/** Marks a pod serving or not at `now`, keeping its serving intervals. */
export function setServing(pod: PodRecord, serving: boolean, now: number): void {
  const last = pod.serving[pod.serving.length - 1];
  const open = last !== undefined && last.to === undefined;
  if (serving && !open) pod.serving.push({ from: now });
  if (!serving && open) last.to = now;
}

/** True when the pod served traffic at `t`. */
export function servingAt(pod: PodRecord, t: number): boolean {
  return pod.serving.some((interval) => interval.from <= t && (interval.to === undefined || t < interval.to));
}

function containerState(pod: PodRecord): Record<string, unknown> {
  if (pod.phase === 'Failed' && pod.reason === 'Evicted') {
    return {
      terminated: {
        exitCode: 137,
        reason: 'ContainerStatusUnknown',
        message: 'The container could not be located when the pod was terminated',
        startedAt: rfc3339(pod.containerStartedAt ?? pod.createdAt),
        finishedAt: rfc3339(pod.lastTerminated?.finishedAt ?? pod.createdAt),
      },
    };
  }
  if (pod.waiting)
    return {
      waiting: {
        reason: pod.waiting.reason,
        ...(pod.waiting.message ? { message: pod.waiting.message } : {}),
      },
    };
  if (pod.containerStartedAt !== undefined)
    return { running: { startedAt: rfc3339(pod.containerStartedAt) } };
  return { waiting: { reason: 'ContainerCreating' } };
}

/** The Pod object (core/v1) of a record. */
export function podObject(pod: PodRecord): KubeObject {
  const container = pod.template.spec.containers[0];
  const scheduled = pod.node !== undefined;
  const created = rfc3339(pod.createdAt);
  const conditions: Array<Record<string, unknown>> = [
    scheduled
      ? { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: created }
      : {
          type: 'PodScheduled',
          status: 'False',
          lastProbeTime: null,
          lastTransitionTime: created,
          reason: 'Unschedulable',
          message: pod.unschedulableMessage ?? '',
        },
  ];
  if (scheduled) {
    const readyStatus = pod.ready ? 'True' : 'False';
    const when = rfc3339(pod.readyAt ?? pod.containerStartedAt ?? pod.createdAt);
    const notReady = pod.ready
      ? {}
      : {
          reason: 'ContainersNotReady',
          message: `containers with unready status: [${container?.name ?? 'app'}]`,
        };
    conditions.push(
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: created },
      {
        type: 'ContainersReady',
        status: readyStatus,
        lastProbeTime: null,
        lastTransitionTime: when,
        ...notReady,
      },
      { type: 'Ready', status: readyStatus, lastProbeTime: null, lastTransitionTime: when, ...notReady },
    );
  }
  const labels = { ...pod.template.metadata.labels };
  if (pod.owner.kind === 'ReplicaSet') labels['pod-template-hash'] = pod.templateHash;
  if (pod.owner.kind === 'StatefulSet') {
    labels['controller-revision-hash'] = `${pod.owner.name}-${pod.templateHash}`;
    labels['statefulset.kubernetes.io/pod-name'] = pod.name;
  }
  if (pod.owner.kind === 'Job') {
    labels['job-name'] = pod.owner.name;
    labels['batch.kubernetes.io/job-name'] = pod.owner.name;
    labels['controller-uid'] = pod.owner.uid;
  }
  const status: Record<string, unknown> = { phase: pod.phase, conditions, qosClass: 'Burstable' };
  if (pod.reason) status.reason = pod.reason;
  if (pod.message) status.message = pod.message;
  if (scheduled) {
    status.hostIP = pod.hostIP;
    status.hostIPs = [{ ip: pod.hostIP }];
    status.podIP = pod.ip;
    status.podIPs = [{ ip: pod.ip }];
    status.startTime = created;
    status.containerStatuses = [
      {
        name: container?.name ?? 'app',
        image: container?.image ?? '',
        imageID:
          pod.waiting?.reason === 'ImagePullBackOff' || pod.waiting?.reason === 'ErrImagePull'
            ? ''
            : `docker.io/${container?.image ?? ''}@sha256:${pod.fingerprint.padEnd(64, '0')}`,
        containerID:
          pod.containerStartedAt !== undefined
            ? `containerd://${pod.uid.replaceAll('-', '')}${pod.restartCount}`
            : undefined,
        ready: pod.ready,
        started: pod.containerStartedAt !== undefined && !pod.waiting,
        restartCount: pod.restartCount,
        state: containerState(pod),
        lastState: pod.lastTerminated
          ? {
              terminated: {
                exitCode: pod.lastTerminated.exitCode,
                reason: pod.lastTerminated.reason,
                ...(pod.lastTerminated.message ? { message: pod.lastTerminated.message } : {}),
                startedAt: rfc3339(pod.lastTerminated.startedAt),
                finishedAt: rfc3339(pod.lastTerminated.finishedAt),
              },
            }
          : {},
      },
    ];
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      ...(pod.owner.kind === 'StatefulSet' ? {} : { generateName: `${pod.owner.name}-` }),
      namespace: pod.namespace,
      uid: pod.uid,
      creationTimestamp: created,
      labels,
      ownerReferences: [{ ...pod.owner, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      ...pod.template.spec,
      ...(scheduled ? { nodeName: pod.node } : {}),
      serviceAccountName: 'default',
      enableServiceLinks: true,
      priority: 0,
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
    },
    status,
  };
}
