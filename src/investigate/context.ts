import { serviceId } from '../graph/ids.js';
import type { Entity } from '../graph/schema.js';
import type { GraphStore, RecentChange } from '../graph/store.js';
import type { Signal } from '../ingest/signal.js';
import { dependenciesOf, parseK8sId, resolveTarget, type TargetInfo } from './targets.js';
import type { IncidentSeverity, InvestigationInput } from './types.js';

/** An entity reached from the symptoms. */
export interface ReachedBrief {
  id: string;
  kind: string;
  name?: string;
  distance: number;
  /** For upstream dependencies: the ids of the focus entities (symptoms, their workloads) that call it directly. */
  via?: string[];
}

/** Kinds of symptom that count as upstream of another symptom that calls them. */
const UPSTREAM_SYMPTOM_KINDS = new Set(['Service', 'Datastore', 'Queue']);

/** Kinds the planners reason about, kept first when a reached list is cut. */
const USEFUL_KINDS = new Set(['Service', 'Datastore', 'Queue', 'ExternalDependency', 'FeatureFlag', 'Node']);

function usefulFirst(list: ReachedBrief[]): void {
  list.sort(
    (a, b) =>
      Number(USEFUL_KINDS.has(b.kind)) - Number(USEFUL_KINDS.has(a.kind)) ||
      a.distance - b.distance ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/** A change near the symptoms. */
export interface ChangeBrief {
  eventId: string;
  kind: string;
  entityId: string;
  at: number;
  summary?: string;
  distance: number;
  properties: Record<string, unknown>;
}

/** A past incident like this one, with what caused it and what fixed it when the graph knows. */
export interface SimilarBrief {
  id: string;
  name?: string;
  score: number;
  category?: string;
  /** Graph id of what its cause blamed (`rootCauseSuspect`). */
  suspect?: string;
  /** It ended `resolved` (not escalated, not still open). */
  resolved?: boolean;
  cause?: string;
  fix?: string;
}

/** A signal, as context (its text is untrusted data). */
export interface SignalBrief {
  source: string;
  kind: string;
  severity: string;
  status?: string;
  summary: string;
  observedAt: number;
  entities: string[];
}

/**
 * What the graph knows around an incident, compressed to a character budget (about 4
 * characters per token). Free text in it (signal summaries, Slack threads, runbooks) came from
 * outside and is data, never instructions.
 */
export interface InvestigationContext {
  incidentId: string;
  severity: IncidentSeverity;
  openedAt: number;
  symptoms: ReachedBrief[];
  signals: SignalBrief[];
  /** Words from signals and findings that hint at a failure kind (OOMKilled, CrashLoopBackOff…). */
  findingHints: string[];
  blastRadius: { downstream: ReachedBrief[]; upstream: ReachedBrief[] };
  /** Nodes the symptoms' pods run on. */
  nodes: ReachedBrief[];
  /**
   * Workloads of other services whose pods appeared on those nodes within the change window
   * (a batch job landing next to the symptoms), newest first, at most five.
   */
  newNeighbors: Array<{ id: string; name: string; kind: string; node: string; since: number }>;
  recentChanges: ChangeBrief[];
  /**
   * Deploys anywhere in the estate within the change window (when its services are resolved, see
   * `services`), newest first, at most 20: a release far from the symptoms may exhaust something
   * they share. Not counted against the budget and not sent to a model.
   */
  estateChanges: ChangeBrief[];
  similarIncidents: SimilarBrief[];
  runbooks: Array<{ id: string; name?: string; url?: string; summary?: string }>;
  slackThreads: Array<{ id: string; name?: string; text?: string }>;
  /** Resolved targets of symptoms, changed entities and dependencies, by graph id. */
  targets: Record<string, TargetInfo>;
  /**
   * Every service, datastore and queue of the estate, resolved, by graph id, when there are at most
   * `ESTATE_SERVICES_LIMIT` (else empty): a log line may name a service the graph has no edge to
   * yet. Not counted against the budget and not sent to a model.
   */
  services: Record<string, TargetInfo>;
  /** Estimated size of the serialized context in tokens, and whether lists were cut to fit. */
  approxTokens: number;
  truncated: boolean;
}

/**
 * Workloads (other than the focus's) with pods on `nodeIds` first seen after `since`: a newcomer
 * competing for the node's CPU or memory.
 */
async function newcomersOn(
  graph: GraphStore,
  nodeIds: readonly string[],
  focusIds: readonly string[],
  since: number,
): Promise<InvestigationContext['newNeighbors']> {
  const focus = new Set(focusIds);
  const found = new Map<string, InvestigationContext['newNeighbors'][number]>();
  for (const nodeId of nodeIds) {
    // Pods already there when the node was first seen are the estate, not newcomers.
    const node = await safe(graph.get(nodeId), null);
    const watchedFrom = Math.max(since, (node?.provenance.firstSeen ?? since) + 5_000);
    const pods = await safe(
      graph.neighbors(nodeId, { kinds: ['RUNS_ON'], direction: 'in', entityKinds: ['Pod'], limit: 200 }),
      [],
    );
    for (const { entity: pod } of pods) {
      if (pod.provenance.firstSeen < watchedFrom || pod.properties.deleted === true) continue;
      const owners = await safe(
        graph.neighbors(pod.id, {
          kinds: ['MANAGES'],
          direction: 'in',
          depth: 2,
          entityKinds: ['Workload'],
          limit: 2,
        }),
        [],
      );
      const owner = owners[0]?.entity;
      if (!owner || focus.has(owner.id) || focus.has(pod.id)) continue;
      const known = found.get(owner.id);
      if (known && known.since <= pod.provenance.firstSeen) continue;
      found.set(owner.id, {
        id: owner.id,
        name: owner.name ?? owner.id,
        kind: parseK8sId(owner.id)?.kind ?? 'Workload',
        node: nodeId,
        since: pod.provenance.firstSeen,
      });
    }
  }
  return [...found.values()].sort((a, b) => b.since - a.since).slice(0, 5);
}

/** Largest estate whose services are all resolved into the context. */
export const ESTATE_SERVICES_LIMIT = 100;

/** Options of `buildContext`. */
export interface ContextOptions {
  /** Token budget of the whole context (≈ chars / 4); default 6,000. */
  maxTokens?: number;
  /** How far back changes count, ms; default 2 h. */
  changeWindowMs?: number;
  /** Now, ms; default `input.openedAt`. */
  now?: number;
}

/** Finding and failure words looked for in signals. */
export const FINDING_WORDS = [
  'OOMKilled',
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'Pending',
  'FailedScheduling',
  'Unschedulable',
  'Evicted',
  'MemoryPressure',
  'MemoryNearLimit',
  'DiskPressure',
  'NotReady',
  'ProbeFailure',
  'Unhealthy',
  'CreateContainerConfigError',
  'x509',
  'certificate',
  'NXDOMAIN',
  'no such host',
  'HPAAtMax',
  'ReplicaMismatch',
] as const;

/** A graph change as the planners read it. */
export function changeBrief(change: RecentChange): ChangeBrief {
  return {
    eventId: change.event.id,
    kind: change.event.kind,
    entityId: change.event.entityId,
    at: change.event.at,
    ...(change.event.summary ? { summary: change.event.summary } : {}),
    distance: change.distance,
    properties: change.event.properties,
  };
}

function brief(entity: Entity, distance: number): ReachedBrief {
  return { id: entity.id, kind: entity.kind, ...(entity.name ? { name: entity.name } : {}), distance };
}

function hintsOf(signals: readonly Signal[]): string[] {
  const hints = new Set<string>();
  for (const signal of signals) {
    const text = `${signal.summary} ${JSON.stringify(signal.attributes)}`.toLowerCase();
    for (const word of FINDING_WORDS) if (text.includes(word.toLowerCase())) hints.add(word);
  }
  return [...hints];
}

/** The kinds of symptom the signals show: their alert names and the finding words (`hints`) in them. */
export function symptomKinds(
  signals: readonly Signal[],
  hints: readonly string[] = hintsOf(signals),
): string[] {
  const kinds = new Set<string>(hints);
  for (const signal of signals) {
    const labels = signal.attributes.labels;
    if (labels && typeof labels === 'object' && !Array.isArray(labels)) {
      const name = (labels as Record<string, unknown>).alertname;
      if (typeof name === 'string') kinds.add(name);
    }
  }
  return [...kinds];
}

/**
 * The signature an incident is looked up by, in the vocabulary learn stores
 * (`patternSignature`): `symptom:<kind>` per kind of symptom, and `suspect:<id>` per entity in
 * focus (the symptoms and the services and workloads they belong to), any of which may be the
 * suspect a past incident was blamed on.
 */
export function signatureOf(
  input: InvestigationInput,
  focusIds: readonly string[],
  hints: readonly string[],
): string[] {
  return [
    ...symptomKinds(input.signals, hints).map((kind) => `symptom:${kind}`),
    ...new Set([...input.symptomEntityIds, ...focusIds].map((id) => `suspect:${id}`)),
  ];
}

async function safe<T>(promise: Promise<T>, fallback: T): Promise<T> {
  try {
    return await promise;
  } catch {
    return fallback;
  }
}

/** Cuts lists, least useful first, until the serialized context fits `maxChars`. */
function compress(context: InvestigationContext, maxChars: number): void {
  const size = (): number =>
    JSON.stringify({ ...context, services: undefined, estateChanges: undefined }).length;
  usefulFirst(context.blastRadius.upstream);
  const cuts: Array<() => boolean> = [
    () => cut(context.slackThreads, 2),
    () => cut(context.blastRadius.downstream, 10),
    () => cut(context.runbooks, 2),
    () => cut(context.signals, 10),
    () => cut(context.similarIncidents, 3),
    () => cut(context.blastRadius.upstream, 10),
    () => cut(context.recentChanges, 10),
    () => cut(context.slackThreads, 0),
    () => cut(context.blastRadius.downstream, 3),
    () => cut(context.signals, 3),
    () => cut(context.runbooks, 0),
    () => cut(context.similarIncidents, 1),
    () => cut(context.blastRadius.upstream, 5),
    () => cut(context.recentChanges, 5),
  ];
  for (const step of cuts) {
    if (size() <= maxChars) break;
    if (step()) context.truncated = true;
  }
  for (const thread of context.slackThreads) if (thread.text) thread.text = thread.text.slice(0, 300);
  for (const signal of context.signals) signal.summary = signal.summary.slice(0, 300);
  context.approxTokens = Math.ceil(size() / 4);
}

function cut<T>(list: T[], keep: number): boolean {
  if (list.length <= keep) return false;
  list.splice(keep);
  return true;
}

/**
 * Gathers the graph's view of an incident: the symptom entities, blast radius both ways,
 * recent changes near the symptoms, similar past incidents with their causes and fixes,
 * runbooks (DOCUMENTED_BY) and Slack threads that mention the symptoms; then compresses it to
 * the token budget. Never throws for missing entities: an unknown id contributes nothing.
 */
export async function buildContext(
  graph: GraphStore,
  input: InvestigationInput,
  options: ContextOptions = {},
): Promise<InvestigationContext> {
  const now = options.now ?? input.openedAt;
  const windowMs = options.changeWindowMs ?? 2 * 3_600_000;
  const symptoms: ReachedBrief[] = [];
  const focus = new Set<string>(input.symptomEntityIds);
  /** Each focus entity's symptom: a symptom is its own; a workload or service is its symptom's. */
  const unitOf = new Map<string, string>(input.symptomEntityIds.map((id) => [id, id]));
  for (const id of input.symptomEntityIds) {
    const entity = await safe(graph.get(id), null);
    if (entity) symptoms.push(brief(entity, 0));
    const related = await safe(
      graph.neighbors(id, {
        kinds: ['PART_OF', 'MANAGES'],
        direction: 'both',
        depth: 2,
        entityKinds: ['Service', 'Workload'],
        limit: 10,
      }),
      [],
    );
    for (const item of related) {
      focus.add(item.entity.id);
      if (!unitOf.has(item.entity.id)) unitOf.set(item.entity.id, id);
    }
  }
  const focusIds = [...focus];
  const symptomIds = new Set(input.symptomEntityIds);

  const downstream = new Map<string, ReachedBrief>();
  const upstream = new Map<string, ReachedBrief>();
  for (const id of focusIds) {
    for (const item of await safe(
      graph.blastRadius(id, { direction: 'downstream', maxDepth: 3, limit: 100 }),
      [],
    ))
      if (!downstream.has(item.entity.id)) downstream.set(item.entity.id, brief(item.entity, item.distance));
    for (const item of await safe(
      graph.blastRadius(id, { direction: 'upstream', maxDepth: 2, limit: 100 }),
      [],
    )) {
      // A symptom another symptom calls directly is upstream of it (frontend fails because the
      // catalog it calls fails, and both alert): the most upstream failing part may be the cause.
      const calledSymptom =
        symptomIds.has(item.entity.id) &&
        item.distance === 1 &&
        UPSTREAM_SYMPTOM_KINDS.has(item.entity.kind) &&
        unitOf.get(id) !== unitOf.get(item.entity.id);
      if (focus.has(item.entity.id) && !calledSymptom) continue;
      const known = upstream.get(item.entity.id) ?? brief(item.entity, item.distance);
      known.distance = Math.min(known.distance, item.distance);
      if (item.distance === 1 && USEFUL_KINDS.has(item.entity.kind))
        known.via = [...new Set([...(known.via ?? []), id])];
      upstream.set(item.entity.id, known);
    }
  }

  const nodes = new Map<string, ReachedBrief>();
  for (const id of focusIds) {
    for (const item of await safe(
      graph.neighbors(id, {
        kinds: ['PART_OF', 'MANAGES', 'RUNS_ON'],
        direction: 'both',
        depth: 4,
        entityKinds: ['Node'],
        limit: 20,
      }),
      [],
    ))
      if (!nodes.has(item.entity.id)) nodes.set(item.entity.id, brief(item.entity, item.distance));
  }

  const newNeighbors = await newcomersOn(graph, [...nodes.keys()].slice(0, 5), focusIds, now - windowMs);

  const changes = focusIds.length
    ? await safe(graph.recentChanges(focusIds, { window: windowMs, now, maxDepth: 2, limit: 50 }), [])
    : [];
  const recentChanges: ChangeBrief[] = changes.map(changeBrief);

  const findingHints = hintsOf(input.signals);
  const similar = await safe(graph.similarIncidents(signatureOf(input, focusIds, findingHints), 6), []);
  const similarIncidents: SimilarBrief[] = [];
  for (const item of similar) {
    if (item.incident.id === input.incidentId) continue;
    const properties = item.incident.properties;
    const linked = await safe(
      graph.neighbors(item.incident.id, { kinds: ['CAUSED_BY', 'RESOLVED_BY'], direction: 'out', limit: 4 }),
      [],
    );
    const cause =
      (typeof properties.cause === 'string' ? properties.cause : undefined) ??
      linked.find((l) => l.path[0]?.kind === 'CAUSED_BY')?.entity.name;
    const fix =
      (typeof properties.fix === 'string' ? properties.fix : undefined) ??
      linked.find((l) => l.path[0]?.kind === 'RESOLVED_BY')?.entity.name;
    const category =
      typeof properties.rootCauseCategory === 'string' ? properties.rootCauseCategory : undefined;
    similarIncidents.push({
      id: item.incident.id,
      ...(item.incident.name ? { name: item.incident.name } : {}),
      score: Number(item.score.toFixed(3)),
      ...(category ? { category } : {}),
      ...(typeof properties.rootCauseSuspect === 'string' ? { suspect: properties.rootCauseSuspect } : {}),
      ...(properties.state === 'resolved' ? { resolved: true } : {}),
      ...(cause ? { cause } : {}),
      ...(fix ? { fix } : {}),
    });
  }

  const runbooks = new Map<string, InvestigationContext['runbooks'][number]>();
  const threads = new Map<string, InvestigationContext['slackThreads'][number]>();
  for (const id of [...focusIds, input.incidentId]) {
    for (const item of await safe(
      graph.neighbors(id, { kinds: ['DOCUMENTED_BY'], direction: 'out', entityKinds: ['Runbook'], limit: 5 }),
      [],
    )) {
      const p = item.entity.properties;
      runbooks.set(item.entity.id, {
        id: item.entity.id,
        ...(item.entity.name ? { name: item.entity.name } : {}),
        ...(typeof p.url === 'string' ? { url: p.url } : {}),
        ...(typeof p.summary === 'string' ? { summary: p.summary.slice(0, 400) } : {}),
      });
    }
    for (const item of await safe(
      graph.neighbors(id, { kinds: ['MENTIONS'], direction: 'in', entityKinds: ['SlackThread'], limit: 5 }),
      [],
    )) {
      const p = item.entity.properties;
      threads.set(item.entity.id, {
        id: item.entity.id,
        ...(item.entity.name ? { name: item.entity.name } : {}),
        ...(typeof p.text === 'string' ? { text: p.text.slice(0, 600) } : {}),
      });
    }
  }

  const targets: Record<string, TargetInfo> = {};
  const toResolve = new Set<string>([
    ...focusIds,
    ...recentChanges.map((change) => change.entityId),
    ...[...upstream.values()].filter((item) => item.distance <= 2).map((item) => item.id),
    ...nodes.keys(),
    ...newNeighbors.map((item) => item.id),
  ]);
  for (const id of toResolve) targets[id] = await resolveTarget(graph, id);
  const services: Record<string, TargetInfo> = {};
  const estate = (
    await Promise.all(
      (['Service', 'Datastore', 'Queue'] as const).map((kind) =>
        safe(graph.find({ kind, limit: ESTATE_SERVICES_LIMIT + 1 }), []),
      ),
    )
  ).flat();
  if (estate.length <= ESTATE_SERVICES_LIMIT)
    for (const entity of estate)
      services[entity.id] = targets[entity.id] ?? (await resolveTarget(graph, entity.id));
  const workloads = [
    ...new Set(Object.values(services).flatMap((target) => (target.workload ? [target.workload.id] : []))),
  ];
  const estateChanges: ChangeBrief[] = workloads.length
    ? (
        await safe(
          graph.recentChanges(workloads, {
            window: windowMs,
            now,
            maxDepth: 0,
            kinds: ['deploy'],
            limit: 20,
          }),
          [],
        )
      ).map(changeBrief)
    : [];
  for (const change of estateChanges)
    if (!targets[change.entityId] && !services[change.entityId])
      services[change.entityId] = await resolveTarget(graph, change.entityId);
  // What each workload deployed in the window depends on: a release may exhaust something it shares.
  const deployed = new Set(
    [...recentChanges, ...estateChanges]
      .filter((change) => change.kind === 'deploy')
      .map((change) => change.entityId),
  );
  for (const id of deployed) {
    const target = targets[id] ?? services[id];
    if (!target) continue;
    const names = await dependenciesOf(graph, target.service ? [id, serviceId(target.service)] : [id]);
    if (names.length) target.dependsOn = names;
  }

  const context: InvestigationContext = {
    incidentId: input.incidentId,
    severity: input.severity,
    openedAt: input.openedAt,
    symptoms: symptoms.length
      ? symptoms
      : input.symptomEntityIds.map((id) => ({ id, kind: 'unknown', distance: 0 })),
    signals: input.signals.map((signal) => ({
      source: signal.source,
      kind: signal.kind,
      severity: signal.severity,
      ...(signal.status ? { status: signal.status } : {}),
      summary: signal.summary,
      observedAt: signal.observedAt,
      entities: signal.entities.map((ref) => ref.id),
    })),
    findingHints,
    blastRadius: {
      downstream: [...downstream.values()].sort((a, b) => a.distance - b.distance),
      upstream: [...upstream.values()],
    },
    nodes: [...nodes.values()].sort((a, b) => a.distance - b.distance || (a.id < b.id ? -1 : 1)),
    newNeighbors,
    recentChanges,
    similarIncidents,
    runbooks: [...runbooks.values()],
    slackThreads: [...threads.values()],
    targets,
    services,
    estateChanges,
    approxTokens: 0,
    truncated: false,
  };
  compress(context, (options.maxTokens ?? 6_000) * 4);
  return context;
}
