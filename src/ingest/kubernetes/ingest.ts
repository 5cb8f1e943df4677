import { setMaxListeners } from 'node:events';
import type * as k8s from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../../detect/analyzers/snapshot.js';
import type { GraphStore } from '../../graph/store.js';
import { sleep, type Clock } from '../../shared/clock.js';
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { stripConfigMap, type StrippedConfigMap } from './config-maps.js';
import { createKubeClient, loadKubeConfig, type KubeClient } from './kube-client.js';
import { GraphProjector } from './projector.js';
import { Reflector, type ReflectorChange, type ReflectorStats } from './reflector.js';
import { WATCHED_RESOURCES, objectKey, type KubeObject, type ResourceKey } from './resources.js';

/** Default wall ms between full lists of every resource. */
export const DEFAULT_RESYNC_MS = 10 * 60_000;

/** How to start the Kubernetes ingest. */
export interface KubernetesIngestOptions {
  /** A kubeconfig file; without it and `kubeConfig`, the default chain (KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeconfigPath?: string;
  /** A loaded client configuration (wins over `kubeconfigPath`). */
  kubeConfig?: k8s.KubeConfig;
  /** Kubeconfig context; default its current context. */
  context?: string;
  /** Use the pod's service account (`NIGHTSHIFT_KUBERNETES_MODE=in-cluster`). */
  inCluster?: boolean;
  /** The cluster's name in graph ids (`k8s:<cluster>/…`); must match what alerts call it. */
  cluster: string;
  graph: GraphStore;
  logger: Logger;
  clock: Clock;
  /** Wall ms between full relists (which also refresh every object's `lastSeen`); default 10 min. */
  resyncMs?: number;
  /** Pods and ReplicaSets not seen for this long are expired from the graph; default 2 × resyncMs + 1 min. */
  podTtlMs?: number;
  /** Wall ms between expiry runs; default resyncMs; 0 leaves expiry to the caller (`expireEphemeral`). */
  expireEveryMs?: number;
  /** Server-side timeout of each watch request in seconds; default random 300–600. */
  watchTimeoutSeconds?: number;
  /** Confidence of dependencies inferred from configuration; default 0.6. */
  dependencyConfidence?: number;
  /** Called with the current objects after changes were handled, at most once per `snapshotDebounceMs`. */
  onSnapshot?: (snapshot: ClusterSnapshot) => void;
  snapshotDebounceMs?: number;
  /** Stops everything, as `stop()` does. */
  signal?: AbortSignal;
  /**
   * Asked once before each graph write batch (a change, a resource's list, an expiry run), e.g.
   * `acceptFencedWrite` with the leader's token. False means a newer leader writes the graph now:
   * the batch is dropped and the ingest stops. A failure to answer drops the batch as a failed
   * write (the next relist brings it back); the work of a term that cannot be proven current is
   * refused.
   */
  fence?: () => Promise<boolean>;
  /** Replaces the client built from the kubeconfig (tests). */
  client?: KubeClient;
  /** First and longest wait between failed list/watch attempts; default 500 ms and 30 s. */
  backoffMs?: { initial: number; max: number };
}

/** Counters of the ingest. */
export interface KubernetesIngestStats {
  ready: boolean;
  resources: Record<ResourceKey, ReflectorStats>;
  graph: {
    writes: number;
    entities: number;
    relationships: number;
    events: number;
    failures: number;
    expired: number;
  };
}

/** A running Kubernetes ingest. */
export interface KubernetesIngest {
  /**
   * Resolves once every resource was listed (or found not listable: forbidden or absent) and the
   * whole first picture is in the graph. Rejects only when stopped before that.
   */
  ready: Promise<void>;
  /** Stops the watches, waits for queued changes to be written; safe to call twice. */
  stop(): Promise<void>;
  stats(): KubernetesIngestStats;
  /** The current objects, in the analyzers' input shape; a resource not listed yet is absent. */
  snapshot(): ClusterSnapshot;
  /** Expires Pods and ReplicaSets not seen within `podTtlMs`; returns how many were removed. */
  expireEphemeral(): Promise<number>;
  /** Resolves once every change received so far has been written (for tests and shutdown). */
  drained(): Promise<void>;
}

