import { addErrors, slowDown } from '../samples.js';
import { activeSince, type FaultModelOf } from './fault-model.js';
import { actionTimes, ramp } from './helpers.js';

/**
 * The service fails on its own, with no change before it (a stuck worker pool): its callers
 * time out first, then its own error rate climbs. Cleared by a rollout restart of the service.
 */
export const dependencyFailure: FaultModelOf<'dependency_failure'> = {
  kind: 'dependency_failure',
  start() {
    // Nothing changes in the estate: the service just wedges.
  },
  present(runtime, world) {
    return actionTimes(runtime, world, ['k8s.rolloutRestart'], runtime.fault.service).length === 0;
  },
  apply(runtime, world, t, samples) {
    const since = activeSince(runtime, t);
    if (since === undefined) return;
    const own = samples.get(runtime.fault.service);
    addErrors(own, runtime.fault.errorRate * ramp(t, since, 120_000) ** 2);
    slowDown(own, 1 + 6 * ramp(t, since, 20_000));
    for (const caller of world.model(runtime.fault.service)?.dependents ?? []) {
      const sample = samples.get(caller);
      addErrors(sample, 0.25 * ramp(t, since, 15_000));
      if (sample) sample.latencyP99Ms += 2_000 * ramp(t, since, 15_000);
    }
  },
  errorLine(runtime, world, service) {
    if (service === runtime.fault.service)
      return 'request failed status=500 error="worker pool exhausted: 0/64 workers available, 512 queued"';
    if (world.model(runtime.fault.service)?.dependents.includes(service)) {
      return `request failed status=504 error="context deadline exceeded calling ${runtime.fault.service}"`;
    }
    return undefined;
  },
};
