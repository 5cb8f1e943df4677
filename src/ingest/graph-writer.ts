import { alertId, configChangeId, deployId, graphId, serviceId } from '../graph/ids.js';
import type { Entity, EntityKind, EventKind, PropertiesInput, PropertyValue } from '../graph/schema.js';
import type { GraphStore } from '../graph/store.js';
import type { Clock } from '../shared/clock.js';
import { uniqueRefs } from './entities.js';
import { GraphBatch } from './kubernetes/graph-batch.js';
import type { EntityRef, Signal } from './signal.js';

/** Confidence of an entity a signal named before any source of truth reported it. */
export const PLACEHOLDER_CONFIDENCE = 0.3;
/** Confidence of a MENTIONS edge found by matching a word of a message to a Service name. */
export const MENTION_CONFIDENCE = 0.7;
/** Provenance of MENTIONS edges found in message text. */
export const MENTION_SOURCE = 'inferred:text';

/** Options of `writeSignal`. */
export interface WriteSignalOptions {
  /** Bounds signal times: an `observedAt` more than a day ahead of it is replaced by `receivedAt`. */
  clock: Clock;
  /** Confidence of placeholders; default 0.3. */
  placeholderConfidence?: number;
  /**
   * Link message threads to the Services their text names (default true); turn off when the Slack
   * mentions poller (`slackMentionWrites`) writes those edges instead.
   */
  mentions?: boolean;
}

/** What `writeSignal` wrote or linked. */
export interface WriteSignalResult {
  /** Every entity the signal is about or created, sorted. */
  entityIds: string[];
}

const DAY_MS = 86_400_000;
const MAX_MENTION_CANDIDATES = 200;
const DEPLOY_EVENTS = new Set(['deployment', 'deployment_status', 'deploy', 'rollout']);
const CONFIG_CHANGES = new Set(['config', 'configmap', 'config-change']);
const FLAG_CHANGES = new Set(['flag', 'flag-flip', 'feature-flag']);
const DEPLOY_ATTRIBUTES = [
  'repository',
  'environment',
  'sha',
  'ref',
  'state',
  'task',
  'creator',
  'image',
  'fromImage',
  'toImage',
  'revision',
  'deploymentId',
] as const;

type Attributes = Signal['attributes'];

function scalar(value: unknown): PropertyValue | undefined {
  if (typeof value === 'string') return value.length > 1024 ? `${value.slice(0, 1023)}…` : value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'boolean') return value;
  return undefined;
}

function attribute(attributes: Attributes, name: string): string | undefined {
  const value = attributes[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function labelList(value: unknown): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => typeof item === 'string')
    .map(([key, item]) => `${key}=${String(item)}`)
    .sort()
    .slice(0, 64);
}

/** What kind of change a `change` signal reports. */
export function changeKindOf(signal: Signal): 'deploy' | 'config' | 'flag' | 'other' {
  const declared = (
    attribute(signal.attributes, 'changeType') ??
    attribute(signal.attributes, 'event') ??
    ''
  ).toLowerCase();
  if (FLAG_CHANGES.has(declared) || signal.entities.some((ref) => ref.kind === 'FeatureFlag')) return 'flag';
  if (CONFIG_CHANGES.has(declared) || signal.entities.some((ref) => ref.kind === 'ConfigMap'))
    return 'config';
  if (DEPLOY_EVENTS.has(declared)) return 'deploy';
  return 'other';
}

/** The Deploy of a deploy `change`: on its first workload, else its repository, else its first entity. */
function deployOf(
  signal: Signal,
  refs: readonly EntityRef[],
): { id: string; anchor: EntityRef; revision: string } | undefined {
  const anchor =
    refs.find((ref) => ref.kind === 'Workload') ?? refs.find((ref) => ref.kind === 'Repo') ?? refs[0];
  if (!anchor) return undefined;
  const revision =
    attribute(signal.attributes, 'revision') ??
    attribute(signal.attributes, 'deploymentId') ??
    attribute(signal.attributes, 'sha') ??
    signal.fingerprint;
  return { id: deployId(anchor.id, revision), anchor, revision };
}

