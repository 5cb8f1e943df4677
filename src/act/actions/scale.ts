import { z } from 'zod';
import { NightshiftError } from '../../shared/errors.js';
import { describeTarget, type ActionDefinition, type Precondition } from '../types.js';
import { workloadRef } from './workload.js';

export const scaleParams = z
  .object({
    /** The replica count wanted: at least 1 and at most twice the current count. */
    replicas: z.number().int().min(1).max(1000),
  })
  .strict();
export type ScaleParams = z.output<typeof scaleParams>;

/** The most a single scale action may ask for: twice the current count (1 from zero). */
export function scaleCeiling(current: number): number {
  return Math.max(1, 2 * current);
}

/**
 * `k8s.scale`: sets replicas through the scale subresource (merge patch). Bounded: never more
 * than twice the current count, never to zero, and only when the live count is the one the
 * policy decided on (`target.replicas`). Undo scales back to the count it found.
 */
export const scaleAction: ActionDefinition<ScaleParams> = {
  kind: 'k8s.scale',
  description: 'Scale a Deployment or StatefulSet (at most to twice its current replicas)',
  params: scaleParams,
  targetKinds: ['Deployment', 'StatefulSet'],
  namespaced: true,
  async plan(context, target, params) {
    const ref = workloadRef(target, ['Deployment', 'StatefulSet']);
    const current = await context.kube.readScale(ref);
    const ceiling = scaleCeiling(current);
    const preconditions: Precondition[] = [
      {
        check: 'at most twice the current replicas',
        ok: params.replicas <= ceiling,
        ...(params.replicas > ceiling
          ? { detail: `${params.replicas} > ${ceiling} (current ${current})` }
          : {}),
      },
    ];
    if (target.replicas !== undefined) {
      preconditions.push({
        check: 'the replicas the policy decided on are still current',
        ok: target.replicas === current,
        ...(target.replicas !== current
          ? { detail: `the decision assumed ${target.replicas}, the workload has ${current}` }
          : {}),
      });
    }
    const label = describeTarget(target);
    return {
      action: 'k8s.scale',
      target: label,
      summary: `scale ${label} from ${current} to ${params.replicas} replicas`,
      changes: [{ path: 'spec.replicas', from: current, to: params.replicas }],
      preconditions,
      noop: current === params.replicas,
      observed: { replicas: current },
    };
  },
  async execute(context, target, params, plan) {
    const ref = workloadRef(target, ['Deployment', 'StatefulSet']);
    const current = await context.kube.readScale(ref);
    if (params.replicas > scaleCeiling(current)) {
      throw new NightshiftError(
        'scale_unbounded',
        `${params.replicas} replicas is more than twice the current ${current}`,
      );
    }
    const planned = plan.observed.replicas;
    if (typeof planned === 'number' && planned !== current && current !== params.replicas) {
      throw new NightshiftError(
        'plan_stale',
        `the workload has ${current} replicas, the plan saw ${planned}`,
      );
    }
    const replicas = await context.kube.patchScale(ref, params.replicas);
    return {
      summary: `scaled ${describeTarget(target)} from ${current} to ${replicas}`,
      details: { from: current, to: replicas },
      undo: { replicas: typeof planned === 'number' ? planned : current },
    };
  },
  verify: () => ({
    checks: ['replicasReady', 'latencyP99Ms', 'cpu'],
    windowMs: 10 * 60_000,
    intervalMs: 30_000,
    healthyChecks: 4,
    description: 'the new replicas ready and latency and CPU back to normal',
  }),
  async undo(context, target, undo) {
    const replicas = Number(undo.replicas);
    if (!Number.isInteger(replicas) || replicas < 0)
      throw new NightshiftError('undo_invalid', 'the scale recorded no replica count to return to');
    await context.kube.patchScale(workloadRef(target, ['Deployment', 'StatefulSet']), replicas);
    return `scaled ${describeTarget(target)} back to ${replicas}`;
  },
};
