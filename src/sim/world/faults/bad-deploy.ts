import { nextImage } from '../bootstrap.js';
import { addErrors, slowDown } from '../samples.js';
import { codeFingerprint } from '../templates.js';
import type { FaultModelOf } from './fault-model.js';
import { currentFingerprint, dataText, readyShare, tagOf } from './helpers.js';

/**
 * A new image that fails requests: a new revision whose pods raise errors and latency in
 * proportion to the share of traffic they serve. Cleared by rolling back (the old revision's
 * pods take the traffic back); a restart or a scale keeps the bad image.
 */
export const badDeploy: FaultModelOf<'bad_deploy'> = {
  kind: 'bad_deploy',
  async start(runtime, world) {
    const { fault } = runtime;
    const current = world.cluster.currentTemplate(fault.service)?.spec.containers[0]?.image ?? '';
    const image = fault.image ?? nextImage(current, 'minor');
    runtime.data.image = image;
    await world.deploy(fault.service, {
      image,
      message: fault.message ?? `${fault.service}: read the payment token from the new request context`,
      ...(fault.author ? { author: fault.author } : {}),
      onTemplate: (template) => {
        runtime.data.fingerprint = codeFingerprint(template);
      },
    });
  },
  present(runtime, world) {
    return currentFingerprint(world, runtime.fault.service) === runtime.data.fingerprint;
  },
  apply(runtime, world, t, samples) {
    const share = readyShare(world, runtime.fault.service, runtime.data.fingerprint, t);
    if (share === 0) return;
    const sample = samples.get(runtime.fault.service);
    addErrors(sample, runtime.fault.errorRate * share);
    slowDown(sample, 1 + (runtime.fault.latencyFactor - 1) * share);
  },
  errorLine(runtime, _world, service) {
    if (service !== runtime.fault.service) return undefined;
    return `request failed status=500 error="TypeError: Cannot read properties of undefined (reading 'token')" version=${tagOf(dataText(runtime, 'image'))}`;
  },
};