/**
 * What writing `signal` reads and then overwrites, for writing several signals at once: two
 * signals sharing a key must be written one after the other, in order. The keys are the signal's
 * source and fingerprint (an alert's statuses: the later one must stand), the Deploy a deploy
 * change writes (a deployment and its statuses share its one event), the Alert an alert writes
 * (its last status decides whether a status turns it), and the Alert and SlackThread entities it
 * names (a thread keeps its latest message time; a named one may get a placeholder). Everything
 * else a signal writes is its own or a placeholder, safe in any order.
 */
export function writeOrderKeys(signal: Signal): string[] {
  const keys = [`fingerprint:${signal.source}/${signal.fingerprint}`];
  if (signal.kind === 'alert') keys.push(alertId(signal.source, signal.fingerprint));
  if (signal.kind === 'change' && changeKindOf(signal) === 'deploy') {
    const deploy = deployOf(signal, uniqueRefs(signal.entities));
    if (deploy) keys.push(deploy.id);
  }
  for (const ref of signal.entities)
    if (ref.kind === 'Alert' || ref.kind === 'SlackThread') keys.push(ref.id);
  return keys;
}

/**
 * Writes one validated signal to the graph:
 * - an `alert` becomes (or updates) the Alert entity of its source and fingerprint — `status`,
 *   `severity`, `summaryText`, `lastStatusAt`, `fingerprint`, `labels` — with AFFECTS edges to the
 *   entities it names, and an `alert-fired` / `alert-resolved` event; a signal older than the
 *   alert's `lastStatusAt` adds its event but does not turn the status back;
 * - a `change` becomes a Deploy (DEPLOYED → the workloads named, INTRODUCED ← the commits named),
 *   a ConfigChange (CHANGED → the ConfigMaps or workloads named) or a `flag-flip` on the flags
 *   named, each with its event; other changes (pushes, merged pull requests) a `note`;
 * - a `message` becomes its SlackThread with a `note` event and MENTIONS edges to the entities it
 *   names and to existing Services whose names appear in its text;
 * - `event`, `anomaly` and `log_pattern` signals a `note` on each entity named.
 *
 * Named entities not yet in the graph are created as placeholders (`placeholder: true`, low
 * confidence) that a later write by their source of truth upgrades (it sets `placeholder: null`).
 * Entities that exist are never overwritten by a placeholder. Entity times are the signal's own,
 * and event ids come from the signal id, so writing the same signal twice leaves the same state.
 * What the write depends on is read in one `getMany`, and everything is written in one
 * `GraphStore.write`.
 * Text is written as received: signals are redacted before they are queued.
 */
export async function writeSignal(
  graph: GraphStore,
  signal: Signal,
  options: WriteSignalOptions,
): Promise<WriteSignalResult> {
  const observedAt = signal.observedAt > options.clock.now() + DAY_MS ? signal.receivedAt : signal.observedAt;
  const batch = new GraphBatch(signal.source, observedAt);
  const refs = uniqueRefs(signal.entities);
  const eventId = graphId('signal', signal.id);
  const written = new Set<string>();

  const real = new Set<string>();
  let alert: string | undefined;
  let thread: EntityRef | undefined;
  if (signal.kind === 'alert') {
    alert = refs.find((ref) => ref.kind === 'Alert')?.id ?? alertId(signal.source, signal.fingerprint);
    real.add(alert);
  }
  if (signal.kind === 'message') {
    thread = refs.find((ref) => ref.kind === 'SlackThread');
    if (thread) real.add(thread.id);
  }
  const candidates = thread && (options.mentions ?? true) ? mentionCandidates(signal) : [];
  // Everything the write depends on, in one read.
  const known = new Map(
    (await graph.getMany([...refs.map((ref) => ref.id), ...real, ...candidates])).map((entity) => [
      entity.id,
      entity,
    ]),
  );
  addPlaceholders(
    batch,
    refs.filter((ref) => !real.has(ref.id)),
    options.placeholderConfidence ?? PLACEHOLDER_CONFIDENCE,
    written,
    known,
  );
  const others = refs.filter((ref) => !real.has(ref.id));

  switch (signal.kind) {
    case 'alert':
      writeAlert(batch, signal, alert ?? '', others, eventId, observedAt, known);
      written.add(alert ?? '');
      break;
    case 'change':
      writeChange(batch, signal, others, eventId, observedAt, written);
      break;
    case 'message':
      if (thread) {
        writeThread(batch, signal, thread, others, eventId, observedAt, written, {
          known,
          mentioned: mentionedServices(candidates, known),
        });
        written.add(thread.id);
      } else notes(batch, signal, others.slice(0, 1), observedAt);
      break;
    default:
      notes(batch, signal, others, observedAt);
  }
  await batch.write(graph);
  for (const ref of refs) written.add(ref.id);
  return { entityIds: [...written].filter(Boolean).sort() };
}

