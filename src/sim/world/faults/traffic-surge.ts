import type { FaultOf } from '../../scenario/fault-schema.js';
import type { FaultModelOf, FaultRuntime, FaultWorld } from './fault-model.js';
import { ramp } from './helpers.js';

type Surge = FaultRuntime<FaultOf<'traffic_surge'>>;

/** Replicas that carry the surge below 80 % of the CPU limit. */
export function replicasNeeded(runtime: Surge, world: FaultWorld): number {
  const model = world.model(runtime.fault.service);
  if (!model) return 1;
  const perPodAtLimit = (model.limits.cpu * 0.8) / Math.max(0.01, model.baseline.cpu);
  return Math.ceil((Math.max(1, model.replicas) * runtime.fault.factor) / perPodAtLimit);
}

/**
 * Traffic on the service ramps up by `factor`: rps and CPU rise, latency grows as pods near
 * their CPU limit, then errors once they are past it. Cleared by scaling up to enough
 * replicas; a restart changes nothing.
 */
export const trafficSurge: FaultModelOf<'traffic_surge'> = {
  kind: 'traffic_surge',
  start() {
    // The surge comes from outside the estate.
  },
  present(runtime, world) {
    const workload = world.cluster.workload(runtime.fault.service);
    const replicas = Number((workload?.spec as { replicas?: number } | undefined)?.replicas ?? 0);
    return replicas < replicasNeeded(runtime, world);
  },
  apply(runtime, _world, t, samples) {
    const sample = samples.get(runtime.fault.service);
    if (!sample) return;
    sample.rps *= 1 + (runtime.fault.factor - 1) * ramp(t, runtime.startedAt, runtime.fault.ramp);
  },
  errorLine(runtime, _world, service) {
    if (service !== runtime.fault.service) return undefined;
    return 'request failed status=503 error="server overloaded: request queue full (1024 waiting)"';
  },
};
