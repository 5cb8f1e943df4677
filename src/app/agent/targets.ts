import type { ActionTarget, KubeObject, KubernetesApi } from '../../act/index.js';
import type { ActionTarget as LoopTarget } from '../../loop/pipeline-types.js';

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet']);

function labelsOf(object: KubeObject | undefined): Record<string, string> {
  const labels = (object?.metadata as { labels?: Record<string, unknown> } | undefined)?.labels ?? {};
  return Object.fromEntries(
    Object.entries(labels).flatMap(([key, value]) => (typeof value === 'string' ? [[key, value]] : [])),
  );
}

/**
 * The policy's target facts for a proposal's target, read from the live object: labels,
 * replicas (the count `k8s.scale` is decided against), tier (`tier` or `nightshift.dev/tier`
 * label), owner (`team` or `owner` label) and environment (`environment` label, else the
 * configured one). A target that cannot be read keeps what the proposal says; the policy then
 * sees no tier, which its rules treat as not proven safe.
 */
export async function targetFacts(
  target: LoopTarget,
  options: { kube?: KubernetesApi; cluster: string; environment: string },
): Promise<ActionTarget> {
  const base: ActionTarget = {
    kind: target.kind,
    name: target.name,
    ...(target.namespace ? { namespace: target.namespace } : {}),
    cluster: options.cluster,
    environment: options.environment,
    labels: {},
  };
  if (!options.kube) return base;
  let object: KubeObject | undefined;
  try {
    if (WORKLOAD_KINDS.has(target.kind) && target.namespace)
      object = await options.kube.readWorkload({
        kind: target.kind as 'Deployment' | 'StatefulSet',
        namespace: target.namespace,
        name: target.name,
      });
    else if (target.kind === 'Node') object = await options.kube.readNode(target.name);
    else if (target.kind === 'Pod' && target.namespace)
      object = await options.kube.readPod(target.namespace, target.name);
  } catch {
    return base;
  }
  const labels = labelsOf(object);
  const tier = labels['nightshift.dev/tier'] ?? labels.tier;
  const owner = labels.team ?? labels.owner;
  const replicas = (object?.spec as { replicas?: unknown } | undefined)?.replicas;
  return {
    ...base,
    environment: labels.environment ?? options.environment,
    labels,
    ...(tier === 'critical' || tier === 'standard' ? { tier } : {}),
    ...(owner ? { owner } : {}),
    ...(WORKLOAD_KINDS.has(target.kind) ? { stateful: target.kind === 'StatefulSet' } : {}),
    ...(typeof replicas === 'number' ? { replicas } : {}),
  };
}

/**
 * The catalog's parameters for a proposal: a scale-up the investigator proposes as a factor (it
 * may not know the live count) becomes an exact replica count from the live object, never above
 * the catalog's 2× bound.
 */
export function catalogParams(
  action: string,
  params: Record<string, unknown>,
  target: ActionTarget,
): Record<string, unknown> {
  if (action === 'k8s.scale' && typeof params.replicas !== 'number') {
    const factor = typeof params.factor === 'number' && params.factor > 1 ? Math.min(params.factor, 2) : 2;
    const current = target.replicas ?? 1;
    return { replicas: Math.max(1, Math.round(current * factor)) };
  }
  if (action === 'k8s.scale' && typeof params.replicas === 'number' && target.replicas !== undefined)
    return { replicas: Math.min(params.replicas, Math.max(1, target.replicas * 2)) };
  return params;
}
