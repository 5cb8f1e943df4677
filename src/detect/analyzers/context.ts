import { timeOf } from './api-object.js';
import type { ClusterSnapshot, Job, KubeEvent, Pod, ReplicaSet } from './snapshot.js';

/** Time windows the analyzers use; every field has a default (see `defaultAnalyzerOptions`). */
export interface AnalyzerOptions {
  /** Events last seen longer ago than this are ignored (the API server keeps events about an hour). */
  eventWindowMs: number;
  /** A pod must have been unschedulable this long before it is reported, so autoscaling can react. */
  pendingGraceMs: number;
  /** A running container must have been not ready this long before it is reported. */
  notReadyGraceMs: number;
  /** A deployment must have had fewer available replicas than desired this long. */
  replicaMismatchGraceMs: number;
  /** Past terminations (OOM kills, evictions) older than this are history, not findings. */
  recentTerminationWindowMs: number;
  /** Failed Jobs that failed longer ago than this are not reported. */
  failedJobWindowMs: number;
}

export const defaultAnalyzerOptions: Readonly<AnalyzerOptions> = Object.freeze({
  eventWindowMs: 15 * 60_000,
  pendingGraceMs: 60_000,
  notReadyGraceMs: 2 * 60_000,
  replicaMismatchGraceMs: 5 * 60_000,
  recentTerminationWindowMs: 60 * 60_000,
  failedJobWindowMs: 6 * 60 * 60_000,
});

/**
 * What every analyzer receives: the snapshot, the time of analysis and the options, plus indexes
 * built once per `analyze` call. Read-only; analyzers never mutate it.
 */
export interface AnalysisContext {
  readonly snapshot: ClusterSnapshot;
  readonly now: number;
  readonly options: Readonly<AnalyzerOptions>;
  /** Events about the object seen within `eventWindowMs`, oldest first; events about an older object with the same name (other uid) are left out. */
  eventsFor(kind: string, namespace: string | undefined, name: string, uid?: string): KubeEvent[];
  /** Every recent event, oldest first. */
  recentEvents(): readonly KubeEvent[];
  replicaSet(namespace: string | undefined, name: string): ReplicaSet | undefined;
  job(namespace: string | undefined, name: string): Job | undefined;
  pod(namespace: string | undefined, name: string): Pod | undefined;
}

/** When an event was last seen: series, lastTimestamp, eventTime, firstTimestamp, then creation time. */
export function eventLastSeen(event: KubeEvent): number | undefined {
  return (
    timeOf(event.series?.lastObservedTime) ??
    timeOf(event.lastTimestamp) ??
    timeOf(event.eventTime) ??
    timeOf(event.firstTimestamp) ??
    timeOf(event.metadata?.creationTimestamp)
  );
}

/** How many times an event occurred (a deduplicated event carries a count or a series). */
export function eventCount(event: KubeEvent): number {
  return event.series?.count ?? event.count ?? 1;
}

/** Builds the context for one analysis; options not given take their defaults. */
export function createAnalysisContext(
  snapshot: ClusterSnapshot,
  now: number,
  options: Partial<AnalyzerOptions> = {},
): AnalysisContext {
  const resolved: AnalyzerOptions = { ...defaultAnalyzerOptions };
  for (const [key, value] of Object.entries(options) as Array<[keyof AnalyzerOptions, number | undefined]>) {
    if (value !== undefined) resolved[key] = value;
  }

  const recent = (snapshot.events ?? [])
    .map((event) => ({ event, seen: eventLastSeen(event) }))
    .filter(({ seen }) => seen === undefined || now - seen <= resolved.eventWindowMs)
    .sort((left, right) => (left.seen ?? now) - (right.seen ?? now))
    .map(({ event }) => event);

  const eventsByObject = new Map<string, KubeEvent[]>();
  for (const event of recent) {
    const involved = event.involvedObject;
    if (involved?.kind === undefined || involved.name === undefined) continue;
    const key = objectKey(involved.kind, involved.namespace, involved.name);
    const list = eventsByObject.get(key);
    if (list) list.push(event);
    else eventsByObject.set(key, [event]);
  }

  const replicaSets = indexByName(snapshot.replicaSets);
  const jobs = indexByName(snapshot.jobs);
  const pods = indexByName(snapshot.pods);

  return {
    snapshot,
    now,
    options: Object.freeze(resolved),
    eventsFor(kind, namespace, name, uid) {
      const events = eventsByObject.get(objectKey(kind, namespace, name)) ?? [];
      if (uid === undefined) return [...events];
      return events.filter((event) => {
        const eventUid = event.involvedObject?.uid;
        return eventUid === undefined || eventUid === '' || eventUid === uid;
      });
    },
    recentEvents: () => recent,
    replicaSet: (namespace, name) => replicaSets.get(objectKey('', namespace, name)),
    job: (namespace, name) => jobs.get(objectKey('', namespace, name)),
    pod: (namespace, name) => pods.get(objectKey('', namespace, name)),
  };
}

function objectKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}\u0000${namespace ?? ''}\u0000${name}`;
}

function indexByName<T extends { metadata?: { namespace?: string; name?: string } | undefined }>(
  objects: readonly T[] | undefined,
): Map<string, T> {
  const index = new Map<string, T>();
  for (const object of objects ?? []) {
    const name = object.metadata?.name;
    if (name !== undefined) index.set(objectKey('', object.metadata?.namespace, name), object);
  }
  return index;
}
