import { z } from 'zod';
import { NightshiftError } from '../../shared/errors.js';
import type { KubeObject, KubernetesApi, WorkloadRef } from '../kubernetes-api.js';
import { describeTarget, type ActionDefinition, type ActionPlan, type Precondition } from '../types.js';
import {
  REVISION,
  imageChanges,
  isPaused,
  sameTemplate,
  selectorOf,
  templateOf,
  withoutHash,
  workloadRef,
} from './workload.js';

/** Annotations `kubectl rollout undo` keeps from the Deployment itself rather than the ReplicaSet. */
const KEPT_ANNOTATIONS = [
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
];

export const rollbackParams = z
  .object({
    /** The revision to return to; default the one before the current (as `kubectl rollout undo`). */
    toRevision: z.number().int().positive().optional(),
  })
  .strict();
export type RollbackParams = z.output<typeof rollbackParams>;

function revisionOf(object: KubeObject): number {
  return Number(object.metadata.annotations?.[REVISION] ?? 0);
}

/** What a rollback would do, from the live Deployment and its ReplicaSets. */
interface RollbackState {
  deployment: KubeObject;
  current?: KubeObject;
  target?: KubeObject;
  problem?: string;
}

async function readState(kube: KubernetesApi, ref: WorkloadRef, toRevision?: number): Promise<RollbackState> {
  const deployment = await kube.readWorkload(ref);
  const uid = deployment.metadata.uid;
  const sets = (await kube.listReplicaSets(ref.namespace, selectorOf(deployment)))
    .filter((rs) =>
      rs.metadata.ownerReferences?.some((owner) => owner.controller !== false && owner.uid === uid),
    )
    .sort((a, b) => revisionOf(b) - revisionOf(a));
  const template = templateOf(deployment);
  const current = sets.find((rs) => sameTemplate(templateOf(rs), template)) ?? sets[0];
  if (toRevision !== undefined) {
    const target = sets.find((rs) => revisionOf(rs) === toRevision);
    return target
      ? { deployment, ...(current ? { current } : {}), target }
      : {
          deployment,
          ...(current ? { current } : {}),
          problem: `revision ${toRevision} is not in the history`,
        };
  }
  const target = sets[1];
  return target
    ? { deployment, ...(current ? { current } : {}), target }
    : { deployment, ...(current ? { current } : {}), problem: 'no earlier revision in the rollout history' };
}

/**
 * The JSON patch `kubectl rollout undo` sends: the target ReplicaSet's template without its
 * `pod-template-hash`, and the ReplicaSet's annotations except the Deployment's own rollout ones.
 */
function rollbackPatch(deployment: KubeObject, target: KubeObject): Array<Record<string, unknown>> {
  const template = withoutHash(templateOf(target));
  const annotations: Record<string, string> = {};
  for (const key of KEPT_ANNOTATIONS) {
    const value = deployment.metadata.annotations?.[key];
    if (value !== undefined) annotations[key] = value;
  }
  for (const [key, value] of Object.entries(target.metadata.annotations ?? {}))
    if (!KEPT_ANNOTATIONS.includes(key)) annotations[key] = value;
  return [
    { op: 'replace', path: '/spec/template', value: template },
    {
      op: deployment.metadata.annotations ? 'replace' : 'add',
      path: '/metadata/annotations',
      value: annotations,
    },
  ];
}

