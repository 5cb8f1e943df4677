import * as k8s from '@kubernetes/client-node';
import { NightshiftError, SystemError } from '../shared/errors.js';
import type { KubeObject, KubePatch, KubernetesApi, WorkloadRef } from './kubernetes-api.js';

const CONTENT_TYPES: Record<KubePatch['type'], k8s.PatchStrategy> = {
  json: k8s.PatchStrategy.JsonPatch,
  strategic: k8s.PatchStrategy.StrategicMergePatch,
  merge: k8s.PatchStrategy.MergePatch,
};

function headerFor(type: KubePatch['type']): ReturnType<typeof k8s.setHeaderOptions> {
  return k8s.setHeaderOptions('Content-Type', CONTENT_TYPES[type]);
}

/** The client's model classes as wire JSON (their field names match the wire; Dates become strings). */
function plain(value: unknown): KubeObject {
  return JSON.parse(JSON.stringify(value)) as KubeObject;
}

function statusMessage(body: unknown): string {
  try {
    const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: unknown } | undefined;
    return typeof parsed?.message === 'string' ? parsed.message : '';
  } catch {
    return typeof body === 'string' ? body.slice(0, 200) : '';
  }
}

/**
 * Turns what the client throws into a `NightshiftError`: an `ApiException` keeps its status in
 * `data.status` and is retryable for 408, 409 (a conflicting write: read again and retry), 429
 * and 5xx; anything else (connection refused or reset, a timeout) is a retryable `SystemError`.
 */
export function kubernetesError(what: string, error: unknown): NightshiftError {
  if (error instanceof NightshiftError) return error;
  if (error instanceof k8s.ApiException) {
    const status = Number((error as k8s.ApiException<unknown>).code);
    const message = statusMessage((error as k8s.ApiException<unknown>).body);
    return new NightshiftError(
      status === 404 ? 'kubernetes_not_found' : 'kubernetes_request_failed',
      `${what}: the API answered ${status}${message ? ` (${message})` : ''}`,
      {
        cause: error,
        data: { status },
        retryable: status === 408 || status === 409 || status === 429 || status >= 500,
      },
    );
  }
  return new SystemError(
    'kubernetes_unreachable',
    `${what}: ${error instanceof Error ? error.message : String(error)}`,
    {
      cause: error,
    },
  );
}

async function wrap<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw kubernetesError(what, error);
  }
}

/**
 * The actions' Kubernetes API over `@kubernetes/client-node` 1.4. Every patch sets its content
 * type explicitly: the generated `patch*` methods default to `application/json-patch+json`,
 * which a merge-style body does not fit.
 */
export function createKubernetesApi(config: k8s.KubeConfig): KubernetesApi {
  const apps = config.makeApiClient(k8s.AppsV1Api);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const label = (ref: WorkloadRef): string => `${ref.kind.toLowerCase()} ${ref.namespace}/${ref.name}`;
  return {
    readWorkload: (ref) =>
      wrap(`read ${label(ref)}`, async () =>
        plain(
          ref.kind === 'Deployment'
            ? await apps.readNamespacedDeployment({ name: ref.name, namespace: ref.namespace })
            : await apps.readNamespacedStatefulSet({ name: ref.name, namespace: ref.namespace }),
        ),
      ),
    patchWorkload: (ref, patch) =>
      wrap(`patch ${label(ref)}`, async () => {
        const request = { name: ref.name, namespace: ref.namespace, body: patch.body };
        return plain(
          ref.kind === 'Deployment'
            ? await apps.patchNamespacedDeployment(request, headerFor(patch.type))
            : await apps.patchNamespacedStatefulSet(request, headerFor(patch.type)),
        );
      }),
    listReplicaSets: (namespace, labelSelector) =>
      wrap(`list replicasets in ${namespace}`, async () =>
        (await apps.listNamespacedReplicaSet({ namespace, labelSelector })).items.map(plain),
      ),
    readScale: (ref) =>
      wrap(`read the scale of ${label(ref)}`, async () => {
        const scale =
          ref.kind === 'Deployment'
            ? await apps.readNamespacedDeploymentScale({ name: ref.name, namespace: ref.namespace })
            : await apps.readNamespacedStatefulSetScale({ name: ref.name, namespace: ref.namespace });
        return scale.spec?.replicas ?? 0;
      }),
    patchScale: (ref, replicas) =>
      wrap(`scale ${label(ref)}`, async () => {
        const request = { name: ref.name, namespace: ref.namespace, body: { spec: { replicas } } };
        const scale =
          ref.kind === 'Deployment'
            ? await apps.patchNamespacedDeploymentScale(request, headerFor('merge'))
            : await apps.patchNamespacedStatefulSetScale(request, headerFor('merge'));
        return scale.spec?.replicas ?? replicas;
      }),
    readPod: (namespace, name) =>
      wrap(`read pod ${namespace}/${name}`, async () =>
        plain(await core.readNamespacedPod({ name, namespace })),
      ),
    deletePod: (namespace, name) =>
      wrap(`delete pod ${namespace}/${name}`, async () => {
        await core.deleteNamespacedPod({ name, namespace });
      }),
    listPods: (namespace, labelSelector) =>
      wrap(`list pods in ${namespace}`, async () =>
        (await core.listNamespacedPod({ namespace, labelSelector })).items.map(plain),
      ),
    readNode: (name) => wrap(`read node ${name}`, async () => plain(await core.readNode({ name }))),
    patchNode: (name, patch) =>
      wrap(`patch node ${name}`, async () =>
        plain(await core.patchNode({ name, body: patch.body }, headerFor(patch.type))),
      ),
  };
}