/** Entities of the graph by id, as read before the write. */
type Known = ReadonlyMap<string, Entity>;

function addPlaceholders(
  batch: GraphBatch,
  refs: readonly EntityRef[],
  confidence: number,
  written: Set<string>,
  known: Known,
): void {
  for (const ref of refs) {
    if (known.has(ref.id)) continue;
    batch.entity({
      id: ref.id,
      kind: ref.kind,
      name: ref.name,
      properties: {
        placeholder: true,
        ...(ref.namespace ? { namespace: ref.namespace } : {}),
        ...(ref.cluster ? { cluster: ref.cluster } : {}),
      },
      confidence,
    });
    written.add(ref.id);
  }
}

function writeAlert(
  batch: GraphBatch,
  signal: Signal,
  id: string,
  affected: readonly EntityRef[],
  eventId: string,
  at: number,
  known: Known,
): void {
  const existing = known.get(id);
  const lastStatusAt = existing?.properties.lastStatusAt;
  const current = typeof lastStatusAt !== 'number' || at >= lastStatusAt;
  const name =
    signal.entities.find((ref) => ref.id === id)?.name ??
    attribute(signal.attributes, 'alertname') ??
    signal.fingerprint.slice(0, 253);
  const properties: PropertiesInput = {
    fingerprint: signal.fingerprint,
    alertSource: signal.source,
    placeholder: null,
  };
  if (current) {
    Object.assign(properties, {
      status: signal.status ?? 'firing',
      severity: signal.severity,
      summaryText: signal.summary,
      lastStatusAt: at,
    });
    const labels = labelList(signal.attributes.labels);
    if (labels.length > 0) properties.labels = labels;
  }
  if (
    signal.status === 'firing' &&
    (typeof existing?.properties.firstFiredAt !== 'number' || at < existing.properties.firstFiredAt)
  ) {
    properties.firstFiredAt = at;
  }
  batch.entity({ id, kind: 'Alert', name, properties, confidence: 1 });
  for (const ref of affected) batch.edge(id, 'AFFECTS', ref.id);
  batch.event({
    id: eventId,
    kind: signal.status === 'resolved' ? 'alert-resolved' : 'alert-fired',
    entityId: id,
    at,
    summary: signal.summary,
    properties: {
      signalId: signal.id,
      fingerprint: signal.fingerprint,
      severity: signal.severity,
      status: signal.status ?? 'firing',
    },
  });
}

function writeChange(
  batch: GraphBatch,
  signal: Signal,
  refs: readonly EntityRef[],
  eventId: string,
  at: number,
  written: Set<string>,
): void {
  const kind = changeKindOf(signal);
  const base = { signalId: signal.id, fingerprint: signal.fingerprint };
  if (kind === 'flag') {
    const flags = refs.filter((ref) => ref.kind === 'FeatureFlag');
    eventsOn(batch, flags.length > 0 ? flags : refs.slice(0, 1), 'flag-flip', signal, eventId, at, {
      ...base,
      ...pick(signal.attributes, ['value', 'previous', 'actor']),
    });
    return;
  }
  if (kind === 'config') {
    const targets = refs.filter((ref) => ref.kind === 'ConfigMap' || ref.kind === 'Workload');
    const anchor = targets[0] ?? refs[0];
    if (!anchor) return;
    const id = configChangeId(anchor.id, signal.id);
    batch.entity({
      id,
      kind: 'ConfigChange',
      name: signal.summary.slice(0, 200),
      properties: { ...base, ...pick(signal.attributes, ['fromHash', 'toHash', 'actor']) },
      confidence: 1,
    });
    written.add(id);
    for (const target of targets) batch.edge(id, 'CHANGED', target.id);
    eventsOn(batch, targets.length > 0 ? targets : [anchor], 'config-change', signal, id, at, {
      ...base,
      configChangeId: id,
    });
    return;
  }
  if (kind === 'deploy') {
    const workloads = refs.filter((ref) => ref.kind === 'Workload');
    const deploy = deployOf(signal, refs);
    if (!deploy) return;
    const { id, anchor, revision } = deploy;
    batch.entity({
      id,
      kind: 'Deploy',
      name: `${anchor.name} ${revision}`.slice(0, 512),
      properties: { ...base, ...pick(signal.attributes, DEPLOY_ATTRIBUTES) },
      confidence: 1,
    });
    written.add(id);
    for (const workload of workloads) batch.edge(id, 'DEPLOYED', workload.id);
    for (const commit of refs.filter((ref) => ref.kind === 'Commit')) batch.edge(commit.id, 'INTRODUCED', id);
    // One deploy event per deployment: its later statuses replace the first.
    eventsOn(batch, workloads.length > 0 ? workloads : [{ ...anchor, id }], 'deploy', signal, id, at, {
      ...base,
      deployId: id,
      ...pick(signal.attributes, ['state', 'environment', 'sha', 'image', 'fromImage', 'toImage']),
    });
    return;
  }
  eventsOn(batch, refs.slice(0, 1), 'note', signal, eventId, at, {
    ...base,
    ...pick(signal.attributes, ['event', 'repository', 'ref', 'conclusion', 'workflow']),
  });
}

