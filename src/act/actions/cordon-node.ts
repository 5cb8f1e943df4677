import { z } from 'zod';
import { NightshiftError } from '../../shared/errors.js';
import { describeTarget, type ActionDefinition, type ActionTarget } from '../types.js';

export const cordonNodeParams = z.object({}).strict();
export type CordonNodeParams = z.output<typeof cordonNodeParams>;

function nodeName(target: ActionTarget): string {
  if (target.kind !== 'Node')
    throw new NightshiftError('target_unsupported', `k8s.cordonNode needs a Node, not ${target.kind}`);
  return target.name;
}

/**
 * `k8s.cordonNode`: `kubectl cordon` — a strategic-merge patch setting `spec.unschedulable`,
 * so no new pod lands on the node; running pods stay. Undo uncordons.
 */
export const cordonNodeAction: ActionDefinition<CordonNodeParams> = {
  kind: 'k8s.cordonNode',
  description: 'Mark a node unschedulable (running pods stay)',
  params: cordonNodeParams,
  targetKinds: ['Node'],
  namespaced: false,
  async plan(context, target) {
    const node = await context.kube.readNode(nodeName(target));
    const unschedulable = Boolean((node.spec as { unschedulable?: boolean } | undefined)?.unschedulable);
    const label = describeTarget(target);
    return {
      action: 'k8s.cordonNode',
      target: label,
      summary: unschedulable
        ? `${label} is already cordoned`
        : `cordon ${label}: no new pods are scheduled on it`,
      changes: [{ path: 'spec.unschedulable', from: unschedulable, to: true }],
      preconditions: [],
      noop: unschedulable,
      observed: { resourceVersion: node.metadata.resourceVersion ?? null, unschedulable },
    };
  },
  async execute(context, target) {
    await context.kube.patchNode(nodeName(target), {
      type: 'strategic',
      body: { spec: { unschedulable: true } },
    });
    return { summary: `cordoned ${describeTarget(target)}`, details: {}, undo: { unschedulable: false } };
  },
  verify: () => ({
    checks: ['replicasReady', 'errorRate'],
    windowMs: 10 * 60_000,
    intervalMs: 30_000,
    healthyChecks: 4,
    description: 'the node no longer takes pods and the affected services recover',
  }),
  async undo(context, target) {
    await context.kube.patchNode(nodeName(target), {
      type: 'strategic',
      body: { spec: { unschedulable: null } },
    });
    return `uncordoned ${describeTarget(target)}`;
  },
};
