import { cloneJson, type KubeObject } from './kube-object.js';
import { resourceId, type ResourceType } from './resources.js';

/** A change to a stored object, as a watch streams it. */
export interface StoreChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: string;
  object: KubeObject;
  resourceVersion: number;
}

function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/**
 * The Kubernetes objects of one world, with one global, monotonically increasing
 * resourceVersion (as etcd's revision). Every create, update and delete stamps the object with
 * the next version and notifies subscribers; the last `historySize` changes are kept so a watch
 * can resume from a resourceVersion. `get` and `list` hand out copies; `peek`, `scan`, the
 * return values of writes and the objects in changes are the stored objects: never mutate them.
 */
export class ObjectStore {
  #version = 1;
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  readonly #history: StoreChange[] = [];
  readonly #historySize: number;
  readonly #listeners = new Set<(change: StoreChange) => void>();

  constructor(options: { historySize?: number } = {}) {
    this.#historySize = options.historySize ?? 20_000;
  }

  /** The latest resourceVersion. */
  resourceVersion(): number {
    return this.#version;
  }

  #table(resource: string): Map<string, KubeObject> {
    let table = this.#objects.get(resource);
    if (!table) {
      table = new Map();
      this.#objects.set(resource, table);
    }
    return table;
  }

  get(type: ResourceType | string, namespace: string | undefined, name: string): KubeObject | undefined {
    const object = this.#table(typeof type === 'string' ? type : resourceId(type)).get(key(namespace, name));
    return object ? cloneJson(object) : undefined;
  }

  /** The stored object itself, read-only and without a copy; for hot read paths. Never mutate it. */
  peek(
    type: ResourceType | string,
    namespace: string | undefined,
    name: string,
  ): Readonly<KubeObject> | undefined {
    return this.#table(typeof type === 'string' ? type : resourceId(type)).get(key(namespace, name));
  }

  /** The stored objects themselves (unsorted, no copies); for hot read paths. Never mutate them. */
  scan(type: ResourceType | string, namespace?: string): ReadonlyArray<Readonly<KubeObject>> {
    const objects = [...this.#table(typeof type === 'string' ? type : resourceId(type)).values()];
    return namespace === undefined
      ? objects
      : objects.filter((object) => object.metadata.namespace === namespace);
  }

  /** Objects of a type, in one namespace or all, sorted by namespace then name. */
  list(type: ResourceType | string, namespace?: string): KubeObject[] {
    const objects = [...this.#table(typeof type === 'string' ? type : resourceId(type)).values()].filter(
      (object) => namespace === undefined || object.metadata.namespace === namespace,
    );
    objects.sort(
      (a, b) =>
        (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
    return objects.map((object) => cloneJson(object));
  }

  /** Stores a copy of a new object; returns the stored object (read it, never mutate it). */
  create(type: ResourceType | string, object: KubeObject): KubeObject {
    return this.#write(typeof type === 'string' ? type : resourceId(type), object, 'ADDED');
  }

  /** Stores a copy replacing an existing object, or creating it; returns the stored object (never mutate it). */
  put(type: ResourceType | string, object: KubeObject): KubeObject {
    const resource = typeof type === 'string' ? type : resourceId(type);
    const exists = this.#table(resource).has(key(object.metadata.namespace, object.metadata.name));
    return this.#write(resource, object, exists ? 'MODIFIED' : 'ADDED');
  }

  /** Removes an object; returns it (with a new resourceVersion) or undefined. */
  delete(type: ResourceType | string, namespace: string | undefined, name: string): KubeObject | undefined {
    const resource = typeof type === 'string' ? type : resourceId(type);
    const table = this.#table(resource);
    const object = table.get(key(namespace, name));
    if (!object) return undefined;
    table.delete(key(namespace, name));
    const deleted = cloneJson(object);
    deleted.metadata.resourceVersion = String(++this.#version);
    this.#emit({ type: 'DELETED', resource, object: deleted, resourceVersion: this.#version });
    return cloneJson(deleted);
  }

  #write(resource: string, object: KubeObject, type: 'ADDED' | 'MODIFIED'): KubeObject {
    const stored = cloneJson(object);
    stored.metadata.resourceVersion = String(++this.#version);
    this.#table(resource).set(key(stored.metadata.namespace, stored.metadata.name), stored);
    this.#emit({ type, resource, object: stored, resourceVersion: this.#version });
    return stored;
  }

  #emit(change: StoreChange): void {
    this.#history.push(change);
    if (this.#history.length > this.#historySize)
      this.#history.splice(0, this.#history.length - this.#historySize);
    for (const listener of this.#listeners) listener(change);
  }

  /**
   * Changes of `resource` after `resourceVersion`, oldest first; `undefined` when the history
   * no longer reaches back that far (the watch must answer 410 Gone).
   */
  changesSince(resource: string, resourceVersion: number): StoreChange[] | undefined {
    const oldest = this.#history[0];
    if (resourceVersion < this.#version && oldest && oldest.resourceVersion > resourceVersion + 1)
      return undefined;
    return this.#history.filter(
      (change) => change.resource === resource && change.resourceVersion > resourceVersion,
    );
  }

  /** Subscribes to every change; returns the unsubscribe function. */
  subscribe(listener: (change: StoreChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
