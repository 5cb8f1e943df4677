import { alertId, containerId, k8sId, namespaceId, nodeId, serviceId } from '../graph/ids.js';
import type { WorkloadKind } from '../graph/schema.js';
import type { EntityRef } from './signal.js';

/** Names a payload may give for the Kubernetes objects and the service it is about. */
export interface KubernetesNames {
  cluster: string;
  namespace?: string | undefined;
  pod?: string | undefined;
  container?: string | undefined;
  node?: string | undefined;
  replicaSet?: string | undefined;
  workloads?: ReadonlyArray<{ kind: WorkloadKind; name: string | undefined }>;
  /** A logical service as monitoring names it (`service:<name>` in the graph). */
  services?: ReadonlyArray<string | undefined>;
}

/** A usable name: a non-empty string of at most 253 characters without control characters. */
export function usableName(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 253) return false;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

/**
 * Entity references for the Kubernetes objects named, with graph ids. Namespaced objects (pods,
 * workloads, replica sets) are referenced only when the namespace is known, and containers only
 * with their pod; unusable names are skipped rather than guessed.
 */
export function kubernetesRefs(names: KubernetesNames): EntityRef[] {
  const refs: EntityRef[] = [];
  const { cluster } = names;
  const namespace = usableName(names.namespace) ? names.namespace : undefined;
  if (namespace) {
    refs.push({ kind: 'Namespace', id: namespaceId(cluster, namespace), name: namespace, cluster });
    for (const workload of names.workloads ?? []) {
      if (!usableName(workload.name)) continue;
      refs.push({
        kind: 'Workload',
        id: k8sId(cluster, namespace, workload.kind, workload.name),
        name: workload.name,
        namespace,
        cluster,
      });
    }
    if (usableName(names.replicaSet)) {
      refs.push({
        kind: 'ReplicaSet',
        id: k8sId(cluster, namespace, 'ReplicaSet', names.replicaSet),
        name: names.replicaSet,
        namespace,
        cluster,
      });
    }
    if (usableName(names.pod)) {
      const podId = k8sId(cluster, namespace, 'Pod', names.pod);
      refs.push({ kind: 'Pod', id: podId, name: names.pod, namespace, cluster });
      if (usableName(names.container)) {
        refs.push({
          kind: 'Container',
          id: containerId(podId, names.container),
          name: names.container,
          namespace,
          cluster,
        });
      }
    }
  }
  if (usableName(names.node))
    refs.push({ kind: 'Node', id: nodeId(cluster, names.node), name: names.node, cluster });
  for (const service of names.services ?? []) {
    if (usableName(service)) refs.push({ kind: 'Service', id: serviceId(service), name: service });
  }
  return refs;
}

/** The reference to the graph's Alert entity for a source's alert fingerprint. */
export function alertRef(source: string, fingerprint: string, name: string): EntityRef {
  return {
    kind: 'Alert',
    id: alertId(source, fingerprint),
    name: usableName(name) ? name : fingerprint.slice(0, 253),
  };
}

/** Drops references whose id came earlier; keeps the first. */
export function uniqueRefs(refs: readonly EntityRef[]): EntityRef[] {
  const seen = new Set<string>();
  return refs.filter((ref) => (seen.has(ref.id) ? false : (seen.add(ref.id), true)));
}
