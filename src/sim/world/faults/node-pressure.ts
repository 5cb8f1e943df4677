import { R } from '../cluster.js';
import { isActive } from '../pods.js';
import { reconcileAll } from '../rollout.js';
import { addErrors, slowDown } from '../samples.js';
import { activeSince, type FaultModelOf } from './fault-model.js';
import { dataText, nodeOfService, setNodeCondition } from './helpers.js';

const EVICT_EVERY_MS = 60_000;

function nodeName(runtime: { data: Record<string, unknown> }): string {
  return dataText(runtime, 'node');
}

/**
 * A node under memory (or disk) pressure, the node being the root cause: its condition turns
 * True and the kubelet evicts a pod every minute, the service's among them; replacements land
 * back on the least-loaded node, which is this one. Cleared by cordoning the node: new pods
 * go elsewhere and the kubelet drains the rest.
 */
export const nodePressure: FaultModelOf<'node_pressure'> = {
  kind: 'node_pressure',
  subject: (runtime) => nodeName(runtime),
  node: (runtime) => nodeName(runtime),
  start(runtime, world) {
    const node = runtime.fault.node ?? nodeOfService(world, runtime.fault.service);
    runtime.data.node = node;
    runtime.data.lastEviction = world.now() - EVICT_EVERY_MS + 10_000;
    const memory = runtime.fault.pressure === 'memory';
    setNodeCondition(
      world,
      node,
      memory ? 'MemoryPressure' : 'DiskPressure',
      'True',
      memory ? 'KubeletHasInsufficientMemory' : 'KubeletHasDiskPressure',
      memory ? 'kubelet has insufficient memory available' : 'kubelet has disk pressure',
    );
    world.cluster.events.record(
      { apiVersion: 'v1', kind: 'Node', name: node },
      'Normal',
      memory ? 'NodeHasInsufficientMemory' : 'NodeHasDiskPressure',
      `Node ${node} status is now: ${memory ? 'NodeHasInsufficientMemory' : 'NodeHasDiskPressure'}`,
      'kubelet',
      node,
    );
  },
  present(runtime, world) {
    const node = world.cluster.store.get(R.nodes, undefined, nodeName(runtime));
    return !(node?.spec as { unschedulable?: boolean } | undefined)?.unschedulable;
  },
  mitigated(runtime, world) {
    return activeSince(runtime, world.now()) === undefined;
  },
  tick(runtime, world, now) {
    const node = nodeName(runtime);
    if (now - Number(runtime.data.lastEviction ?? 0) < EVICT_EVERY_MS) return;
    const memory = runtime.fault.pressure === 'memory';
    const onNode = world.cluster.pods.filter((pod) => pod.node === node && isActive(pod));
    const victim = onNode.find((pod) => pod.service === runtime.fault.service) ?? onNode[0];
    if (!victim) return;
    runtime.data.lastEviction = now;
    world.cluster.events.record(
      { apiVersion: 'v1', kind: 'Node', name: node },
      'Warning',
      'EvictionThresholdMet',
      `Attempting to reclaim ${memory ? 'memory' : 'ephemeral-storage'}`,
      'kubelet',
      node,
    );
    const container = victim.template.spec.containers[0]?.name ?? 'app';
    world.cluster.evict(
      victim,
      memory
        ? `The node was low on resource: memory. Threshold quantity: 100Mi, available: 61440Ki. Container ${container} was using 412Mi, request is 256Mi, has larger consumption of request. `
        : `The node was low on resource: ephemeral-storage. Threshold quantity: 10%, available: 4%. Container ${container} was using 9Gi, request is 0, has larger consumption of ephemeral-storage. `,
    );
    reconcileAll(world.cluster);
  },
  apply(runtime, _world, t, samples) {
    if (activeSince(runtime, t) === undefined) return;
    const sample = samples.get(runtime.fault.service);
    addErrors(sample, 0.04);
    slowDown(sample, 1.4);
  },
  errorLine(runtime, _world, service) {
    if (service !== runtime.fault.service) return undefined;
    return 'request failed status=503 error="upstream connect error or disconnect/reset before headers. reset reason: connection failure"';
  },
};
