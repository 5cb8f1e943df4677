import {
  clusterId,
  configChangeId,
  deployId,
  externalId,
  graphId,
  k8sId,
  namespaceId,
  nodeId,
  serviceId,
} from '../../graph/ids.js';
import type { PropertiesInput } from '../../graph/schema.js';
import type { GraphStore } from '../../graph/store.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { StrippedConfigMap } from './config-maps.js';
import { hostsIn, isExternalHost, resolveService, type HostReference } from './dependencies.js';
import { GraphBatch, type WriteCounts } from './graph-batch.js';
import { serviceObjectiveProperties } from './service-objectives.js';
import { memoryLimitBytes } from './quantity.js';
import type { KubeObject, ResourceKey } from './resources.js';
import {
  CHANGE_CAUSE,
  DEPLOYMENT_REVISION,
  POD_TEMPLATE_HASH,
  compareWorkload,
  deployChanges,
  describeWorkload,
  stateFromProperties,
  templateOf,
  type WorkloadChange,
  type WorkloadState,
} from './workload-state.js';

/** Provenance of everything the watchers observe. */
export const KUBERNETES_SOURCE = 'kubernetes';
/** Provenance of dependencies read from environment variables and ConfigMaps. */
export const ENV_INFERENCE_SOURCE = 'inferred:env';

/** What the projector reads besides the object it writes. */
export interface ProjectorOptions {
  cluster: string;
  graph: GraphStore;
  clock: Clock;
  logger: Logger;
  /** The cached objects of a watched resource. */
  objects(key: ResourceKey): readonly KubeObject[];
  /** What is known of a ConfigMap's content (hash, host names), if it is cached. */
  configMap(namespace: string, name: string): StrippedConfigMap | undefined;
  /** Confidence of dependencies inferred from configuration; default 0.6. */
  dependencyConfidence?: number;
}

const WORKLOAD_KEYS: Partial<Record<ResourceKey, string>> = {
  deployments: 'Deployment',
  statefulSets: 'StatefulSet',
  daemonSets: 'DaemonSet',
  jobs: 'Job',
};
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}
function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(record) : [];
}
function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

function matches(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  const entries = Object.entries(selector ?? {});
  if (entries.length === 0) return false;
  return entries.every(([key, value]) => labels?.[key] === value);
}

function selectorOf(service: KubeObject): Record<string, string> | undefined {
  return record(service.spec).selector as Record<string, string> | undefined;
}

/** The graph id of the Kubernetes object a reference names. */
export function objectEntityId(
  cluster: string,
  kind: string,
  namespace: string | undefined,
  name: string,
): string {
  if (kind === 'Node') return nodeId(cluster, name);
  if (kind === 'Namespace') return namespaceId(cluster, name);
  if (kind === 'Service') return serviceId(name);
  return k8sId(cluster, namespace, kind, name);
}

/**
 * Turns watched objects into graph writes: topology (Cluster, Namespace, Node, Workload →
 * ReplicaSet → Pod → Node, Service SELECTS workloads and pods, workloads PART_OF the Services
 * selecting them), ConfigMaps by hash, dependencies inferred from configuration, and change
 * events (deploys, restarts, scaling, ConfigMap changes, node conditions, warning events).
 *
 * What it last wrote of a workload, ConfigMap or node is also read back from the graph the
 * first time the object is seen, so a restarted ingest reports changes made while it was down
 * and never reports the same change twice.
 */
/** The application a workload belongs to, by the usual labels. */
function appLabel(labels: Record<string, string> | undefined): string | undefined {
  return labels?.['app.kubernetes.io/name'] ?? labels?.app ?? labels?.['k8s-app'];
}

export class GraphProjector {
  readonly #options: ProjectorOptions;
  readonly #workloads = new Map<string, WorkloadState>();
  readonly #configHashes = new Map<string, string>();
  readonly #nodes = new Map<string, { conditions: Map<string, string>; unschedulable: boolean }>();
  readonly #namespaces = new Set<string>();
  #clusterWritten = false;
  readonly #confidence: number;
  readonly #indexes = new Map<ResourceKey, Map<string, KubeObject[]>>();
  readonly #labelIndexes = new Map<ResourceKey, Map<string, KubeObject[]>>();

  constructor(options: ProjectorOptions) {
    this.#options = options;
    this.#confidence = options.dependencyConfidence ?? 0.6;
  }

