import { addErrors } from '../samples.js';
import { activeSince, type FaultModelOf } from './fault-model.js';
import { dataText, ramp } from './helpers.js';

function flagKey(runtime: {
  fault: { flag?: string; service: string };
  data: Record<string, unknown>;
}): string {
  return dataText(runtime, 'flag', runtime.fault.flag ?? '');
}

/**
 * A flag of the service flips on (its owner or a release bot flips it); requests through the
 * new code path fail. Cleared by setting the flag back to its previous value.
 */
export const flagRegression: FaultModelOf<'flag_regression'> = {
  kind: 'flag_regression',
  subject: (runtime) => flagKey(runtime),
  start(runtime, world) {
    const key =
      runtime.fault.flag ??
      world.cluster.host.estate.flags.find((flag) => flag.service === runtime.fault.service)?.key ??
      '';
    runtime.data.flag = key;
    runtime.data.previous = world.flagValue(key);
    world.setFlag(key, runtime.fault.value, runtime.fault.actor);
  },
  present(runtime, world) {
    return world.flagValue(flagKey(runtime)) === runtime.fault.value;
  },
  apply(runtime, _world, t, samples) {
    const since = activeSince(runtime, t);
    if (since === undefined) return;
    addErrors(samples.get(runtime.fault.service), runtime.fault.errorRate * ramp(t, since, 30_000));
  },
  errorLine(runtime, _world, service) {
    if (service !== runtime.fault.service) return undefined;
    return `request failed status=500 error="code path ${flagKey(runtime)}: unsupported rounding mode HALF_EVEN for currency JPY"`;
  },
};
