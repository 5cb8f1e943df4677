import type { InvestigationContext } from './context.js';
import { parseK8sId, type TargetInfo } from './targets.js';
import { CHANGE_CATEGORIES, type Hypothesis, type Proposal } from './types.js';

/**
 * Maps a supported hypothesis to remediations from the fixed action catalog. Only the category
 * and the graph decide: nothing the tools returned (logs, messages) can add an action or change a
 * target. A failing service of the estate gets a restart of its Deployment once every change to it
 * in the tree is ruled out; categories without a
 * safe automatic fix (external, certificate, DNS, a saturated StatefulSet, …) give no proposal, so
 * the loop escalates to a person.
 */
export function proposalsFor(
  root: Hypothesis | undefined,
  context: InvestigationContext,
  tree: readonly Hypothesis[] = [],
): Proposal[] {
  if (!root) return [];
  const target: TargetInfo | undefined = context.targets[root.suspect] ?? context.services[root.suspect];
  const parsed = parseK8sId(root.suspect);
  const workload =
    target?.workload ??
    (parsed && parsed.kind !== 'Node'
      ? {
          kind: parsed.kind,
          name: parsed.name,
          ...(parsed.namespace ? { namespace: parsed.namespace } : {}),
          id: root.suspect,
        }
      : undefined);
  const workloadTarget = workload
    ? {
        kind: workload.kind,
        ...(workload.namespace ? { namespace: workload.namespace } : {}),
        name: workload.name,
        id: workload.id,
      }
    : undefined;
  const base = { hypothesisId: root.id };
  switch (root.category) {
    case 'deploy_regression':
    case 'config_change':
    case 'image': {
      if (!workloadTarget || workloadTarget.kind !== 'Deployment') return [];
      const change = context.recentChanges
        .filter(
          (item) =>
            (item.entityId === workloadTarget.id || item.entityId === root.suspect) &&
            (item.kind === 'deploy' || item.kind === 'config-change'),
        )
        .sort((a, b) => b.at - a.at)[0];
      const previousRevision = change?.properties.previousRevision;
      return [
        {
          ...base,
          action: 'k8s.rollback',
          target: workloadTarget,
          params: typeof previousRevision === 'number' ? { toRevision: previousRevision } : {},
          rationale: `Roll ${workloadTarget.name} back to the revision before the change the investigation blames (${root.category.replaceAll('_', ' ')}, ${Math.round(root.confidence * 100)}% confidence)`,
        },
      ];
    }
    case 'memory_leak':
      if (!workloadTarget) return [];
      return [
        {
          ...base,
          action: 'k8s.rolloutRestart',
          target: workloadTarget,
          params: {},
          rationale: `Restart ${workloadTarget.name} to reset the leaking memory; the leak itself needs a code fix`,
        },
      ];
    case 'dependency_failure': {
      // A service of the estate failing on its own, with no change to undo: a restart of its
      // Deployment is the one catalog action that can clear a stuck process. Datastores, outside
      // dependencies and anything without a Deployment are left to a person.
      if (!workloadTarget || workloadTarget.kind !== 'Deployment' || target?.kind === 'Datastore') return [];
      // A restart hides a bad change instead of undoing it: only when every hypothesis that the
      // service changed (a deploy, its configuration, a flag) was ruled out.
      const changeInDoubt = tree.some(
        (node) =>
          CHANGE_CATEGORIES.has(node.category) &&
          node.status !== 'refuted' &&
          (node.suspect === root.suspect ||
            node.suspect === workloadTarget.id ||
            context.targets[node.suspect]?.workload?.id === workloadTarget.id),
      );
      if (changeInDoubt) return [];
      return [
        {
          ...base,
          action: 'k8s.rolloutRestart',
          target: workloadTarget,
          params: {},
          rationale: `Restart ${workloadTarget.name}: it fails on its own with no change to roll back; its callers recover when it does`,
        },
      ];
    }
    case 'resource_saturation': {
      // More replicas add capacity to a stateless Deployment; a StatefulSet (a cache, a database)
      // does not gain memory or connections that way, so that is left to a person.
      if (!workloadTarget || workloadTarget.kind !== 'Deployment') return [];
      const current = typeof target?.replicas === 'number' ? target.replicas : undefined;
      return [
        {
          ...base,
          action: 'k8s.scale',
          target: workloadTarget,
          params: current !== undefined ? { replicas: Math.min(current * 2, current + 10) } : { factor: 2 },
          rationale: `Add replicas to ${workloadTarget.name} to carry the load`,
        },
      ];
    }
    case 'node_issue': {
      const name = target?.kind === 'Node' ? target.name : parsed?.kind === 'Node' ? parsed.name : undefined;
      if (!name) return [];
      return [
        {
          ...base,
          action: 'k8s.cordonNode',
          target: { kind: 'Node', name, id: root.suspect },
          params: {},
          rationale: `Cordon ${name} so new pods land on healthy nodes`,
        },
      ];
    }
    case 'flag_change': {
      const key = target?.flagKey ?? target?.name;
      if (!key) return [];
      const flip = context.recentChanges
        .filter((item) => item.entityId === root.suspect && item.kind === 'flag-flip')
        .sort((a, b) => b.at - a.at)[0];
      const previous = flip?.properties.previous;
      if (previous === undefined) return [];
      return [
        {
          ...base,
          action: 'flags.set',
          target: { kind: 'FeatureFlag', name: key, id: root.suspect },
          params: { value: previous },
          rationale: `Set flag ${key} back to ${JSON.stringify(previous)}, its value before the flip`,
        },
      ];
    }
    default:
      return [];
  }
}
