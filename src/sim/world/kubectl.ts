import { NightshiftError } from '../../shared/errors.js';
import type { Cluster } from './cluster.js';
import { cloneJson, rfc3339, type KubeObject } from './kube-object.js';
import { REVISION, replicaSetsOf, revisionOf } from './rollout.js';
import { codeFingerprint, sameTemplate, type PodTemplate } from './templates.js';

/** One RFC 6902 operation. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

/** Annotations kubectl keeps from the Deployment itself when it rolls back. */
const KEPT_ANNOTATIONS = [
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
];

/**
 * The JSON patch `kubectl rollout undo` sends (polymorphichelpers/rollback.go): refuses a
 * paused Deployment; takes the ReplicaSet of `toRevision` (default: the second-highest
 * revision); refuses when its template equals the current one; drops `pod-template-hash` from
 * the template; keeps the Deployment's own rollout annotations and takes the rest from the
 * ReplicaSet; replaces `/spec/template` and `/metadata/annotations`.
 */
export function rollbackPatch(
  cluster: Cluster,
  deployment: KubeObject,
  toRevision = 0,
): JsonPatchOperation[] {
  const spec = deployment.spec as { paused?: boolean; template: PodTemplate };
  if (spec.paused)
    throw new NightshiftError(
      'rollback_refused',
      `cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/${deployment.metadata.name}' and try again`,
    );
  const sets = replicaSetsOf(cluster, deployment);
  let target: KubeObject | undefined;
  if (toRevision > 0) {
    target = sets.find((rs) => revisionOf(rs) === toRevision);
    if (!target)
      throw new NightshiftError(
        'rollback_refused',
        `unable to find specified revision ${toRevision} in history`,
      );
  } else {
    const ordered = [...sets].sort((a, b) => revisionOf(b) - revisionOf(a));
    target = ordered[1];
    if (!target)
      throw new NightshiftError(
        'rollback_refused',
        'no rollout history found for deployment ' + `"${deployment.metadata.name}"`,
      );
  }
  const template = cloneJson((target.spec as { template: PodTemplate }).template);
  if (sameTemplate(template, spec.template)) {
    throw new NightshiftError(
      'rollback_skipped',
      `skipped rollback (current template already matches revision ${revisionOf(target)})`,
    );
  }
  delete template.metadata.labels['pod-template-hash'];
  const annotations: Record<string, string> = {};
  for (const key of KEPT_ANNOTATIONS) {
    const value = deployment.metadata.annotations?.[key];
    if (value !== undefined) annotations[key] = value;
  }
  for (const [key, value] of Object.entries(target.metadata.annotations ?? {})) {
    if (!KEPT_ANNOTATIONS.includes(key)) annotations[key] = value;
  }
  return [
    { op: 'replace', path: '/spec/template', value: template },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ];
}

/**
 * The newest revision whose pods run different code than the current template (a restart
 * only adds an annotation, so plain `rollout undo` after a restart returns to the same code;
 * an operator then passes `--to-revision`). Undefined when there is none.
 */
export function previousCodeRevision(cluster: Cluster, deployment: KubeObject): number | undefined {
  const current = codeFingerprint((deployment.spec as { template: PodTemplate }).template);
  const older = replicaSetsOf(cluster, deployment)
    .filter((rs) => codeFingerprint((rs.spec as { template: PodTemplate }).template) !== current)
    .sort((a, b) => revisionOf(b) - revisionOf(a));
  return older[0] ? revisionOf(older[0]) : undefined;
}

/** The strategic-merge patch `kubectl rollout restart` sends. */
export function restartPatch(now: number): Record<string, unknown> {
  return {
    spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': rfc3339(now) } } } },
  };
}

/** The strategic-merge patch `kubectl cordon` sends. */
export function cordonPatch(unschedulable = true): Record<string, unknown> {
  return { spec: { unschedulable: unschedulable ? true : null } };
}
