import type { RawObject } from '../scenario/scenario-schema.js';
import { R } from './cluster.js';
import { KubeApiError, badRequest, invalid, notFound } from './kube-errors.js';
import { canonicalJson, cloneJson, rfc3339, rfc3339Nano, type KubeObject } from './kube-object.js';
import { applyPatch, type PatchType } from './patch.js';
import { isActive, type PodRecord } from './pods.js';
import { replicaSetsOf, reconcileAll, revisionOf } from './rollout.js';
import { resourceId, type ResourceType } from './resources.js';
import { sameTemplate, type PodTemplate } from './templates.js';
import type { World } from './world.js';

/** Options of a write. */
export interface WriteOptions {
  /** `dryRun=All`: validate and answer, store nothing. */
  dryRun?: boolean;
  /** Who wrote (recorded on the action): kubernetes | timeline. */
  via?: string;
}

/** Options of a pod log read, as the API takes them. */
export interface PodLogOptions {
  container?: string;
  previous?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  timestamps?: boolean;
  limitBytes?: number;
}

const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

function splitId(resource: string): { group: string; plural: string } {
  const slash = resource.indexOf('/');
  return { group: resource.slice(0, slash), plural: resource.slice(slash + 1) };
}

function templateOf(object: KubeObject): PodTemplate | undefined {
  return (object.spec as { template?: PodTemplate } | undefined)?.template;
}

function replicasOf(object: KubeObject): number | undefined {
  return (object.spec as { replicas?: number } | undefined)?.replicas;
}

function withoutRestart(template: PodTemplate): PodTemplate {
  const copy = cloneJson(template);
  if (copy.metadata.annotations) delete copy.metadata.annotations[RESTARTED_AT];
  if (copy.metadata.annotations && Object.keys(copy.metadata.annotations).length === 0)
    delete copy.metadata.annotations;
  return copy;
}

const RAW_LINE = /^(ERROR|WARN|WARNING|INFO|DEBUG|FATAL|PANIC|LOG:|\d+:[MCSX] |[EWIF]\d{4} )/;

/**
 * The Kubernetes API semantics of the world: reads, writes with validation and controller
 * reactions (a write that changes a workload's template or replicas, a node's schedulability
 * or deletes a pod is recorded as an action), the scale subresource and pod logs. The HTTP
 * server (src/sim/kubernetes/) maps requests onto these calls; errors are KubeApiError.
 */
export class KubeApi {
  readonly #world: World;

  constructor(world: World) {
    this.#world = world;
  }

