import type { V1Container, V1ContainerStatus, V1PodCondition } from '@kubernetes/client-node';
import type { ApiObject } from './api-object.js';
import type { Pod } from './snapshot.js';

export type ContainerSpec = ApiObject<V1Container>;
export type ContainerStatus = ApiObject<V1ContainerStatus>;

/** A container of a pod with its spec and status side by side. */
export interface PodContainer {
  name: string;
  /** Declared in `initContainers`. */
  init: boolean;
  /** An init container with `restartPolicy: Always` (a native sidecar): it runs for the pod's lifetime. */
  sidecar: boolean;
  spec?: ContainerSpec;
  status?: ContainerStatus;
}

/** Every init and regular container of the pod, init containers first, in declaration order. */
export function podContainers(pod: Pod): PodContainer[] {
  const result: PodContainer[] = [];
  const collect = (
    specs: readonly ContainerSpec[] | undefined,
    statuses: readonly ContainerStatus[] | undefined,
    init: boolean,
  ): void => {
    const statusByName = new Map<string, ContainerStatus>();
    for (const status of statuses ?? []) if (status.name !== undefined) statusByName.set(status.name, status);
    const seen = new Set<string>();
    for (const spec of specs ?? []) {
      if (spec.name === undefined) continue;
      seen.add(spec.name);
      const status = statusByName.get(spec.name);
      result.push({
        name: spec.name,
        init,
        sidecar: init && spec.restartPolicy === 'Always',
        spec,
        ...(status ? { status } : {}),
      });
    }
    for (const [name, status] of statusByName) {
      if (!seen.has(name)) result.push({ name, init, sidecar: false, status });
    }
  };
  collect(pod.spec?.initContainers, pod.status?.initContainerStatuses, true);
  collect(pod.spec?.containers, pod.status?.containerStatuses, false);
  return result;
}

/** A pod condition by type. */
export function podCondition(pod: Pod, type: string): ApiObject<V1PodCondition> | undefined {
  return pod.status?.conditions?.find((condition) => condition.type === type);
}

/** A pod that is being deleted: its state is on its way out and not a finding. */
export function isTerminating(pod: Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
}

/** The container a kubelet event is about, from `involvedObject.fieldPath` (`spec.containers{name}`). */
export function containerOfFieldPath(fieldPath: string | undefined): string | undefined {
  if (!fieldPath) return undefined;
  const match = /^spec\.(?:initContainers|containers|ephemeralContainers)\{([^}]+)\}/.exec(fieldPath);
  return match?.[1];
}
