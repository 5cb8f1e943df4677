import { isActive } from '../pods.js';
import { addErrors, slowDown } from '../samples.js';
import type { FaultModelOf } from './fault-model.js';
import { dataText, nodeOfService, ramp, startJob } from './helpers.js';

/**
 * A batch job (the root cause) lands on the node of one of the service's pods and saturates
 * its CPU: the co-located pods of the service slow down. No catalog action clears it
 * (escalate naming the job and the node).
 */
export const noisyNeighbor: FaultModelOf<'noisy_neighbor'> = {
  kind: 'noisy_neighbor',
  subject: (runtime) => dataText(runtime, 'job'),
  node: (runtime) => dataText(runtime, 'node'),
  start(runtime, world) {
    const { service } = runtime.fault;
    const job =
      runtime.fault.job ?? world.models().find((model) => model.kind === 'job')?.name ?? `${service}-batch`;
    const node = runtime.fault.node ?? nodeOfService(world, service);
    const pods = world.cluster.livePods(service).filter(isActive);
    runtime.data.job = job;
    runtime.data.node = node;
    runtime.data.share = pods.length ? pods.filter((pod) => pod.node === node).length / pods.length : 1;
    startJob(world, job, world.model(service)?.namespace ?? 'default', node, 7.5);
  },
  apply(runtime, _world, t, samples) {
    const sample = samples.get(runtime.fault.service);
    if (!sample) return;
    const share = Number(runtime.data.share ?? 1) * ramp(t, runtime.startedAt, 30_000);
    slowDown(sample, 1 + 3 * share, 1 + share);
    sample.cpuSteal += 0.3 * share;
    addErrors(sample, 0.01 * share);
  },
  podLines(runtime, _world, pod) {
    if (pod.service !== runtime.fault.service || pod.node !== runtime.data.node) return [];
    return [{ level: 'warn', message: 'event loop lag 850ms exceeds 200ms threshold' }];
  },
};
