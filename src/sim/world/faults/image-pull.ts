import { nextImage } from '../bootstrap.js';
import { codeFingerprint } from '../templates.js';
import type { FaultModelOf } from './fault-model.js';
import { currentFingerprint, dataText, tagOf } from './helpers.js';

/**
 * A deploy of an image that does not exist: new pods ErrImagePull / ImagePullBackOff, the
 * rollout stuck, old pods serving. Cleared by rolling back.
 */
export const imagePull: FaultModelOf<'image_pull'> = {
  kind: 'image_pull',
  async start(runtime, world) {
    const { fault } = runtime;
    const current = world.cluster.currentTemplate(fault.service)?.spec.containers[0]?.image ?? '';
    const next = nextImage(current, 'minor');
    const image = fault.image ?? `${next.slice(0, next.lastIndexOf(':'))}:v${tagOf(next)}`;
    runtime.data.image = image;
    await world.deploy(fault.service, {
      image,
      message: fault.message ?? `Release v${tagOf(next)}`,
      ...(fault.author ? { author: fault.author } : {}),
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
    const image = dataText(runtime, 'image');
    return {
      kind: 'image-pull',
      image,
      message: `rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/${image}": failed to resolve reference "docker.io/${image}": docker.io/${image}: not found`,
    };
  },
  apply() {
    // The old pods keep serving: the symptoms are in Kubernetes, not in the metrics.
  },
};