  /** Forgets the per-namespace index of a resource; call when its cache changed. */
  invalidate(key: ResourceKey): void {
    this.#indexes.delete(key);
    this.#labelIndexes.delete(key);
  }

  #inNamespace(key: ResourceKey, namespace: string): readonly KubeObject[] {
    let index = this.#indexes.get(key);
    if (!index) {
      index = new Map();
      for (const object of this.#options.objects(key)) {
        const objectNamespace = object.metadata?.namespace ?? '';
        const bucket = index.get(objectNamespace);
        if (bucket) bucket.push(object);
        else index.set(objectNamespace, [object]);
      }
      this.#indexes.set(key, index);
    }
    return index.get(namespace) ?? [];
  }

  /**
   * Objects of a namespace carrying the rarest `key=value` pair of `selector` (a superset of the
   * matches: check them with `matches`), from an index built once per cache change.
   */
  #labelled(
    key: ResourceKey,
    namespace: string,
    selector: Record<string, string> | undefined,
  ): readonly KubeObject[] {
    const pairs = Object.entries(selector ?? {});
    if (pairs.length === 0) return [];
    let index = this.#labelIndexes.get(key);
    if (!index) {
      index = new Map();
      for (const object of this.#options.objects(key)) {
        const objectNamespace = object.metadata?.namespace ?? '';
        for (const [label, value] of Object.entries(object.metadata?.labels ?? {})) {
          const bucketKey = `${objectNamespace}\u0000${label}=${value}`;
          const bucket = index.get(bucketKey);
          if (bucket) bucket.push(object);
          else index.set(bucketKey, [object]);
        }
      }
      this.#labelIndexes.set(key, index);
    }
    let smallest: readonly KubeObject[] | undefined;
    for (const [label, value] of pairs) {
      const bucket = index.get(`${namespace}\u0000${label}=${value}`) ?? [];
      if (!smallest || bucket.length < smallest.length) smallest = bucket;
    }
    return smallest ?? [];
  }

  get #cluster(): string {
    return this.#options.cluster;
  }

  /** Writes every object of a resource (after a list), and marks the vanished ones deleted. */
  async projectAll(
    key: ResourceKey,
    objects: readonly KubeObject[],
    deleted: readonly KubeObject[],
  ): Promise<WriteCounts> {
    const batch = this.#batch();
    for (const object of objects) await this.#project(key, object, batch, false, false);
    for (const object of deleted) await this.#project(key, object, batch, true, false);
    return batch.write(this.#options.graph);
  }

  /** Writes one added, changed or deleted object. */
  async project(key: ResourceKey, object: KubeObject, deleted: boolean): Promise<WriteCounts> {
    const batch = this.#batch();
    await this.#project(key, object, batch, deleted, true);
    return batch.write(this.#options.graph);
  }

  #batch(): GraphBatch {
    const batch = new GraphBatch(KUBERNETES_SOURCE, this.#options.clock.now());
    if (!this.#clusterWritten) {
      batch.entity({ id: clusterId(this.#cluster), kind: 'Cluster', name: this.#cluster });
      this.#clusterWritten = true;
    }
    return batch;
  }

  #common(object: KubeObject, deleted: boolean): PropertiesInput {
    const namespace = object.metadata?.namespace;
    return {
      cluster: this.#cluster,
      ...(namespace ? { namespace } : {}),
      ...(object.metadata?.uid ? { uid: object.metadata.uid } : {}),
      deleted: deleted ? true : null,
      placeholder: null,
    };
  }

  #namespace(batch: GraphBatch, namespace: string | undefined): void {
    if (!namespace || this.#namespaces.has(namespace)) return;
    this.#namespaces.add(namespace);
    const id = namespaceId(this.#cluster, namespace);
    batch.entity({
      id,
      kind: 'Namespace',
      name: namespace,
      properties: { cluster: this.#cluster, placeholder: null },
    });
    batch.edge(id, 'PART_OF', clusterId(this.#cluster));
    batch.entity({ id: clusterId(this.#cluster), kind: 'Cluster', name: this.#cluster });
  }

  async #project(
    key: ResourceKey,
    object: KubeObject,
    batch: GraphBatch,
    deleted: boolean,
    single: boolean,
  ): Promise<void> {
    const name = object.metadata?.name;
    if (!name) return;
    this.#namespace(batch, object.metadata?.namespace);
    const workloadKind = WORKLOAD_KEYS[key];
    if (workloadKind) return this.#workload(workloadKind, object, batch, deleted);
    switch (key) {
      case 'nodes':
        return this.#node(object, batch, deleted);
      case 'namespaces': {
        const id = namespaceId(this.#cluster, name);
        this.#namespaces.add(name);
        batch.entity({
          id,
          kind: 'Namespace',
          name,
          properties: { ...this.#common(object, deleted), phase: text(record(object.status).phase) ?? null },
        });
        batch.edge(id, 'PART_OF', clusterId(this.#cluster));
        batch.entity({ id: clusterId(this.#cluster), kind: 'Cluster', name: this.#cluster });
        return;
      }
      case 'configMaps':
        return this.#configMap(object, batch, deleted);
      case 'services':
        return this.#service(object, batch, deleted, single);
      case 'replicaSets':
        return this.#replicaSet(object, batch, deleted);
      case 'pods':
        return this.#pod(object, batch, deleted);
      case 'hpas':
        return this.#hpa(object, batch, deleted);
      case 'events':
        return this.#event(object, batch, deleted);
      default:
        return;
    }
  }

  async #known(id: string): Promise<Record<string, unknown> | undefined> {
    const entity = await this.#options.graph.get(id);
    return entity?.properties;
  }

  // ---- nodes -------------------------------------------------------------------------------

  async #node(object: KubeObject, batch: GraphBatch, deleted: boolean): Promise<void> {
    const name = object.metadata?.name ?? '';
    const id = nodeId(this.#cluster, name);
    const status = record(object.status);
    const spec = record(object.spec);
    const conditions = list(status.conditions);
    const labels = object.metadata?.labels ?? {};
    const capacity = record(status.capacity);
    const unschedulable = spec.unschedulable === true;
    const ready = conditions.find((condition) => condition.type === 'Ready');
    batch.entity({
      id,
      kind: 'Node',
      name,
      properties: {
        ...this.#common(object, deleted),
        ready: text(ready?.status) ?? 'Unknown',
        unschedulable,
        conditions: conditions.map((condition) => `${String(condition.type)}=${String(condition.status)}`),
        zone: labels['topology.kubernetes.io/zone'] ?? null,
        instanceType: labels['node.kubernetes.io/instance-type'] ?? null,
        kubeletVersion: text(record(status.nodeInfo).kubeletVersion) ?? null,
        cpu: text(capacity.cpu) ?? null,
        memory: text(capacity.memory) ?? null,
      },
    });
    batch.edge(id, 'PART_OF', clusterId(this.#cluster));
    batch.entity({ id: clusterId(this.#cluster), kind: 'Cluster', name: this.#cluster });
    if (deleted) {
      this.#nodes.delete(id);
      return;
    }

    let known = this.#nodes.get(id);
    if (!known) {
      const stored = await this.#known(id);
      if (stored && Array.isArray(stored.conditions)) {
        known = {
          conditions: new Map(
            stored.conditions.map((entry) => String(entry).split('=', 2) as [string, string]),
          ),
          unschedulable: stored.unschedulable === true,
        };
      }
    }
    const version = object.metadata?.resourceVersion ?? String(this.#options.clock.now());
    for (const condition of conditions) {
      const type = text(condition.type);
      const value = text(condition.status) ?? 'Unknown';
      if (!type) continue;
      const previous = known?.conditions.get(type);
      const bad = type === 'Ready' ? value !== 'True' : value === 'True';
      if (previous === value || (previous === undefined && !bad)) continue;
      const since = text(condition.lastTransitionTime);
      const at = (since ? Date.parse(since) : NaN) || batch.observedAt;
      const reason = text(condition.reason);
      batch.event({
        id: graphId('node-event', this.#cluster, name, type, value, since ?? version),
        kind: 'node-event',
        entityId: id,
        at,
        summary: clip(
          `Node ${name} ${type}=${value}${reason ? ` (${reason})` : ''}${previous ? `, was ${previous}` : ''}`,
          512,
        ),
        properties: {
          condition: type,
          status: value,
          ...(previous ? { previous } : {}),
          ...(reason ? { reason } : {}),
          ...(text(condition.message) ? { message: clip(String(condition.message), 512) } : {}),
        },
      });
    }
    if (known && known.unschedulable !== unschedulable) {
      batch.event({
        id: graphId('node-event', this.#cluster, name, 'Unschedulable', String(unschedulable), version),
        kind: 'node-event',
        entityId: id,
        at: batch.observedAt,
        summary: `Node ${name} ${unschedulable ? 'cordoned' : 'uncordoned'}`,
        properties: { condition: 'Unschedulable', status: String(unschedulable) },
      });
    }
    this.#nodes.set(id, {
      conditions: new Map(
        conditions.map((condition) => [text(condition.type) ?? '', text(condition.status) ?? 'Unknown']),
      ),
      unschedulable,
    });
  }

  // ---- ConfigMaps --------------------------------------------------------------------------

  async #configMap(object: KubeObject, batch: GraphBatch, deleted: boolean): Promise<void> {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    const id = k8sId(this.#cluster, namespace, 'ConfigMap', name);
    const info = this.#options.configMap(namespace, name);
    const hash = info?.hash ?? object.metadata?.annotations?.['nightshift.dev/data-sha256'];
    batch.entity({
      id,
      kind: 'ConfigMap',
      name,
      properties: {
        ...this.#common(object, deleted),
        ...(hash ? { contentHash: hash } : {}),
        ...(info ? { keyCount: info.keyCount } : {}),
        immutable: object.immutable === true,
      },
    });
    if (deleted || !hash) return;
    let known = this.#configHashes.get(id);
    if (known === undefined) {
      const stored = await this.#known(id);
      if (typeof stored?.contentHash === 'string') known = stored.contentHash;
    }
    this.#configHashes.set(id, hash);
    if (known === undefined || known === hash) return;
    const changeId = configChangeId(id, hash.slice('sha256:'.length, 'sha256:'.length + 16));
    batch.entity({
      id: changeId,
      kind: 'ConfigChange',
      name: `${name} ${hash.slice(7, 19)}`,
      properties: { cluster: this.#cluster, namespace, configMap: name, fromHash: known, toHash: hash },
    });
    batch.edge(changeId, 'CHANGED', id);
    batch.event({
      id: changeId,
      kind: 'config-change',
      entityId: id,
      at: batch.observedAt,
      summary: `ConfigMap ${namespace}/${name} changed`,
      properties: { configChangeId: changeId, fromHash: known, toHash: hash },
    });
  }

  // ---- Services ----------------------------------------------------------------------------

  #service(object: KubeObject, batch: GraphBatch, deleted: boolean, rederive: boolean): void {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    const id = serviceId(name);
    const spec = record(object.spec);
    const selector = selectorOf(object);
    batch.entity({
      id,
      kind: 'Service',
      name,
      properties: {
        ...this.#common(object, deleted),
        serviceType: text(spec.type) ?? 'ClusterIP',
        clusterIP: text(spec.clusterIP) ?? null,
        selector: Object.entries(selector ?? {}).map(([key, value]) => `${key}=${value}`),
        ports: list(spec.ports).map(
          (port) => `${text(port.name) ?? ''}:${count(port.port) ?? ''}/${text(port.protocol) ?? 'TCP'}`,
        ),
        ...serviceObjectiveProperties(object),
      },
    });
    if (deleted) return;
    for (const { kind, object: workload } of this.#workloadsIn(namespace)) {
      if (!matches(selector, templateOf(workload)?.metadata?.labels)) continue;
      const workloadId = k8sId(this.#cluster, namespace, kind, workload.metadata?.name ?? '');
      this.#workloadStub(batch, workloadId, kind, workload.metadata?.name ?? '', namespace);
      batch.edge(id, 'SELECTS', workloadId);
      batch.edge(workloadId, 'PART_OF', id);
    }
    for (const pod of this.#labelled('pods', namespace, selector)) {
      if (!matches(selector, pod.metadata?.labels)) continue;
      const podId = k8sId(this.#cluster, namespace, 'Pod', pod.metadata?.name ?? '');
      batch.entity({
        id: podId,
        kind: 'Pod',
        name: pod.metadata?.name ?? '',
        properties: { placeholder: null },
      });
      batch.edge(id, 'SELECTS', podId);
    }
    // Workloads whose configuration names this Service depend on it from now on (after a list,
    // the workloads are written next and find it themselves).
    if (!rederive) return;
    for (const { kind, object: workload } of this.#workloadsIn(namespace)) {
      this.#dependencies(kind, workload, batch);
    }
  }

  #workloadsIn(namespace: string): Array<{ kind: string; object: KubeObject }> {
    const found: Array<{ kind: string; object: KubeObject }> = [];
    for (const [key, kind] of Object.entries(WORKLOAD_KEYS) as Array<[ResourceKey, string]>) {
      for (const object of this.#inNamespace(key, namespace)) found.push({ kind, object });
    }
    return found;
  }

  #servicesSelecting(namespace: string, labels: Record<string, string> | undefined): KubeObject[] {
    return this.#inNamespace('services', namespace).filter((service) => matches(selectorOf(service), labels));
  }

  #hasService(namespace: string, name: string): boolean {
    return this.#inNamespace('services', namespace).some((service) => service.metadata?.name === name);
  }

  #workloadStub(batch: GraphBatch, id: string, kind: string, name: string, namespace: string): void {
    batch.entity({
      id,
      kind: 'Workload',
      name,
      properties: { workloadKind: kind, namespace, cluster: this.#cluster, placeholder: null },
    });
  }

  // ---- workloads ---------------------------------------------------------------------------

  async #workload(kind: string, object: KubeObject, batch: GraphBatch, deleted: boolean): Promise<void> {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    const id = k8sId(this.#cluster, namespace, kind, name);
    const status = record(object.status);
    const properties: PropertiesInput = {
      ...this.#common(object, deleted),
      workloadKind: kind,
      app: appLabel(object.metadata?.labels) ?? null,
      generation: count(object.metadata?.generation),
      readyReplicas: count(status.readyReplicas),
      availableReplicas: count(status.availableReplicas),
      updatedReplicas: count(status.updatedReplicas),
      changeCause: object.metadata?.annotations?.[CHANGE_CAUSE] ?? null,
    };
    const current = describeWorkload(object);
    if (kind === 'Job') {
      Object.assign(properties, {
        images: current.images,
        succeeded: count(status.succeeded),
        failed: count(status.failed),
        active: count(status.active),
      });
    } else if (!deleted) {
      let known = this.#workloads.get(id);
      if (!known) {
        const stored = await this.#known(id);
        known = stored ? stateFromProperties(stored) : undefined;
      }
      let next = current;
      if (known) {
        const compared = compareWorkload(kind, known, current);
        next = compared.next;
        for (const change of compared.changes) this.#workloadChange(batch, id, kind, object, change);
      }
      this.#workloads.set(id, next);
      Object.assign(properties, {
        templateHash: next.templateHash,
        codeHash: next.codeHash,
        images: next.images,
        configHash: next.configHash ?? null,
        revision: next.revision,
        replicas: next.replicas ?? null,
        // What the headroom poller forecasts memory against.
        memoryLimitBytes: memoryLimitBytes(templateOf(object)?.spec?.containers) ?? null,
      });
    }
    batch.entity({ id, kind: 'Workload', name, properties });
    if (deleted) return;
    const labels = templateOf(object)?.metadata?.labels;
    for (const service of this.#servicesSelecting(namespace, labels)) {
      const target = serviceId(service.metadata?.name ?? '');
      batch.entity({
        id: target,
        kind: 'Service',
        name: service.metadata?.name ?? '',
        properties: { placeholder: null },
      });
      batch.edge(target, 'SELECTS', id);
      batch.edge(id, 'PART_OF', target);
    }
    for (const configMap of configMapReferences(object)) {
      if (!this.#options.configMap(namespace, configMap)) continue;
      const target = k8sId(this.#cluster, namespace, 'ConfigMap', configMap);
      batch.entity({ id: target, kind: 'ConfigMap', name: configMap, properties: { placeholder: null } });
      batch.edge(id, 'DEPENDS_ON', target);
    }
    this.#dependencies(kind, object, batch);
  }

  #workloadChange(
    batch: GraphBatch,
    id: string,
    kind: string,
    object: KubeObject,
    change: WorkloadChange,
  ): void {
    const name = object.metadata?.name ?? '';
    const namespace = object.metadata?.namespace ?? '';
    if (change.kind === 'scale') {
      batch.event({
        id: graphId('scale', id, object.metadata?.resourceVersion ?? batch.observedAt, change.to),
        kind: 'scale',
        entityId: id,
        at: batch.observedAt,
        summary: `Scaled ${kind} ${namespace}/${name} from ${change.from} to ${change.to} replicas`,
        properties: { fromReplicas: change.from, toReplicas: change.to },
      });
      return;
    }
    const revision = change.to.revision || change.to.templateHash;
    if (change.kind === 'restart') {
      batch.event({
        id: graphId('restart', id, revision),
        kind: 'restart',
        entityId: id,
        at: batch.observedAt,
        summary: `Restarted ${kind} ${namespace}/${name}`,
        properties: { revision },
      });
      return;
    }
    const fromImage = change.from.images[0] ?? '';
    const toImage = change.to.images[0] ?? '';
    const changed = deployChanges(change.from, change.to);
    const deploy = deployId(id, revision);
    const changeCause = object.metadata?.annotations?.[CHANGE_CAUSE];
    const services = this.#servicesSelecting(namespace, templateOf(object)?.metadata?.labels).map(
      (service) => service.metadata?.name ?? '',
    );
    batch.entity({
      id: deploy,
      kind: 'Deploy',
      name: `${name} ${revision}`,
      properties: {
        cluster: this.#cluster,
        namespace,
        workload: name,
        workloadKind: kind,
        ...(services.length === 1 && services[0] ? { service: services[0] } : {}),
        image: toImage,
        revision,
        fromRevision: change.from.revision,
        fromImage,
        toImage,
        fromImages: change.from.images,
        toImages: change.to.images,
        templateHash: change.to.templateHash,
        changed,
        ...(changeCause ? { changeCause: clip(changeCause, 512) } : {}),
      },
    });
    batch.edge(deploy, 'DEPLOYED', id);
    batch.event({
      id: deploy,
      kind: 'deploy',
      entityId: id,
      at: batch.observedAt,
      summary: clip(
        fromImage === toImage
          ? `Deployed ${kind} ${namespace}/${name} revision ${revision} (${toImage}; changed: ${changed.join(', ')})`
          : `Deployed ${kind} ${namespace}/${name}: ${fromImage} → ${toImage} (revision ${revision})`,
        1024,
      ),
      properties: {
        deployId: deploy,
        changed,
        image: toImage,
        fromImage,
        toImage,
        revision,
        fromRevision: change.from.revision,
      },
    });
  }

  /** DEPENDS_ON edges from a workload (and the Services selecting it) to what its configuration names. */
  #dependencies(kind: string, object: KubeObject, batch: GraphBatch): void {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    const id = k8sId(this.#cluster, namespace, kind, name);
    const targets = new Map<
      string,
      { kind: 'Service' | 'ExternalDependency'; name: string; variables: Set<string> }
    >();
    for (const { variable, hosts } of this.#environment(object, namespace)) {
      for (const reference of hosts) {
        const service = resolveService(reference.host, namespace, (ns, candidate) =>
          this.#hasService(ns, candidate),
        );
        let targetId: string;
        let target: { kind: 'Service' | 'ExternalDependency'; name: string };
        if (service) {
          targetId = serviceId(service.name);
          target = { kind: 'Service', name: service.name };
        } else if (reference.explicit && isExternalHost(reference.host)) {
          targetId = externalId(reference.host);
          target = { kind: 'ExternalDependency', name: reference.host };
        } else continue;
        const entry = targets.get(targetId) ?? { ...target, variables: new Set<string>() };
        entry.variables.add(variable);
        targets.set(targetId, entry);
      }
    }
    if (targets.size === 0) return;
    const owners = this.#servicesSelecting(namespace, templateOf(object)?.metadata?.labels).map((service) =>
      serviceId(service.metadata?.name ?? ''),
    );
    for (const [targetId, target] of targets) {
      if (target.kind === 'ExternalDependency') {
        batch.entity({
          id: targetId,
          kind: 'ExternalDependency',
          name: target.name,
          source: ENV_INFERENCE_SOURCE,
          confidence: this.#confidence,
        });
      } else {
        batch.entity({ id: targetId, kind: 'Service', name: target.name, properties: { placeholder: null } });
      }
      const extra = {
        source: ENV_INFERENCE_SOURCE,
        confidence: this.#confidence,
        properties: { variables: [...target.variables].sort() },
      };
      if (owners.includes(targetId)) continue;
      batch.edge(id, 'DEPENDS_ON', targetId, extra);
      for (const owner of owners) batch.edge(owner, 'DEPENDS_ON', targetId, extra);
    }
  }

  /** Variable names and the hosts their values name: literal env, ConfigMap keys and envFrom. */
  #environment(object: KubeObject, namespace: string): Array<{ variable: string; hosts: HostReference[] }> {
    const found: Array<{ variable: string; hosts: HostReference[] }> = [];
    const spec = record(templateOf(object)?.spec);
    for (const container of [...list(spec.initContainers), ...list(spec.containers)]) {
      for (const variable of list(container.env)) {
        const variableName = text(variable.name);
        if (!variableName) continue;
        if (typeof variable.value === 'string') {
          found.push({ variable: variableName, hosts: hostsIn(variableName, variable.value) });
        }
        const reference = record(record(variable.valueFrom).configMapKeyRef);
        const configName = text(reference.name);
        const configKey = text(reference.key);
        if (configName && configKey) {
          const hosts = this.#options
            .configMap(namespace, configName)
            ?.hosts.find((entry) => entry.key === configKey);
          if (hosts) found.push({ variable: variableName, hosts: hosts.hosts });
        }
      }
      for (const source of list(container.envFrom)) {
        const configName = text(record(source.configMapRef).name);
        if (!configName) continue;
        const prefix = text(source.prefix) ?? '';
        for (const entry of this.#options.configMap(namespace, configName)?.hosts ?? []) {
          found.push({ variable: `${prefix}${entry.key}`, hosts: entry.hosts });
        }
      }
    }
    return found.filter((entry) => entry.hosts.length > 0);
  }

  // ---- ReplicaSets, Pods, HPAs, Events -----------------------------------------------------

  #controller(object: KubeObject): { kind: string; name: string } | undefined {
    const owner =
      (object.metadata?.ownerReferences ?? []).find((reference) => reference.controller) ??
      object.metadata?.ownerReferences?.[0];
    return owner?.kind && owner.name ? { kind: owner.kind, name: owner.name } : undefined;
  }

  #replicaSet(object: KubeObject, batch: GraphBatch, deleted: boolean): void {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    const id = k8sId(this.#cluster, namespace, 'ReplicaSet', name);
    const status = record(object.status);
    batch.entity({
      id,
      kind: 'ReplicaSet',
      name,
      properties: {
        ...this.#common(object, deleted),
        replicas: count(record(object.spec).replicas),
        readyReplicas: count(status.readyReplicas),
        revision: object.metadata?.annotations?.[DEPLOYMENT_REVISION] ?? null,
        templateHash: object.metadata?.labels?.[POD_TEMPLATE_HASH] ?? null,
        images: describeWorkload(object).images,
      },
    });
    const owner = this.#controller(object);
    if (owner && WORKLOAD_KINDS.has(owner.kind)) {
      const ownerId = k8sId(this.#cluster, namespace, owner.kind, owner.name);
      this.#workloadStub(batch, ownerId, owner.kind, owner.name, namespace);
      batch.edge(ownerId, 'MANAGES', id);
    }
  }

  #pod(object: KubeObject, batch: GraphBatch, deleted: boolean): void {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    const id = k8sId(this.#cluster, namespace, 'Pod', name);
    const spec = record(object.spec);
    const status = record(object.status);
    const containers = list(status.containerStatuses);
    const waiting = containers
      .map((container) => text(record(record(container.state).waiting).reason))
      .find(Boolean);
    const node = text(spec.nodeName);
    batch.entity({
      id,
      kind: 'Pod',
      name,
      properties: {
        ...this.#common(object, deleted),
        phase: text(status.phase) ?? 'Unknown',
        ready: containers.length > 0 && containers.every((container) => container.ready === true),
        restarts: containers.reduce((sum, container) => sum + (count(container.restartCount) ?? 0), 0),
        node: node ?? null,
        reason: waiting ?? text(status.reason) ?? null,
        images: list(spec.containers).map((container) => text(container.image) ?? ''),
      },
    });
    const owner = this.#controller(object);
    if (owner?.kind === 'ReplicaSet') {
      const ownerId = k8sId(this.#cluster, namespace, 'ReplicaSet', owner.name);
      batch.entity({ id: ownerId, kind: 'ReplicaSet', name: owner.name, properties: { placeholder: null } });
      batch.edge(ownerId, 'MANAGES', id);
    } else if (owner && WORKLOAD_KINDS.has(owner.kind)) {
      const ownerId = k8sId(this.#cluster, namespace, owner.kind, owner.name);
      this.#workloadStub(batch, ownerId, owner.kind, owner.name, namespace);
      batch.edge(ownerId, 'MANAGES', id);
    }
    if (node) {
      const target = nodeId(this.#cluster, node);
      batch.entity({ id: target, kind: 'Node', name: node, properties: { placeholder: null } });
      batch.edge(id, 'RUNS_ON', target);
    }
    if (deleted) return;
    for (const service of this.#servicesSelecting(namespace, object.metadata?.labels)) {
      const target = serviceId(service.metadata?.name ?? '');
      batch.entity({
        id: target,
        kind: 'Service',
        name: service.metadata?.name ?? '',
        properties: { placeholder: null },
      });
      batch.edge(target, 'SELECTS', id);
    }
  }

  #hpa(object: KubeObject, batch: GraphBatch, deleted: boolean): void {
    const namespace = object.metadata?.namespace ?? '';
    const spec = record(object.spec);
    const target = record(spec.scaleTargetRef);
    const kind = text(target.kind);
    const name = text(target.name);
    if (!kind || !name || !WORKLOAD_KINDS.has(kind)) return;
    const status = record(object.status);
    const id = k8sId(this.#cluster, namespace, kind, name);
    this.#workloadStub(batch, id, kind, name, namespace);
    batch.entity({
      id,
      kind: 'Workload',
      properties: deleted
        ? {
            autoscaled: false,
            hpaMinReplicas: null,
            hpaMaxReplicas: null,
            hpaCurrentReplicas: null,
            hpaDesiredReplicas: null,
          }
        : {
            autoscaled: true,
            hpaMinReplicas: count(spec.minReplicas) ?? 1,
            hpaMaxReplicas: count(spec.maxReplicas),
            hpaCurrentReplicas: count(status.currentReplicas),
            hpaDesiredReplicas: count(status.desiredReplicas),
          },
    });
  }

  #event(object: KubeObject, batch: GraphBatch, deleted: boolean): void {
    if (deleted || object.type !== 'Warning') return;
    const involved = record(object.involvedObject ?? object.regarding);
    const kind = text(involved.kind);
    const name = text(involved.name);
    if (!kind || !name) return;
    const namespace = text(involved.namespace) ?? object.metadata?.namespace;
    const entityId = objectEntityId(this.#cluster, kind, namespace, name);
    const stamp =
      text(object.lastTimestamp) ??
      text(object.eventTime) ??
      text(object.firstTimestamp) ??
      object.metadata?.creationTimestamp;
    const at = (stamp ? Date.parse(stamp) : NaN) || batch.observedAt;
    const reason = text(object.reason) ?? 'Warning';
    const message = text(object.message) ?? text(object.note) ?? '';
    batch.event({
      id: graphId(
        'k8s-event',
        this.#cluster,
        object.metadata?.uid ?? `${namespace ?? ''}/${object.metadata?.name ?? ''}`,
      ),
      kind: 'k8s-event',
      entityId,
      at,
      summary: clip(`${reason}: ${message}`, 512),
      properties: {
        reason,
        eventType: 'Warning',
        involvedKind: kind,
        involvedName: name,
        count: count(object.count) ?? count(record(object.series).count) ?? 1,
        ...(namespace ? { namespace } : {}),
      },
    });
  }
}

/** Names of the ConfigMaps a workload's pod template reads (env, envFrom, volumes, projections). */
export function configMapReferences(object: KubeObject): string[] {
  const names = new Set<string>();
  const spec = record(templateOf(object)?.spec);
  for (const container of [...list(spec.initContainers), ...list(spec.containers)]) {
    for (const variable of list(container.env)) {
      const name = text(record(record(variable.valueFrom).configMapKeyRef).name);
      if (name) names.add(name);
    }
    for (const source of list(container.envFrom)) {
      const name = text(record(source.configMapRef).name);
      if (name) names.add(name);
    }
  }
  for (const volume of list(spec.volumes)) {
    const name = text(record(volume.configMap).name);
    if (name) names.add(name);
    for (const source of list(record(volume.projected).sources)) {
      const projected = text(record(source.configMap).name);
      if (projected) names.add(projected);
    }
  }
  return [...names].sort();
}
