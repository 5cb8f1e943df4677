import { NightshiftError } from '../shared/errors.js';
import type { FlagsApi, FlagValue } from './flags-api.js';
import type { KubeObject, KubePatch, KubernetesApi, WorkloadRef } from './kubernetes-api.js';

/** One write the fake received. */
export interface FakeWrite {
  op: 'patchWorkload' | 'patchScale' | 'deletePod' | 'patchNode' | 'setFlag';
  target: string;
  body?: unknown;
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function notFound(what: string): NightshiftError {
  return new NightshiftError('kubernetes_not_found', `${what} not found`, { data: { status: 404 } });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A merge of `patch` into `target` where null deletes (merge and strategic patches on plain maps). */
function mergeInto(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const result = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (isObject(value) && isObject(result[key])) result[key] = mergeInto(result[key], value);
    else result[key] = clone(value);
  }
  return result;
}

function applyJsonPatch(object: KubeObject, operations: ReadonlyArray<Record<string, unknown>>): KubeObject {
  const result = clone(object) as unknown as Record<string, unknown>;
  for (const operation of operations) {
    const parts = String(operation.path).split('/').slice(1);
    const last = parts.pop();
    let parent: Record<string, unknown> = result;
    for (const part of parts) parent = parent[part] as Record<string, unknown>;
    if (!last || !isObject(parent))
      throw new NightshiftError('kubernetes_request_failed', 'bad JSON patch path');
    if (operation.op === 'remove') delete parent[last];
    else parent[last] = clone(operation.value);
  }
  return result as unknown as KubeObject;
}

/**
 * An in-memory estate behind `KubernetesApi` and `FlagsApi`, for tests: one Deployment
 * (`shop/catalog`, two revisions), one StatefulSet (`shop/db`), one owned pod, one node and
 * one flag. Every write is recorded in `writes`; `failNextWrites(n, retryable)` makes the next
 * writes fail.
 */
export class FakeEstate implements KubernetesApi, FlagsApi {
  readonly writes: FakeWrite[] = [];
  readonly workloads = new Map<string, KubeObject>();
  readonly replicaSets: KubeObject[] = [];
  readonly pods = new Map<string, KubeObject>();
  readonly nodes = new Map<string, KubeObject>();
  readonly flags = new Map<string, FlagValue>();
  #failures: Array<{ retryable: boolean }> = [];

