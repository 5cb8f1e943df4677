import { z } from 'zod';
import { NightshiftError } from '../../shared/errors.js';
import { describeTarget, type ActionDefinition } from '../types.js';
import { RESTARTED_AT, isPaused, templateOf, workloadRef } from './workload.js';

export const rolloutRestartParams = z.object({}).strict();
export type RolloutRestartParams = z.output<typeof rolloutRestartParams>;

/** RFC 3339 in seconds, as kubectl writes `restartedAt`. */
function rfc3339(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * `k8s.rolloutRestart`: `kubectl rollout restart` — a strategic-merge patch of the template
 * annotation `kubectl.kubernetes.io/restartedAt`, so the controller replaces every pod. It
 * cannot be undone (the old pods are gone), so verify failure escalates.
 */
export const rolloutRestartAction: ActionDefinition<RolloutRestartParams> = {
  kind: 'k8s.rolloutRestart',
  description: 'Restart every pod of a Deployment or StatefulSet by a rolling update',
  params: rolloutRestartParams,
  targetKinds: ['Deployment', 'StatefulSet'],
  namespaced: true,
  async plan(context, target) {
    const ref = workloadRef(target, ['Deployment', 'StatefulSet']);
    const workload = await context.kube.readWorkload(ref);
    const paused = isPaused(workload);
    const previous = templateOf(workload).metadata?.annotations?.[RESTARTED_AT] ?? null;
    const label = describeTarget(target);
    return {
      action: 'k8s.rolloutRestart',
      target: label,
      summary: `restart every pod of ${label} (rolling)`,
      changes: [
        {
          path: `spec.template.metadata.annotations["${RESTARTED_AT}"]`,
          from: previous,
          to: rfc3339(context.now()),
        },
      ],
      preconditions: [
        {
          check: 'workload is not paused',
          ok: !paused,
          ...(paused ? { detail: 'resume it first (kubectl rollout resume)' } : {}),
        },
      ],
      noop: false,
      observed: {
        resourceVersion: workload.metadata.resourceVersion ?? null,
        replicas: (workload.spec as { replicas?: number } | undefined)?.replicas ?? null,
        restartedAt: previous,
      },
    };
  },
  async execute(context, target) {
    const ref = workloadRef(target, ['Deployment', 'StatefulSet']);
    const workload = await context.kube.readWorkload(ref);
    if (isPaused(workload))
      throw new NightshiftError('restart_refused', `cannot restart a paused ${ref.kind}`);
    const restartedAt = rfc3339(context.now());
    await context.kube.patchWorkload(ref, {
      type: 'strategic',
      body: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: restartedAt } } } } },
    });
    return { summary: `restarted ${describeTarget(target)}`, details: { restartedAt } };
  },
  verify: () => ({
    checks: ['replicasReady', 'errorRate', 'restarts'],
    windowMs: 10 * 60_000,
    intervalMs: 30_000,
    healthyChecks: 4,
    description: 'new pods ready, error rate back under its SLO and no new restarts',
  }),
};