  get #store() {
    return this.#world.cluster.store;
  }

  /** The resource types served. */
  types(): ResourceType[] {
    return this.#world.cluster.resources.all();
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject {
    const object = this.#store.get(resource, namespace, name);
    if (!object) {
      const { group, plural } = splitId(resource);
      throw notFound(group, plural, name);
    }
    return object;
  }

  list(resource: string, namespace?: string): KubeObject[] {
    return this.#store.list(resource, namespace);
  }

  /** Adds a raw object from a scenario's `kubernetes:` list, registering its kind. */
  addRaw(raw: RawObject): KubeObject {
    const registry = this.#world.cluster.resources;
    const known = registry.byKind(raw.apiVersion, raw.kind);
    const namespaced = known ? known.namespaced : raw.metadata.namespace !== undefined;
    const type = registry.ensure(raw.apiVersion, raw.kind, namespaced);
    const object: KubeObject = cloneJson<KubeObject>(raw);
    object.metadata = {
      ...object.metadata,
      ...(type.namespaced ? { namespace: raw.metadata.namespace ?? 'default' } : {}),
      uid: this.#world.cluster.uid(),
      creationTimestamp:
        (raw.metadata.creationTimestamp as string | undefined) ??
        rfc3339(this.#world.startedAt() - 86_400_000),
    };
    return this.#store.put(resourceId(type), object);
  }

  /** Creates an object of a plain kind (ConfigMaps, Events, raw kinds); controllers' kinds are refused. */
  create(
    resource: string,
    namespace: string | undefined,
    body: unknown,
    options: WriteOptions = {},
  ): KubeObject {
    const { group, plural } = splitId(resource);
    if (
      [R.pods, R.deployments, R.replicasets, R.statefulsets, R.nodes, R.namespaces].includes(
        resource as never,
      )
    ) {
      throw new KubeApiError(405, 'MethodNotAllowed', `the sim does not create ${plural} through the API`);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw badRequest('the body must be a JSON object');
    const object = cloneJson(body) as KubeObject;
    const name = object.metadata?.name;
    if (!name)
      throw invalid(
        object.kind ?? plural,
        group,
        '',
        'metadata.name',
        'Required value: name or generateName is required',
      );
    if (this.#store.get(resource, namespace, name)) {
      throw new KubeApiError(
        409,
        'AlreadyExists',
        `${group ? `${plural}.${group}` : plural} "${name}" already exists`,
        { name, kind: plural },
      );
    }
    object.metadata = {
      ...object.metadata,
      ...(namespace ? { namespace } : {}),
      uid: this.#world.cluster.uid(),
      creationTimestamp: rfc3339(this.#world.now()),
    };
    if (options.dryRun) return object;
    const stored = this.#store.create(resource, object);
    this.#world.afterChange();
    return stored;
  }

  /** Applies a patch to an object (PATCH). */
  patch(
    resource: string,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
    options: WriteOptions = {},
  ): KubeObject {
    const before = this.get(resource, namespace, name);
    const after = applyPatch(before, body, type) as KubeObject;
    return this.#commit(resource, before, after, options);
  }

  /** Replaces an object (PUT). */
  replace(
    resource: string,
    namespace: string | undefined,
    name: string,
    body: unknown,
    options: WriteOptions = {},
  ): KubeObject {
    const before = this.get(resource, namespace, name);
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw badRequest('the body must be a JSON object');
    const after = cloneJson(body) as KubeObject;
    if (!after.status && before.status) after.status = before.status;
    return this.#commit(resource, before, after, options);
  }

  /** The autoscaling/v1 Scale of a workload. */
  getScale(resource: string, namespace: string | undefined, name: string): KubeObject {
    return this.#scaleOf(this.get(resource, namespace, name));
  }

  /** Patches the Scale of a workload; answers the new Scale. */
  patchScale(
    resource: string,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
    options: WriteOptions = {},
  ): KubeObject {
    const workload = this.get(resource, namespace, name);
    const scale = applyPatch(this.#scaleOf(workload), body, type) as KubeObject;
    return this.#applyScale(resource, workload, scale, options);
  }

  /** Replaces the Scale of a workload (PUT …/scale). */
  replaceScale(
    resource: string,
    namespace: string | undefined,
    name: string,
    body: unknown,
    options: WriteOptions = {},
  ): KubeObject {
    const workload = this.get(resource, namespace, name);
    return this.#applyScale(resource, workload, body as KubeObject, options);
  }

  #applyScale(resource: string, workload: KubeObject, scale: KubeObject, options: WriteOptions): KubeObject {
    const replicas = (scale?.spec as { replicas?: unknown } | undefined)?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid(
        'Scale',
        'autoscaling',
        workload.metadata.name,
        'spec.replicas',
        `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
      );
    }
    const after = cloneJson(workload);
    (after.spec as { replicas: number }).replicas = replicas;
    const stored = this.#commit(resource, workload, after, options);
    return this.#scaleOf(stored);
  }

  #scaleOf(workload: KubeObject): KubeObject {
    const selector =
      (workload.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {};
    return {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: {
        name: workload.metadata.name,
        namespace: workload.metadata.namespace,
        uid: workload.metadata.uid,
        resourceVersion: workload.metadata.resourceVersion,
        creationTimestamp: workload.metadata.creationTimestamp,
      },
      spec: { replicas: replicasOf(workload) ?? 0 },
      status: {
        replicas: Number((workload.status as { replicas?: number } | undefined)?.replicas ?? 0),
        selector: Object.entries(selector)
          .map(([key, value]) => `${key}=${value}`)
          .join(','),
      },
    };
  }

  /** Deletes an object: a pod (its controller replaces it), or a plain object. */
  delete(
    resource: string,
    namespace: string | undefined,
    name: string,
    options: WriteOptions = {},
  ): KubeObject {
    const object = this.get(resource, namespace, name);
    const { plural } = splitId(resource);
    if (resource === R.pods) {
      const pod = this.#world.cluster.findPod(namespace ?? '', name);
      if (options.dryRun || !pod) return object;
      this.#world.cluster.deletePod(pod);
      this.#world.recordAction({
        kind: 'k8s.deletePod',
        target: pod.service,
        via: options.via ?? 'kubernetes',
        details: { pod: name },
      });
      if (pod.owner.kind !== 'Job') reconcileAll(this.#world.cluster);
      this.#world.afterChange();
      return { ...object, metadata: { ...object.metadata, deletionTimestamp: rfc3339(this.#world.now()) } };
    }
    if (
      [R.deployments, R.replicasets, R.statefulsets, R.nodes, R.namespaces, R.services].includes(
        resource as never,
      )
    ) {
      throw new KubeApiError(405, 'MethodNotAllowed', `the sim does not delete ${plural}`);
    }
    if (options.dryRun) return object;
    const deleted = this.#store.delete(resource, namespace, name) ?? object;
    this.#world.afterChange();
    return deleted;
  }

  #validate(resource: string, before: KubeObject, after: KubeObject): void {
    const { group, plural } = splitId(resource);
    const name = before.metadata.name;
    if (
      after === null ||
      typeof after !== 'object' ||
      Array.isArray(after) ||
      typeof after.metadata !== 'object' ||
      after.metadata === null
    ) {
      throw badRequest(`the patched ${plural} is not an object with metadata`);
    }
    if (after.metadata.name !== name)
      throw badRequest(
        `the name of the object (${String(after.metadata.name)}) does not match the name on the URL (${name})`,
      );
    if ((after.metadata.namespace ?? undefined) !== (before.metadata.namespace ?? undefined)) {
      throw badRequest(
        `the namespace of the object (${String(after.metadata.namespace)}) does not match the namespace on the URL (${String(before.metadata.namespace)})`,
      );
    }
    if (after.kind !== before.kind || after.apiVersion !== before.apiVersion)
      throw badRequest(`the kind or apiVersion of ${plural} "${name}" cannot change`);
    if (
      after.metadata.resourceVersion !== undefined &&
      after.metadata.resourceVersion !== before.metadata.resourceVersion
    ) {
      throw new KubeApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${group ? `${plural}.${group}` : plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        {
          name,
          kind: plural,
        },
      );
    }
    if (resource === R.deployments || resource === R.statefulsets) {
      const replicas = replicasOf(after);
      if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0)) {
        throw invalid(
          after.kind,
          group,
          name,
          'spec.replicas',
          `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
        );
      }
      const beforeSelector = canonicalJson((before.spec as { selector?: unknown }).selector);
      if (canonicalJson((after.spec as { selector?: unknown }).selector) !== beforeSelector) {
        throw invalid(
          after.kind,
          group,
          name,
          'spec.selector',
          `Invalid value: ${canonicalJson((after.spec as { selector?: unknown }).selector)}: field is immutable`,
        );
      }
      const template = templateOf(after);
      const labels = template?.metadata?.labels ?? {};
      const wanted =
        (after.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {};
      if (Object.entries(wanted).some(([key, value]) => labels[key] !== value)) {
        throw invalid(
          after.kind,
          group,
          name,
          'spec.template.metadata.labels',
          `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
        );
      }
      const containers = template?.spec?.containers;
      if (
        !Array.isArray(containers) ||
        containers.length === 0 ||
        containers.some((container) => !container?.name || !container?.image)
      ) {
        throw invalid(
          after.kind,
          group,
          name,
          'spec.template.spec.containers',
          'Required value: every container needs a name and an image',
        );
      }
    }
  }

  #commit(resource: string, before: KubeObject, after: KubeObject, options: WriteOptions): KubeObject {
    this.#validate(resource, before, after);
    after.metadata = {
      ...after.metadata,
      uid: before.metadata.uid,
      creationTimestamp: before.metadata.creationTimestamp,
      resourceVersion: before.metadata.resourceVersion,
    };
    const via = options.via ?? 'kubernetes';
    const workload = resource === R.deployments || resource === R.statefulsets;
    const templateChanged =
      workload && !sameTemplate(templateOf(before) as PodTemplate, templateOf(after) as PodTemplate);
    const replicasChanged = workload && replicasOf(before) !== replicasOf(after);
    if (templateChanged || replicasChanged) after.metadata.generation = (before.metadata.generation ?? 1) + 1;
    if (resource === R.nodes) this.#nodeTaints(before, after);
    if (options.dryRun) return after;
    const service = workload ? (after.metadata.labels?.app ?? after.metadata.name) : undefined;
    const actions: Array<{ kind: string; target: string; details: Record<string, unknown> }> = [];
    if (templateChanged && service) {
      actions.push(this.#classifyTemplateChange(resource, before, after, service));
    }
    if (replicasChanged && service)
      actions.push({
        kind: 'k8s.scale',
        target: service,
        details: { from: replicasOf(before), to: replicasOf(after) },
      });
    if (resource === R.nodes) {
      const was = Boolean((before.spec as { unschedulable?: boolean } | undefined)?.unschedulable);
      const is = Boolean((after.spec as { unschedulable?: boolean } | undefined)?.unschedulable);
      if (was !== is)
        actions.push({
          kind: is ? 'k8s.cordonNode' : 'k8s.uncordonNode',
          target: after.metadata.name,
          details: {},
        });
    }
    const stored = this.#store.put(resource, after);
    if (templateChanged && service) this.#world.recordRollout(service);
    if (workload || resource === R.nodes) reconcileAll(this.#world.cluster);
    for (const action of actions) this.#world.recordAction({ ...action, via });
    this.#world.afterChange();
    return this.#store.get(resource, stored.metadata.namespace, stored.metadata.name) ?? stored;
  }

  #classifyTemplateChange(
    resource: string,
    before: KubeObject,
    after: KubeObject,
    service: string,
  ): { kind: string; target: string; details: Record<string, unknown> } {
    const beforeTemplate = templateOf(before) as PodTemplate;
    const afterTemplate = templateOf(after) as PodTemplate;
    if (resource === R.deployments) {
      const sets = replicaSetsOf(this.#world.cluster, before);
      const target = sets.find((rs) => sameTemplate(templateOf(rs) as PodTemplate, afterTemplate));
      const current = sets.find((rs) => sameTemplate(templateOf(rs) as PodTemplate, beforeTemplate));
      if (target && target !== current) {
        return {
          kind: 'k8s.rollback',
          target: service,
          details: {
            toRevision: revisionOf(target),
            fromRevision: current ? revisionOf(current) : undefined,
          },
        };
      }
    }
    if (sameTemplate(withoutRestart(beforeTemplate), withoutRestart(afterTemplate))) {
      return {
        kind: 'k8s.rolloutRestart',
        target: service,
        details: { restartedAt: afterTemplate.metadata.annotations?.[RESTARTED_AT] },
      };
    }
    return {
      kind: 'k8s.updateTemplate',
      target: service,
      details: { image: afterTemplate.spec.containers[0]?.image },
    };
  }

  #nodeTaints(before: KubeObject, after: KubeObject): void {
    const spec = (after.spec ?? {}) as {
      unschedulable?: boolean;
      taints?: Array<{ key: string; effect: string; timeAdded?: string }>;
    };
    const was = Boolean((before.spec as { unschedulable?: boolean } | undefined)?.unschedulable);
    const is = Boolean(spec.unschedulable);
    if (was === is) return;
    const others = (spec.taints ?? []).filter((taint) => taint.key !== 'node.kubernetes.io/unschedulable');
    spec.taints = is
      ? [
          ...others,
          {
            key: 'node.kubernetes.io/unschedulable',
            effect: 'NoSchedule',
            timeAdded: rfc3339(this.#world.now()),
          },
        ]
      : others;
    if (spec.taints.length === 0) delete spec.taints;
    if (!is) delete spec.unschedulable;
    after.spec = spec;
  }

  /** The log of a pod's container as text, as `GET …/pods/{name}/log` answers it. */
  podLog(namespace: string, name: string, options: PodLogOptions = {}): string {
    const pod = this.#world.cluster.findPod(namespace, name);
    if (!pod) throw notFound('', 'pods', name);
    const container = pod.template.spec.containers[0]?.name ?? 'app';
    if (options.container && options.container !== container) {
      throw badRequest(`container ${options.container} is not valid for pod ${name}`);
    }
    const range = this.#logRange(pod, container, Boolean(options.previous));
    let lines = this.#world.logs(pod.service, { fromMs: range.from, toMs: range.to, pod: pod.name });
    if (options.sinceSeconds !== undefined) {
      const since = this.#world.now() - options.sinceSeconds * 1000;
      lines = lines.filter((line) => line.t >= since);
    }
    if (options.tailLines !== undefined)
      lines = options.tailLines <= 0 ? [] : lines.slice(-options.tailLines);
    let text = lines
      .map((line) => {
        const message = RAW_LINE.test(line.message)
          ? line.message
          : `${line.level.toUpperCase()} ${line.message}`;
        return `${options.timestamps ? `${rfc3339Nano(line.t)} ` : ''}${message}\n`;
      })
      .join('');
    if (options.limitBytes !== undefined && Buffer.byteLength(text) > options.limitBytes) {
      text = Buffer.from(text).subarray(0, options.limitBytes).toString();
    }
    return text;
  }

  #logRange(pod: PodRecord, container: string, previous: boolean): { from: number; to: number } {
    if (previous) {
      if (!pod.lastTerminated)
        throw badRequest(`previous terminated container "${container}" in pod "${pod.name}" not found`);
      return { from: pod.lastTerminated.startedAt, to: pod.lastTerminated.finishedAt };
    }
    if (pod.node === undefined)
      throw badRequest(`container "${container}" in pod "${pod.name}" is waiting to start: PodInitializing`);
    if (pod.containerStartedAt === undefined || (pod.waiting && pod.waiting.reason !== 'CrashLoopBackOff')) {
      const reason =
        pod.waiting?.reason === 'ImagePullBackOff' || pod.waiting?.reason === 'ErrImagePull'
          ? 'trying and failing to pull image'
          : 'ContainerCreating';
      throw badRequest(`container "${container}" in pod "${pod.name}" is waiting to start: ${reason}`);
    }
    const end = !isActive(pod) ? (pod.lastTerminated?.finishedAt ?? this.#world.now()) : this.#world.now();
    return { from: pod.containerStartedAt, to: end };
  }
}