function planFrom(state: RollbackState, label: string): ActionPlan {
  const { deployment, current, target } = state;
  const fromRevision = current ? revisionOf(current) : revisionOf(deployment);
  const preconditions: Precondition[] = [
    {
      check: 'deployment is not paused',
      ok: !isPaused(deployment),
      ...(isPaused(deployment) ? { detail: 'resume it first (kubectl rollout resume)' } : {}),
    },
    {
      check: 'an earlier revision exists',
      ok: target !== undefined,
      ...(state.problem ? { detail: state.problem } : {}),
    },
  ];
  const noop = target !== undefined && sameTemplate(templateOf(target), templateOf(deployment));
  const toRevision = target ? revisionOf(target) : undefined;
  const changes = target
    ? [
        {
          path: `metadata.annotations["${REVISION}"]`,
          from: fromRevision,
          to: `${toRevision} (re-numbered on adoption)`,
        },
        ...imageChanges(templateOf(deployment), templateOf(target)),
      ]
    : [];
  return {
    action: 'k8s.rollback',
    target: label,
    summary: target
      ? noop
        ? `${label} already runs the template of revision ${toRevision}`
        : `roll ${label} back from revision ${fromRevision} to revision ${toRevision}`
      : `roll ${label} back: no earlier revision`,
    changes,
    preconditions,
    noop,
    observed: {
      resourceVersion: deployment.metadata.resourceVersion ?? null,
      fromRevision,
      toRevision: toRevision ?? null,
      targetReplicaSet: target?.metadata.name ?? null,
    },
  };
}

async function rollBack(
  kube: KubernetesApi,
  ref: WorkloadRef,
  toRevision: number | undefined,
): Promise<RollbackState> {
  const state = await readState(kube, ref, toRevision);
  if (!state.target) throw new NightshiftError('rollback_refused', state.problem ?? 'no target revision');
  if (isPaused(state.deployment))
    throw new NightshiftError('rollback_refused', `cannot roll back a paused deployment ${ref.name}`);
  if (sameTemplate(templateOf(state.target), templateOf(state.deployment))) return state;
  await kube.patchWorkload(ref, { type: 'json', body: rollbackPatch(state.deployment, state.target) });
  return state;
}

/**
 * `k8s.rollback`: `kubectl rollout undo` semantics. There is no rollback API in apps/v1: find
 * the ReplicaSets the Deployment controls, take the second-highest revision (or `toRevision`),
 * and JSON-patch the Deployment's template and annotations to it; the controller then adopts
 * that ReplicaSet as revision max+1. Undo rolls forward to the revision it came from.
 */
export const rollbackAction: ActionDefinition<RollbackParams> = {
  kind: 'k8s.rollback',
  description: 'Roll a Deployment back to its previous (or a given) revision',
  params: rollbackParams,
  targetKinds: ['Deployment'],
  namespaced: true,
  async plan(context, target, params) {
    const ref = workloadRef(target, ['Deployment']);
    return planFrom(await readState(context.kube, ref, params.toRevision), describeTarget(target));
  },
  async execute(context, target, params, plan) {
    const ref = workloadRef(target, ['Deployment']);
    const planned = plan.observed.toRevision;
    const state = await readState(context.kube, ref, params.toRevision);
    const toRevision = state.target ? revisionOf(state.target) : undefined;
    if (typeof planned === 'number' && toRevision !== planned) {
      throw new NightshiftError(
        'plan_stale',
        `the rollout history changed since the plan (planned revision ${planned}, now ${toRevision ?? 'none'})`,
      );
    }
    const done = await rollBack(context.kube, ref, toRevision);
    const fromRevision = done.current ? revisionOf(done.current) : undefined;
    return {
      summary: `rolled ${describeTarget(target)} back to revision ${toRevision ?? '?'}`,
      details: { fromRevision: fromRevision ?? null, toRevision: toRevision ?? null },
      ...(fromRevision ? { undo: { toRevision: fromRevision } } : {}),
    };
  },
  verify: () => ({
    checks: ['errorRate', 'latencyP99Ms', 'replicasReady'],
    windowMs: 10 * 60_000,
    intervalMs: 30_000,
    healthyChecks: 4,
    description: 'error rate and latency back under their SLOs and every replica ready on the old revision',
  }),
  async undo(context, target, undo) {
    const toRevision = Number(undo.toRevision);
    if (!Number.isInteger(toRevision) || toRevision <= 0)
      throw new NightshiftError('undo_invalid', 'the rollback recorded no revision to return to');
    await rollBack(context.kube, workloadRef(target, ['Deployment']), toRevision);
    return `rolled ${describeTarget(target)} forward to revision ${toRevision}`;
  },
};
