/**
 * The slice of the Kubernetes API the action catalog uses, as plain JSON objects (wire field
 * names, no client classes), so actions can be tested against an in-memory fake and run against
 * the real API through `createKubernetesApi` (kubernetes-client.ts).
 *
 * Every method rejects with a `NightshiftError` whose `retryable` says whether trying again may
 * help (timeouts, 409 conflicts, 429 and 5xx answers, lost connections) and whose `data.status`
 * is the HTTP status when the API answered. Reads never change anything.
 */

/** Object metadata, as the API serves it (only the fields the actions read). */
export interface KubeMetadata {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{
    apiVersion?: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
  }>;
  deletionTimestamp?: string;
}

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: KubeMetadata;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** The workload kinds whose template and scale the actions change. */
export type WorkloadKind = 'Deployment' | 'StatefulSet';

/** Which workload: kind, namespace and name. */
export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

/** A patch and its content type: RFC 6902 JSON patch, strategic merge or RFC 7386 merge. */
export type KubePatch =
  | { type: 'json'; body: ReadonlyArray<Record<string, unknown>> }
  | { type: 'strategic'; body: Record<string, unknown> }
  | { type: 'merge'; body: Record<string, unknown> };

/** What the actions call; see the file comment for the error contract. */
export interface KubernetesApi {
  readWorkload(ref: WorkloadRef): Promise<KubeObject>;
  patchWorkload(ref: WorkloadRef, patch: KubePatch): Promise<KubeObject>;
  /** The ReplicaSets in a namespace matching a label selector (`a=b,c=d`). */
  listReplicaSets(namespace: string, labelSelector: string): Promise<KubeObject[]>;
  /** `spec.replicas` of the workload's scale subresource. */
  readScale(ref: WorkloadRef): Promise<number>;
  /** Sets `spec.replicas` through the scale subresource (merge patch); resolves the new value. */
  patchScale(ref: WorkloadRef, replicas: number): Promise<number>;
  readPod(namespace: string, name: string): Promise<KubeObject>;
  deletePod(namespace: string, name: string): Promise<void>;
  listPods(namespace: string, labelSelector: string): Promise<KubeObject[]>;
  readNode(name: string): Promise<KubeObject>;
  patchNode(name: string, patch: KubePatch): Promise<KubeObject>;
}
