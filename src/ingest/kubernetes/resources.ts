/**
 * The Kubernetes resources the ingest watches, cluster-wide. Secrets are never watched: their
 * data must not leave the cluster, and nothing the graph needs lives in them.
 */
export interface WatchedResource {
  /** Short key, also the key of the snapshot list it feeds. */
  key: ResourceKey;
  kind: string;
  apiVersion: string;
  /** The cluster-wide list and watch path, e.g. `/api/v1/pods`. */
  path: string;
  namespaced: boolean;
}

export const RESOURCE_KEYS = [
  'nodes',
  'namespaces',
  'configMaps',
  'services',
  'deployments',
  'statefulSets',
  'daemonSets',
  'replicaSets',
  'pods',
  'jobs',
  'hpas',
  'events',
] as const;
export type ResourceKey = (typeof RESOURCE_KEYS)[number];

/** Every watched resource, in the order the first sync writes them to the graph. */
export const WATCHED_RESOURCES: readonly WatchedResource[] = Object.freeze([
  { key: 'nodes', kind: 'Node', apiVersion: 'v1', path: '/api/v1/nodes', namespaced: false },
  { key: 'namespaces', kind: 'Namespace', apiVersion: 'v1', path: '/api/v1/namespaces', namespaced: false },
  { key: 'configMaps', kind: 'ConfigMap', apiVersion: 'v1', path: '/api/v1/configmaps', namespaced: true },
  { key: 'services', kind: 'Service', apiVersion: 'v1', path: '/api/v1/services', namespaced: true },
  {
    key: 'deployments',
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    path: '/apis/apps/v1/deployments',
    namespaced: true,
  },
  {
    key: 'statefulSets',
    kind: 'StatefulSet',
    apiVersion: 'apps/v1',
    path: '/apis/apps/v1/statefulsets',
    namespaced: true,
  },
  {
    key: 'daemonSets',
    kind: 'DaemonSet',
    apiVersion: 'apps/v1',
    path: '/apis/apps/v1/daemonsets',
    namespaced: true,
  },
  {
    key: 'replicaSets',
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    path: '/apis/apps/v1/replicasets',
    namespaced: true,
  },
  { key: 'pods', kind: 'Pod', apiVersion: 'v1', path: '/api/v1/pods', namespaced: true },
  { key: 'jobs', kind: 'Job', apiVersion: 'batch/v1', path: '/apis/batch/v1/jobs', namespaced: true },
  {
    key: 'hpas',
    kind: 'HorizontalPodAutoscaler',
    apiVersion: 'autoscaling/v2',
    path: '/apis/autoscaling/v2/horizontalpodautoscalers',
    namespaced: true,
  },
  { key: 'events', kind: 'Event', apiVersion: 'v1', path: '/api/v1/events', namespaced: true },
]);

/** The workload kinds whose pod template changes are deploys. */
export const WORKLOAD_RESOURCE_KEYS = ['deployments', 'statefulSets', 'daemonSets'] as const;

/** A Kubernetes object as the API sends it (plain JSON). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ kind?: string; name?: string; uid?: string; controller?: boolean }>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** `namespace/name` (or `name` for cluster-scoped objects): the cache key of an object. */
export function objectKey(object: KubeObject): string {
  const namespace = object.metadata?.namespace;
  const name = object.metadata?.name ?? '';
  return namespace ? `${namespace}/${name}` : name;
}