  constructor() {
    const template = (image: string): Record<string, unknown> => ({
      metadata: { labels: { app: 'catalog' } },
      spec: { containers: [{ name: 'app', image }] },
    });
    this.workloads.set('Deployment/shop/catalog', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'catalog',
        namespace: 'shop',
        uid: 'uid-catalog',
        resourceVersion: '10',
        annotations: { 'deployment.kubernetes.io/revision': '2' },
      },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'catalog' } },
        template: template('shop/catalog:2.0.1'),
      },
    });
    for (const [revision, image] of [
      [1, 'shop/catalog:2.0.0'],
      [2, 'shop/catalog:2.0.1'],
    ] as const) {
      this.replicaSets.push({
        kind: 'ReplicaSet',
        metadata: {
          name: `catalog-rev${revision}`,
          namespace: 'shop',
          labels: { app: 'catalog' },
          annotations: { 'deployment.kubernetes.io/revision': String(revision) },
          ownerReferences: [{ kind: 'Deployment', name: 'catalog', uid: 'uid-catalog', controller: true }],
        },
        spec: { template: template(image) },
      });
    }
    this.workloads.set('StatefulSet/shop/db', {
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'shop', uid: 'uid-db' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'db' } }, template: template('postgres:16') },
    });
    this.pods.set('shop/catalog-rev2-abcde', {
      kind: 'Pod',
      metadata: {
        name: 'catalog-rev2-abcde',
        namespace: 'shop',
        uid: 'uid-pod-1',
        ownerReferences: [{ kind: 'ReplicaSet', name: 'catalog-rev2', uid: 'uid-rs2', controller: true }],
      },
      status: { phase: 'Running' },
    });
    this.nodes.set('node-a', { kind: 'Node', metadata: { name: 'node-a', resourceVersion: '5' }, spec: {} });
    this.flags.set('new-pricing', false);
  }

  /** Makes the next `count` writes reject (retryable or not) before changing anything. */
  failNextWrites(count: number, retryable: boolean): void {
    for (let index = 0; index < count; index++) this.#failures.push({ retryable });
  }

  #write(write: FakeWrite): void {
    const failure = this.#failures.shift();
    if (failure) {
      throw new NightshiftError('kubernetes_request_failed', `injected failure of ${write.op}`, {
        data: { status: failure.retryable ? 503 : 422 },
        retryable: failure.retryable,
      });
    }
    this.writes.push(write);
  }

  #workload(ref: WorkloadRef): KubeObject {
    const object = this.workloads.get(`${ref.kind}/${ref.namespace}/${ref.name}`);
    if (!object) throw notFound(`${ref.kind} ${ref.namespace}/${ref.name}`);
    return object;
  }

  readWorkload(ref: WorkloadRef): Promise<KubeObject> {
    return Promise.resolve().then(() => clone(this.#workload(ref)));
  }

  patchWorkload(ref: WorkloadRef, patch: KubePatch): Promise<KubeObject> {
    return Promise.resolve().then(() => {
      const before = this.#workload(ref);
      this.#write({
        op: 'patchWorkload',
        target: `${ref.kind}/${ref.namespace}/${ref.name}`,
        body: patch.body,
      });
      const after =
        patch.type === 'json'
          ? applyJsonPatch(before, patch.body)
          : (mergeInto(before as unknown as Record<string, unknown>, patch.body) as unknown as KubeObject);
      this.workloads.set(`${ref.kind}/${ref.namespace}/${ref.name}`, after);
      return clone(after);
    });
  }

  listReplicaSets(namespace: string, labelSelector: string): Promise<KubeObject[]> {
    const wanted = labelSelector
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('='));
    return Promise.resolve(
      this.replicaSets
        .filter((rs) => rs.metadata.namespace === namespace)
        .filter((rs) => wanted.every(([key, value]) => rs.metadata.labels?.[key ?? ''] === value))
        .map(clone),
    );
  }

  readScale(ref: WorkloadRef): Promise<number> {
    return Promise.resolve().then(() =>
      Number((this.#workload(ref).spec as { replicas?: number }).replicas ?? 0),
    );
  }

  patchScale(ref: WorkloadRef, replicas: number): Promise<number> {
    return Promise.resolve().then(() => {
      const object = this.#workload(ref);
      this.#write({
        op: 'patchScale',
        target: `${ref.kind}/${ref.namespace}/${ref.name}`,
        body: { replicas },
      });
      (object.spec as { replicas: number }).replicas = replicas;
      return replicas;
    });
  }

  readPod(namespace: string, name: string): Promise<KubeObject> {
    return Promise.resolve().then(() => {
      const pod = this.pods.get(`${namespace}/${name}`);
      if (!pod) throw notFound(`pod ${namespace}/${name}`);
      return clone(pod);
    });
  }

  deletePod(namespace: string, name: string): Promise<void> {
    return Promise.resolve().then(() => {
      if (!this.pods.has(`${namespace}/${name}`)) throw notFound(`pod ${namespace}/${name}`);
      this.#write({ op: 'deletePod', target: `${namespace}/${name}` });
      this.pods.delete(`${namespace}/${name}`);
    });
  }

  listPods(namespace: string): Promise<KubeObject[]> {
    return Promise.resolve(
      [...this.pods.values()].filter((pod) => pod.metadata.namespace === namespace).map(clone),
    );
  }

  readNode(name: string): Promise<KubeObject> {
    return Promise.resolve().then(() => {
      const node = this.nodes.get(name);
      if (!node) throw notFound(`node ${name}`);
      return clone(node);
    });
  }

  patchNode(name: string, patch: KubePatch): Promise<KubeObject> {
    return Promise.resolve().then(() => {
      const node = this.nodes.get(name);
      if (!node) throw notFound(`node ${name}`);
      this.#write({ op: 'patchNode', target: name, body: patch.body });
      const after = mergeInto(
        node as unknown as Record<string, unknown>,
        patch.body as Record<string, unknown>,
      );
      this.nodes.set(name, after as unknown as KubeObject);
      return clone(after as unknown as KubeObject);
    });
  }

  read(key: string): Promise<FlagValue> {
    return Promise.resolve().then(() => {
      const value = this.flags.get(key);
      if (value === undefined) throw new NightshiftError('flag_not_found', `flag ${key} not found`);
      return value;
    });
  }

  write(key: string, value: FlagValue): Promise<FlagValue> {
    return Promise.resolve().then(() => {
      if (!this.flags.has(key)) throw new NightshiftError('flag_not_found', `flag ${key} not found`);
      this.#write({ op: 'setFlag', target: key, body: { value } });
      this.flags.set(key, value);
      return value;
    });
  }
}
