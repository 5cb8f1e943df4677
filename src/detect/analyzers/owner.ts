import type { AnalysisContext } from './context.js';
import type { ObjectReference, OwnerReference } from './finding.js';
import type { Job, Pod } from './snapshot.js';

interface OwnerReferences {
  ownerReferences?: ReadonlyArray<{ kind?: string; name?: string; controller?: boolean } | undefined>;
}

function controllerOf(metadata: OwnerReferences | undefined): OwnerReference | undefined {
  const references = (metadata?.ownerReferences ?? []).filter((reference) => reference !== undefined);
  const controller = references.find((reference) => reference.controller === true) ?? references[0];
  if (controller?.kind === undefined || controller.name === undefined) return undefined;
  return { kind: controller.kind, name: controller.name };
}

/**
 * The workload that owns a pod. A ReplicaSet resolves to its Deployment: through the ReplicaSet's
 * own owner reference when the snapshot holds it, otherwise by removing the `pod-template-hash`
 * suffix (a label only the Deployment controller sets). A Job resolves to its CronJob when the
 * snapshot holds the Job. Other controllers (StatefulSet, DaemonSet, custom) are returned as is.
 */
export function podOwner(pod: Pod, context: AnalysisContext): OwnerReference | undefined {
  const controller = controllerOf(pod.metadata);
  if (!controller) return undefined;
  const namespace = pod.metadata?.namespace;
  if (controller.kind === 'ReplicaSet') {
    const replicaSet = context.replicaSet(namespace, controller.name);
    if (replicaSet) return controllerOf(replicaSet.metadata) ?? controller;
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    if (hash && controller.name.endsWith(`-${hash}`)) {
      return { kind: 'Deployment', name: controller.name.slice(0, -(hash.length + 1)) };
    }
    return controller;
  }
  if (controller.kind === 'Job') {
    const job = context.job(namespace, controller.name);
    return (job && jobOwner(job)) ?? controller;
  }
  return controller;
}

/** The controller of a Job (a CronJob), or undefined for a Job created by hand. */
export function jobOwner(job: Job): OwnerReference | undefined {
  return controllerOf(job.metadata);
}

/** The reference a finding about this object carries. */
export function referenceTo(
  kind: string,
  object: { metadata?: { namespace?: string; name?: string } | undefined },
): ObjectReference | undefined {
  const name = object.metadata?.name;
  if (name === undefined) return undefined;
  const reference: ObjectReference = { kind, name };
  if (object.metadata?.namespace !== undefined) reference.namespace = object.metadata.namespace;
  return reference;
}

/** `namespace/name`, or `name` for cluster-scoped objects; for messages. */
export function displayName(reference: ObjectReference): string {
  return reference.namespace ? `${reference.namespace}/${reference.name}` : reference.name;
}
