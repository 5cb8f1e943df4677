import { R } from '../cluster.js';
import { rfc3339 } from '../kube-object.js';
import { reconcileAll } from '../rollout.js';
import type { FaultModelOf } from './fault-model.js';
import { ramp } from './helpers.js';

function schedulerMessage(reason: string, nodes: number): string {
  const tail = `preemption: 0/${nodes} nodes are available: ${nodes}`;
  switch (reason) {
    case 'memory':
      return `0/${nodes} nodes are available: ${nodes} Insufficient memory. ${tail} No preemption victims found for incoming pod.`;
    case 'affinity':
      return `0/${nodes} nodes are available: ${nodes} node(s) didn't match Pod's node affinity/selector. ${tail} Preemption is not helpful for scheduling.`;
    case 'taint':
      return `0/${nodes} nodes are available: ${nodes} node(s) had untolerated taint {dedicated: batch}. ${tail} Preemption is not helpful for scheduling.`;
    default:
      return `0/${nodes} nodes are available: ${nodes} Insufficient cpu. ${tail} No preemption victims found for incoming pod.`;
  }
}

/**
 * Load rises and the service is scaled up (by its autoscaler), but the new pods stay Pending
 * with the scheduler's reason; the pods that run carry the extra load. No catalog action
 * clears it (escalate naming the reason): any pod created from now on stays Pending, so a
 * restart or a rollback makes it worse.
 */
export const pendingUnschedulable: FaultModelOf<'pending_unschedulable'> = {
  kind: 'pending_unschedulable',
  subject: (runtime) => runtime.fault.reason,
  start(runtime, world) {
    const { service } = runtime.fault;
    const model = world.model(service);
    const workload = world.cluster.workload(service);
    if (!model || !workload) return;
    const resource = model.workload === 'StatefulSet' ? R.statefulsets : R.deployments;
    const current = Number((workload.spec as { replicas?: number }).replicas ?? 1);
    const target = runtime.fault.replicas ?? current + 2;
    runtime.data.replicas = target;
    world.cluster.store.put(resource, {
      ...workload,
      metadata: { ...workload.metadata, generation: (workload.metadata.generation ?? 1) + 1 },
      spec: { ...(workload.spec as object), replicas: target },
    });
    const hpa = world.cluster.store.get(R.hpas, model.namespace, service);
    if (hpa) {
      world.cluster.store.put(R.hpas, {
        ...hpa,
        status: { ...(hpa.status as object), desiredReplicas: target, lastScaleTime: rfc3339(world.now()) },
      });
      world.cluster.objectEvent(
        hpa,
        'Normal',
        'SuccessfulRescale',
        `New size: ${target}; reason: cpu resource utilization (percentage of request) above target`,
        'horizontal-pod-autoscaler',
      );
    }
    reconcileAll(world.cluster);
  },
  fateOf(runtime, world, pod) {
    if (pod.service !== runtime.fault.service || pod.createdAt < runtime.startedAt) return undefined;
    return {
      kind: 'unschedulable',
      message: schedulerMessage(runtime.fault.reason, world.cluster.store.list(R.nodes).length),
    };
  },
  apply(runtime, _world, t, samples) {
    const sample = samples.get(runtime.fault.service);
    if (sample) sample.rps *= 1 + 0.6 * ramp(t, runtime.startedAt - 60_000, 60_000);
  },
};
