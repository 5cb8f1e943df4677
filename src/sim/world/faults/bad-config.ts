import { addErrors } from '../samples.js';
import { codeFingerprint } from '../templates.js';
import type { FaultModelOf } from './fault-model.js';
import { currentFingerprint } from './helpers.js';

/**
 * A config change that new pods cannot start with: a new ConfigMap and a rollout whose pods
 * crash-loop with the config error in their logs (the rollout stalls, old pods keep serving).
 * Cleared by rolling back to the revision that reads the old ConfigMap.
 */
export const badConfig: FaultModelOf<'bad_config'> = {
  kind: 'bad_config',
  async start(runtime, world) {
    const { fault } = runtime;
    await world.deploy(fault.service, {
      config: { [fault.key]: fault.value },
      message: fault.message ?? `config: set ${fault.key}=${fault.value}`,
      ...(fault.author ? { author: fault.author } : {}),
      files: { [`config/${fault.service}.env`]: `${fault.key}=${fault.value}\n` },
      onTemplate: (template) => {
        runtime.data.fingerprint = codeFingerprint(template);
      },
    });
  },
  present(runtime, world) {
    return currentFingerprint(world, runtime.fault.service) === runtime.data.fingerprint;
  },
  fateOf(runtime, _world, pod) {
    if (pod.fingerprint !== runtime.data.fingerprint) return undefined;
    const { key, value } = runtime.fault;
    return {
      kind: 'crash-loop',
      exitCode: 1,
      reason: 'Error',
      lines: [
        `INFO loading configuration from environment`,
        runtime.fault.error ?? `ERROR invalid configuration: ${key}="${value}": must be a positive integer`,
        'FATAL cannot start: configuration error',
      ],
    };
  },
  apply(runtime, world, t, samples) {
    if (t < runtime.startedAt || world.snapshotAt(runtime.fault.service, t)?.ready === undefined) return;
    const snapshot = world.snapshotAt(runtime.fault.service, t);
    if (snapshot && snapshot.ready < snapshot.desired) addErrors(samples.get(runtime.fault.service), 0.02);
  },
};