const SNAPSHOT_KEYS: ReadonlyArray<[keyof ClusterSnapshot, ResourceKey]> = [
  ['pods', 'pods'],
  ['nodes', 'nodes'],
  ['events', 'events'],
  ['deployments', 'deployments'],
  ['replicaSets', 'replicaSets'],
  ['jobs', 'jobs'],
  ['hpas', 'hpas'],
  ['services', 'services'],
  ['configMaps', 'configMaps'],
];

/** Why `ready` rejects when a newer leader claimed the fence before the first sync was written. */
export class FencedOutError extends Error {
  constructor() {
    super('a newer leader writes the graph');
    this.name = 'FencedOutError';
  }
}

/**
 * Watches a cluster (Deployments, StatefulSets, DaemonSets, ReplicaSets, Pods, Jobs, Nodes,
 * Namespaces, Services, Events, HPAs and ConfigMaps, never Secrets) and keeps the graph in step:
 * topology, dependencies inferred from configuration, and change events. ConfigMap values are
 * dropped as they arrive; only a hash and the host names they mention are kept in memory.
 */
export function startKubernetesIngest(options: KubernetesIngestOptions): KubernetesIngest {
  const logger = options.logger.child({ component: 'ingest-kubernetes', cluster: options.cluster });
  const resyncMs = options.resyncMs ?? DEFAULT_RESYNC_MS;
  const podTtlMs = options.podTtlMs ?? 2 * resyncMs + 60_000;
  const controller = new AbortController();
  // One listener per reflector (its watch and its back-off wait).
  setMaxListeners(4 * WATCHED_RESOURCES.length + 10, controller.signal);
  const onAbort = (): void => controller.abort();
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) controller.abort();
  const client = options.client ?? createKubeClient(loadKubeConfig(options));

  const configMaps = new Map<string, StrippedConfigMap>();
  const reflectors = new Map<ResourceKey, Reflector>();
  const graphStats = { writes: 0, entities: 0, relationships: 0, events: 0, failures: 0, expired: 0 };
  let isReady = false;

  const projector = new GraphProjector({
    cluster: options.cluster,
    graph: options.graph,
    clock: options.clock,
    logger,
    objects: (key) => reflectors.get(key)?.objects() ?? [],
    configMap: (namespace, name) => configMaps.get(`${namespace}/${name}`),
    ...(options.dependencyConfidence !== undefined
      ? { dependencyConfidence: options.dependencyConfidence }
      : {}),
  });

  let markInitialDone!: () => void;
  const initialDone = new Promise<void>((resolve) => (markInitialDone = resolve));

  const count = (written: { entities: number; relationships: number; events: number }): void => {
    graphStats.writes++;
    graphStats.entities += written.entities;
    graphStats.relationships += written.relationships;
    graphStats.events += written.events;
  };

  let snapshotTimer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      controller.abort();
      options.signal?.removeEventListener('abort', onAbort);
      clearInterval(expireTimer);
      clearTimeout(snapshotTimer);
      markInitialDone();
      await Promise.all([...reflectors.values()].map((reflector) => reflector.stopped()));
    })();
    return stopping;
  };
  /** Whether the next write batch may go ahead (`fence`); stops the ingest when it may not. */
  const fenceAllows = async (): Promise<boolean> => {
    if (controller.signal.aborted) return false;
    if (!options.fence || (await options.fence())) return true;
    logger.warn('a newer leader writes the graph; stopping the Kubernetes ingest');
    void stop();
    return false;
  };
  const snapshot = (): ClusterSnapshot => {
    const result: Record<string, readonly KubeObject[]> = {};
    for (const [field, key] of SNAPSHOT_KEYS) {
      const reflector = reflectors.get(key);
      if (reflector?.stats().synced) result[field] = reflector.objects();
    }
    return result;
  };
  const scheduleSnapshot = (): void => {
    if (!options.onSnapshot || snapshotTimer || controller.signal.aborted) return;
    snapshotTimer = setTimeout(() => {
      snapshotTimer = undefined;
      try {
        options.onSnapshot?.(snapshot());
      } catch (error) {
        logger.warn({ err: error }, `the snapshot callback failed: ${describeError(error)}`);
      }
    }, options.snapshotDebounceMs ?? 1_000);
    snapshotTimer.unref();
  };

  const handle = async (key: ResourceKey, change: ReflectorChange): Promise<void> => {
    if (change.type === 'SYNCED' && change.reason === 'initial') {
      await initialDone;
      return;
    }
    await initialDone;
    if (controller.signal.aborted) return;
    try {
      if (!(await fenceAllows())) return;
      projector.invalidate(key);
      if (change.type === 'SYNCED') {
        if (key === 'configMaps') {
          for (const object of change.deleted) configMaps.delete(objectKey(object));
        }
        count(await projector.projectAll(key, change.objects, change.deleted));
      } else {
        if (change.type === 'DELETED' && key === 'configMaps') configMaps.delete(objectKey(change.object));
        count(await projector.project(key, change.object, change.type === 'DELETED'));
      }
    } catch (error) {
      graphStats.failures++;
      throw error;
    }
    scheduleSnapshot();
  };

  for (const resource of WATCHED_RESOURCES) {
    const reflector = new Reflector({
      resource,
      client,
      handle: (change) => handle(resource.key, change),
      ...(resource.key === 'configMaps'
        ? {
            transform: (object: KubeObject) => {
              const stripped = stripConfigMap(object);
              configMaps.set(objectKey(object), stripped);
              return stripped.object;
            },
          }
        : {}),
      logger,
      resyncMs,
      ...(options.watchTimeoutSeconds !== undefined
        ? { watchTimeoutSeconds: options.watchTimeoutSeconds }
        : {}),
      ...(options.backoffMs ? { backoffMs: options.backoffMs } : {}),
      signal: controller.signal,
    });
    reflectors.set(resource.key, reflector);
  }

  const initialSync = async (): Promise<void> => {
    const listed = await Promise.all([...reflectors.values()].map((reflector) => reflector.firstList));
    if (controller.signal.aborted) throw new Error('the Kubernetes ingest stopped before its first sync');
    const missing = WATCHED_RESOURCES.filter((_, index) => !listed[index]).map((resource) => resource.kind);
    if (missing.length > 0) logger.warn({ missing }, `not watching ${missing.join(', ')}: cannot list them`);
    let failures = 0;
    for (;;) {
      try {
        for (const resource of WATCHED_RESOURCES) {
          const reflector = reflectors.get(resource.key);
          if (!reflector?.stats().synced) continue;
          if (!(await fenceAllows())) throw new FencedOutError();
          projector.invalidate(resource.key);
          count(await projector.projectAll(resource.key, reflector.objects(), []));
        }
        break;
      } catch (error) {
        graphStats.failures++;
        failures++;
        if (controller.signal.aborted) throw error;
        logger.warn(
          { err: error, failures },
          `writing the first Kubernetes picture failed: ${describeError(error)}`,
        );
        await sleep(Math.min(30_000, 500 * 2 ** failures), controller.signal).catch(() => undefined);
      }
    }
    isReady = true;
    markInitialDone();
    scheduleSnapshot();
    logger.info(
      { objects: [...reflectors.values()].reduce((sum, reflector) => sum + reflector.objects().length, 0) },
      'Kubernetes ingest ready',
    );
  };

  for (const reflector of reflectors.values()) reflector.start();
  const ready = initialSync();
  ready.catch(() => undefined);

  const expireEphemeral = async (): Promise<number> => {
    if (!(await fenceAllows())) return 0;
    const olderThan = options.clock.now() - podTtlMs;
    const removed =
      (await options.graph.expire('Pod', olderThan)) + (await options.graph.expire('ReplicaSet', olderThan));
    graphStats.expired += removed;
    if (removed > 0) logger.debug({ removed }, 'expired pods and replica sets');
    return removed;
  };
  const expireEvery = options.expireEveryMs ?? resyncMs;
  const expireTimer =
    expireEvery > 0
      ? setInterval(() => {
          if (!isReady) return;
          expireEphemeral().catch((error: unknown) =>
            logger.warn({ err: error }, `expiring pods failed: ${describeError(error)}`),
          );
        }, expireEvery)
      : undefined;
  expireTimer?.unref();

  return {
    ready,
    stop,
    stats() {
      const resources = {} as Record<ResourceKey, ReflectorStats>;
      for (const [key, reflector] of reflectors) resources[key] = reflector.stats();
      return { ready: isReady, resources, graph: { ...graphStats } };
    },
    snapshot,
    expireEphemeral,
    async drained() {
      await ready;
      await Promise.all([...reflectors.values()].map((reflector) => reflector.drained()));
    },
  };
}