function writeThread(
  batch: GraphBatch,
  signal: Signal,
  thread: EntityRef,
  others: readonly EntityRef[],
  eventId: string,
  at: number,
  written: Set<string>,
  read: { known: Known; mentioned: readonly string[] },
): void {
  const existing = read.known.get(thread.id);
  const last = existing?.properties.lastMessageAt;
  batch.entity({
    id: thread.id,
    kind: 'SlackThread',
    name: thread.name,
    properties: {
      placeholder: null,
      ...pick(signal.attributes, ['team', 'channel', 'threadTs']),
      lastMessageAt: typeof last === 'number' && last > at ? last : at,
    },
    confidence: 1,
  });
  for (const ref of others) batch.edge(thread.id, 'MENTIONS', ref.id);
  for (const service of read.mentioned) {
    if (service === thread.id || others.some((ref) => ref.id === service)) continue;
    batch.edge(thread.id, 'MENTIONS', service, { source: MENTION_SOURCE, confidence: MENTION_CONFIDENCE });
    written.add(service);
  }
  batch.event({
    id: eventId,
    kind: 'note',
    entityId: thread.id,
    at,
    summary: signal.summary,
    properties: { signalId: signal.id, ...pick(signal.attributes, ['user', 'ts', 'channel']) },
  });
}

/** The Service ids a message's words could name (at most `MAX_MENTION_CANDIDATES`). */
function mentionCandidates(signal: Signal): string[] {
  const text = `${attribute(signal.attributes, 'text') ?? ''} ${signal.summary}`.toLowerCase();
  const words = new Set(text.match(/[a-z0-9][a-z0-9-]{1,62}[a-z0-9]/g) ?? []);
  return [...words].slice(0, MAX_MENTION_CANDIDATES).map((word) => serviceId(word));
}

/** The candidates that are Services already in the graph (not placeholders), sorted. */
function mentionedServices(candidates: readonly string[], known: Known): string[] {
  const found: string[] = [];
  for (const id of new Set(candidates)) {
    const entity = known.get(id);
    if (entity && entity.kind === 'Service' && entity.properties.placeholder !== true) found.push(entity.id);
  }
  return found.sort();
}

function notes(batch: GraphBatch, signal: Signal, refs: readonly EntityRef[], at: number): void {
  eventsOn(batch, refs, 'note', signal, graphId('signal', signal.id), at, {
    signalId: signal.id,
    signalKind: signal.kind,
    fingerprint: signal.fingerprint,
    severity: signal.severity,
  });
}

/** One event per target; with several targets each gets its own id (`<id>/<target>`). */
function eventsOn(
  batch: GraphBatch,
  targets: ReadonlyArray<{ id: string; kind?: EntityKind }>,
  kind: EventKind,
  signal: Signal,
  id: string,
  at: number,
  properties: Record<string, PropertyValue>,
): void {
  targets.forEach((target, index) =>
    batch.event({
      id: index === 0 ? id : graphId('signal-target', id, target.id),
      kind,
      entityId: target.id,
      at,
      summary: signal.summary,
      properties,
    }),
  );
}

function pick(attributes: Attributes, names: readonly string[]): Record<string, PropertyValue> {
  const picked: Record<string, PropertyValue> = {};
  for (const name of names) {
    const value = scalar(attributes[name]);
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}
