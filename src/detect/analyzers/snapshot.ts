import type {
  CoreV1Event,
  V1ConfigMap,
  V1Deployment,
  V1EndpointSlice,
  V1Endpoints,
  V1Job,
  V1Node,
  V1Pod,
  V1ReplicaSet,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { ApiObject } from './api-object.js';

export type Pod = ApiObject<V1Pod>;
export type Node = ApiObject<V1Node>;
export type KubeEvent = ApiObject<CoreV1Event>;
export type Deployment = ApiObject<V1Deployment>;
export type ReplicaSet = ApiObject<V1ReplicaSet>;
export type Job = ApiObject<V1Job>;
export type HorizontalPodAutoscaler = ApiObject<V2HorizontalPodAutoscaler>;
export type Service = ApiObject<V1Service>;
export type Endpoints = ApiObject<V1Endpoints>;
export type EndpointSlice = ApiObject<V1EndpointSlice>;
export type ConfigMap = ApiObject<V1ConfigMap>;

/**
 * What the watchers currently hold, by kind. Every list is optional: an analyzer whose inputs are
 * absent finds nothing rather than guessing, and an absent list means "not watched", which is not
 * the same as an empty list ("watched, there are none"). Events are core/v1 Events.
 */
export interface ClusterSnapshot {
  pods?: readonly Pod[];
  nodes?: readonly Node[];
  events?: readonly KubeEvent[];
  deployments?: readonly Deployment[];
  replicaSets?: readonly ReplicaSet[];
  jobs?: readonly Job[];
  hpas?: readonly HorizontalPodAutoscaler[];
  services?: readonly Service[];
  endpoints?: readonly Endpoints[];
  endpointSlices?: readonly EndpointSlice[];
  configMaps?: readonly ConfigMap[];
}
