import { rfc3339, type KubeObject } from './kube-object.js';
import type { ObjectStore } from './store.js';

/** The object an Event is about. */
export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  fieldPath?: string;
}

/**
 * Records core/v1 Events as the kubelet and controllers do: one Event per (object, reason,
 * message), its `count` and `lastTimestamp` bumped when it repeats.
 */
export class KubeEventRecorder {
  readonly #store: ObjectStore;
  readonly #now: () => number;
  readonly #suffix: () => string;
  readonly #known = new Map<string, string>();

  constructor(store: ObjectStore, now: () => number, suffix: () => string) {
    this.#store = store;
    this.#now = now;
    this.#suffix = suffix;
  }

  /** Records (or repeats) an event; `component` is the reporting source, e.g. `kubelet`. */
  record(
    involved: InvolvedObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component: string,
    host?: string,
  ): void {
    const now = this.#now();
    const namespace = involved.namespace ?? 'default';
    const identity = `${namespace}/${involved.kind}/${involved.name}/${reason}/${message}`;
    const existingName = this.#known.get(identity);
    const existing = existingName ? this.#store.get('/events', namespace, existingName) : undefined;
    if (existing) {
      existing.count = Number(existing.count ?? 1) + 1;
      existing.lastTimestamp = rfc3339(now);
      this.#store.put('/events', existing);
      return;
    }
    const name = `${involved.name}.${this.#suffix()}`;
    this.#known.set(identity, name);
    const event: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace, creationTimestamp: rfc3339(now) },
      involvedObject: { ...involved, namespace: involved.namespace },
      reason,
      message,
      source: { component, ...(host ? { host } : {}) },
      firstTimestamp: rfc3339(now),
      lastTimestamp: rfc3339(now),
      eventTime: null,
      count: 1,
      type,
      reportingComponent: component,
      reportingInstance: host ?? '',
    };
    this.#store.create('/events', event);
  }
}
