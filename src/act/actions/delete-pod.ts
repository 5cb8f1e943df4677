import { z } from 'zod';
import { NightshiftError } from '../../shared/errors.js';
import type { KubeObject } from '../kubernetes-api.js';
import { describeTarget, type ActionDefinition, type ActionTarget } from '../types.js';

export const deletePodParams = z.object({}).strict();
export type DeletePodParams = z.output<typeof deletePodParams>;

function namespaceOf(target: ActionTarget): string {
  if (target.kind !== 'Pod' || !target.namespace)
    throw new NightshiftError(
      'target_unsupported',
      `k8s.deletePod needs a Pod with a namespace, not ${target.kind}`,
    );
  return target.namespace;
}

function controllerOf(pod: KubeObject): { kind: string; name: string } | undefined {
  return pod.metadata.ownerReferences?.find((owner) => owner.controller);
}

/**
 * `k8s.deletePod`: deletes one pod so its controller replaces it. Refused for a pod no
 * controller owns (it would not come back). Cannot be undone; verify watches the replacement.
 */
export const deletePodAction: ActionDefinition<DeletePodParams> = {
  kind: 'k8s.deletePod',
  description: 'Delete one pod; its controller starts a replacement',
  params: deletePodParams,
  targetKinds: ['Pod'],
  namespaced: true,
  async plan(context, target) {
    const pod = await context.kube.readPod(namespaceOf(target), target.name);
    const owner = controllerOf(pod);
    const label = describeTarget(target);
    const phase = (pod.status as { phase?: string } | undefined)?.phase ?? null;
    return {
      action: 'k8s.deletePod',
      target: label,
      summary: owner
        ? `delete ${label}; ${owner.kind} ${owner.name} starts a replacement`
        : `delete ${label}: refused, no controller would replace it`,
      changes: [{ path: 'pod', from: `${phase ?? 'present'}`, to: 'deleted' }],
      preconditions: [
        {
          check: 'a controller owns the pod',
          ok: owner !== undefined,
          ...(owner ? {} : { detail: 'a bare pod would not come back' }),
        },
      ],
      noop: pod.metadata.deletionTimestamp !== undefined,
      observed: { uid: pod.metadata.uid ?? null, phase, owner: owner ? `${owner.kind}/${owner.name}` : null },
    };
  },
  async execute(context, target, _params, plan) {
    const namespace = namespaceOf(target);
    const pod = await context.kube.readPod(namespace, target.name);
    if (plan.observed.uid && pod.metadata.uid !== plan.observed.uid)
      throw new NightshiftError('plan_stale', `pod ${target.name} was already replaced (uid changed)`);
    if (!controllerOf(pod))
      throw new NightshiftError('delete_refused', `pod ${target.name} has no controller`);
    await context.kube.deletePod(namespace, target.name);
    return { summary: `deleted ${describeTarget(target)}`, details: { uid: pod.metadata.uid ?? null } };
  },
  verify: () => ({
    checks: ['replicasReady', 'restarts', 'errorRate'],
    windowMs: 5 * 60_000,
    intervalMs: 15_000,
    healthyChecks: 4,
    description: 'the replacement pod ready and the symptom gone',
  }),
};
