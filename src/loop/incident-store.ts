import { incidentId as graphIncidentId } from '../graph/ids.js';
import type { Entity, EntityInput, EventInput, GraphEvent, RelationshipInput } from '../graph/schema.js';
import type { GraphStore } from '../graph/store.js';
import { SEVERITIES, type Severity, type Signal } from '../ingest/signal.js';
import type { Clock } from '../shared/clock.js';
import { ValidationError } from '../shared/errors.js';
import { stableHash } from '../shared/ids.js';
import {
  incidentStates,
  transition as lifecycleTransition,
  type Actor,
  type IncidentState,
  type Transition,
} from './incident-lifecycle.js';
import { localMutex, type Mutex } from './mutex.js';
import type { Incident, RootCause, TimelineNote } from './pipeline-types.js';

/** Most signal ids, fingerprints and symptom entities one incident keeps (graph property limits). */
export const INCIDENT_LIMITS = {
  signalIds: 50,
  fingerprints: 200,
  entityIds: 50,
  reportChars: 12_000,
} as const;

const SOURCE = 'nightshift-loop';

/** Which incidents `list` returns. */
export interface IncidentQuery {
  states?: readonly IncidentState[];
  /** Newest first; default 100. */
  limit?: number;
}

/** What `open` needs: the first signal and what it touches. */
export interface OpenIncident {
  key: string;
  signal: Signal;
  severity: Severity;
  /** Symptom entities (they must exist in the graph to be linked). */
  entityIds: readonly string[];
  /** The signal's Alert entity, when the graph writer made one. */
  alertId?: string;
  by: Actor;
}

/** A signal joining an incident: the entities it touches, its Alert entity, and who attaches it. */
export interface AttachedSignal {
  signal: Signal;
  entityIds: readonly string[];
  alertId?: string;
  by: Actor;
}

/** The result of a state change: `changed` is false when the incident was already there or moved on. */
export interface TransitionResult {
  incident: Incident;
  changed: boolean;
}

/** The digest a fingerprint is kept under in the graph (fingerprints may be long). */
export function fingerprintDigest(fingerprint: string): string {
  return stableHash(fingerprint).slice(0, 16);
}

/** The graph id of an incident key (`incident:<key>`); a graph id is returned as is. */
export function incidentGraphId(keyOrId: string): string {
  return keyOrId.startsWith('incident:') ? keyOrId : graphIncidentId(keyOrId);
}

/** The incident key of an incident entity. */
function keyOf(entity: Entity): string {
  return String(entity.properties.key ?? entity.id.slice('incident:'.length));
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** A number per entry of `like`; 0 where `value` has none (incidents written before it was kept). */
function numbersLike(value: unknown, like: readonly unknown[]): number[] {
  const given = Array.isArray(value) ? value : [];
  return like.map((_, index) => (typeof given[index] === 'number' ? given[index] : 0));
}

function number(value: unknown, fallback = 0): number {
  return typeof value === 'number' ? value : fallback;
}

function isState(value: unknown): value is IncidentState {
  return typeof value === 'string' && (incidentStates as readonly string[]).includes(value);
}

function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value);
}

function append(list: readonly string[], items: readonly string[], cap: number): string[] {
  const result = [...list];
  for (const item of items) if (!result.includes(item) && result.length < cap) result.push(item);
  return result;
}

/**
 * Incidents, persisted in the graph: an `Incident` entity (state, severity, contributing signals
 * by fingerprint digest, symptom entities) with `TRIGGERED_BY` edges to its alerts and `AFFECTS`
 * edges to the entities its signals touch. The timeline (state transitions and notes, each with
 * who or what caused it) is a numbered series of `note` events on the incident; the entity's
 * `timelineSeq` says how many count. Each change is one graph write (`GraphStore.write`) of the
 * entity with its new events and links, so the graph holds all of a change or none of it.
 *
 * Reads need only the graph (the CLI and the MCP server list incidents with a store built without
 * a mutex). Writes to one incident run under `mutex` (`incident:<key>`): pass a Redis mutex when
 * several replicas write. Every write is safe to repeat.
 */
export class IncidentStore {
  readonly #graph: GraphStore;
  readonly #clock: Clock;
  readonly #mutex: Mutex;

  constructor(options: { graph: GraphStore; clock: Clock; mutex?: Mutex }) {
    this.#graph = options.graph;
    this.#clock = options.clock;
    this.#mutex = options.mutex ?? localMutex();
  }

  /** The incident by key (`inc_…`) or graph id (`incident:inc_…`), or null. */
  async get(keyOrId: string): Promise<Incident | null> {
    return (await this.#load(incidentGraphId(keyOrId)))?.incident ?? null;
  }

  /**
   * The keys among `keys` whose incident has resolved, from one read of the incident entities
   * (grouped on Neo4j) without their timelines. Unknown keys are left out.
   */
  async resolvedAmong(keys: readonly string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    const entities = await this.#graph.getMany(keys.map(incidentGraphId));
    return entities
      .filter((entity) => entity.kind === 'Incident' && entity.properties.state === 'resolved')
      .map(keyOf);
  }

  /** Incidents, newest opened first, optionally only in some states. */
  async list(query: IncidentQuery = {}): Promise<Incident[]> {
    const limit = query.limit ?? 100;
    const entities = query.states
      ? (
          await Promise.all(
            query.states.map((state) =>
              this.#graph.find({ kind: 'Incident', where: { state }, limit: 10_000 }),
            ),
          )
        ).flat()
      : await this.#graph.find({ kind: 'Incident', limit: 10_000 });
    entities.sort(
      (a, b) => number(b.properties.openedAt) - number(a.properties.openedAt) || (a.id < b.id ? -1 : 1),
    );
    const chosen = entities.slice(0, limit);
    return Promise.all(
      chosen.map(async (entity) => this.#read(entity, await this.#graph.events(entity.id, { limit: 5_000 }))),
    );
  }

  /**
   * Opens the incident `input.key` with `input.signal`, or finds it (`created: false`). `joining`
   * signals are attached in the same lock and write (see `attachSignals`): after the opening one
   * when the incident is new; when it exists, the opening signal is attached before them, unless
   * the incident is resolved, which is returned unchanged.
   */
  open(
    input: OpenIncident,
    joining: readonly AttachedSignal[] = [],
  ): Promise<{ incident: Incident; created: boolean }> {
    return this.#mutex.run(`incident:${input.key}`, async () => {
      const id = graphIncidentId(input.key);
      const found = await this.#load(id);
      if (found) {
        const { incident, entity, events } = found;
        if (incident.state === 'resolved') return { incident, created: false };
        const first: AttachedSignal = {
          signal: input.signal,
          entityIds: input.entityIds,
          ...(input.alertId ? { alertId: input.alertId } : {}),
          by: input.by,
        };
        return {
          incident: await this.#attach(incident, entity, events, [first, ...joining]),
          created: false,
        };
      }
      const now = this.#clock.now();
      const { signal } = input;
      const symptoms = input.entityIds.filter((entityId) => entityId !== input.alertId);
      const opening = {
        fingerprints: [fingerprintDigest(signal.fingerprint)],
        fingerprintStatus: [signal.status ?? 'firing'],
        fingerprintStatusAt: [signal.observedAt],
        signalsUntracked: false,
        signalIds: [signal.id],
        entityIds: symptoms.slice(0, INCIDENT_LIMITS.entityIds),
      };
      // The joining signals go into the same write: their notes follow the opening one.
      const joined = joinSignals(opening, joining, now);
      const timeline = timelineEvents(id, 0, [
        { kind: 'note', at: now, by: input.by, what: 'opened', reason: signal.summary },
        ...joined.notes.map((note) => ({ kind: 'note' as const, ...note })),
      ]);
      const entity: EntityInput = {
        id,
        kind: 'Incident',
        name: signal.summary.slice(0, 512),
        source: SOURCE,
        observedAt: now,
        properties: {
          key: input.key,
          state: 'open',
          severity: input.severity,
          openedAt: signal.observedAt,
          firstReceivedAt: signal.receivedAt,
          updatedAt: now,
          round: 0,
          timelineSeq: 1 + joined.notes.length,
          ...joined.properties,
          signature: [signal.source, signal.kind, ...signal.entities.map((ref) => ref.name)],
        },
      };
      // The entity, its timeline and its links in one write: whole or not at all.
      await this.#graph.write({
        entities: [entity],
        relationships: await this.#links(
          id,
          [...new Set([...symptoms, ...joined.symptoms])],
          [...new Set([...(input.alertId ? [input.alertId] : []), ...joined.alerts])],
        ),
        events: timeline,
      });
      // Written under the lock, so what was written is what a read would return: no re-read.
      const written: Entity = {
        id,
        kind: 'Incident',
        name: entity.name ?? '',
        properties: entity.properties as Entity['properties'],
        provenance: { source: SOURCE, confidence: 1, firstSeen: now, lastSeen: now },
      };
      return { incident: this.#read(written, timeline.map(storedEvent)), created: true };
    });
  }

  /**
   * Moves the incident to `to`, recording who and why. Already in `to`: nothing changes. When
   * `from` is given and the incident is in none of those states (a stale or replayed job), nothing
   * changes either; nor when `when` is given and says no of the incident as read under its lock
   * (a condition another writer may have changed since the caller read it). A move the lifecycle
   * forbids throws `ValidationError`.
   */
  transition(
    keyOrId: string,
    to: IncidentState,
    by: Actor,
    reason: string,
    options: { from?: readonly IncidentState[]; when?: (incident: Incident) => boolean } = {},
  ): Promise<TransitionResult> {
    return this.#update(keyOrId, async (incident, entity, events) => {
      if (incident.state === to) return { incident, changed: false };
      if (options.from && !options.from.includes(incident.state)) return { incident, changed: false };
      if (options.when && !options.when(incident)) return { incident, changed: false };
      const now = this.#clock.now();
      const result = lifecycleTransition(incident.state, to, by, reason, now);
      if ('error' in result)
        throw new ValidationError(`incident ${incident.id}`, [{ path: 'state', message: result.error }]);
      const seq = number(entity.properties.timelineSeq);
      const added = timelineEvents(entity.id, seq, [{ kind: 'transition', ...result.ok }]);
      const properties: Record<string, string | number> = { state: to, updatedAt: now, timelineSeq: seq + 1 };
      if (to === 'investigating') properties.round = incident.round + 1;
      await this.#write(entity, properties, added);
      return { incident: this.#written(entity, properties, events, added), changed: true };
    });
  }

  /**
   * Adds signals to the incident, in order, in one write: each one's fingerprint with its latest
   * status, its id and the entities it touches (linked with AFFECTS / TRIGGERED_BY). Notes each
   * fingerprint joining for the first time. Returns the incident after the change.
   */
  attachSignals(keyOrId: string, signals: readonly AttachedSignal[]): Promise<Incident> {
    return this.#update(keyOrId, (incident, entity, events) =>
      this.#attach(incident, entity, events, signals),
    );
  }

  /** `attachSignals` on an incident read under its lock. */
  async #attach(
    incident: Incident,
    entity: Entity,
    events: readonly GraphEvent[],
    signals: readonly AttachedSignal[],
  ): Promise<Incident> {
    const now = this.#clock.now();
    const fingerprints = strings(entity.properties.fingerprints);
    const joined = joinSignals(
      {
        fingerprints,
        fingerprintStatus: strings(entity.properties.fingerprintStatus),
        fingerprintStatusAt: numbersLike(entity.properties.fingerprintStatusAt, fingerprints),
        signalsUntracked: entity.properties.signalsUntracked === true,
        signalIds: strings(entity.properties.signalIds),
        entityIds: incident.entityIds,
      },
      signals,
      now,
    );
    const seq = number(entity.properties.timelineSeq);
    const added = timelineEvents(
      entity.id,
      seq,
      joined.notes.map((note) => ({ kind: 'note' as const, ...note })),
    );
    const properties = { ...joined.properties, updatedAt: now, timelineSeq: seq + joined.notes.length };
    await this.#write(
      entity,
      properties,
      added,
      await this.#links(entity.id, joined.symptoms, joined.alerts),
    );
    return this.#written(entity, properties, events, added);
  }

  /** Appends a note to the timeline. */
  note(keyOrId: string, note: Omit<TimelineNote, 'at'> & { at?: number }): Promise<Incident> {
    return this.#update(keyOrId, async (_incident, entity, events) => {
      const seq = number(entity.properties.timelineSeq);
      const at = note.at ?? this.#clock.now();
      const added = timelineEvents(entity.id, seq, [{ kind: 'note', ...note, at }]);
      const properties = { timelineSeq: seq + 1, updatedAt: at };
      await this.#write(entity, properties, added);
      return this.#written(entity, properties, events, added);
    });
  }

  /** Raises the severity (never lowers it) with the reason in the timeline; unchanged when not higher. */
  raiseSeverity(keyOrId: string, severity: Severity, by: Actor, reason: string): Promise<Incident> {
    return this.#update(keyOrId, async (incident, entity, events) => {
      if (SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(incident.severity)) return incident;
      const seq = number(entity.properties.timelineSeq);
      const at = this.#clock.now();
      const added = timelineEvents(entity.id, seq, [
        {
          kind: 'note',
          at,
          by,
          what: 'severity-raised',
          reason: `${incident.severity} → ${severity}: ${reason}`,
        },
      ]);
      const properties = { severity, timelineSeq: seq + 1, updatedAt: at };
      await this.#write(entity, properties, added);
      return this.#written(entity, properties, events, added);
    });
  }

  /** Records what investigate concluded: the root cause (when it found one) and the report. */
  recordInvestigation(
    keyOrId: string,
    result: { rootCause?: RootCause; reportMarkdown?: string },
  ): Promise<Incident> {
    return this.#update(keyOrId, async (_incident, entity, events) => {
      const { rootCause, reportMarkdown } = result;
      const properties = {
        ...(rootCause
          ? {
              rootCauseCategory: rootCause.category,
              rootCauseSuspect: rootCause.suspect,
              rootCauseConfidence: rootCause.confidence,
              rootCauseStatement: rootCause.statement.slice(0, 4_000),
            }
          : {}),
        ...(reportMarkdown === undefined
          ? {}
          : { report: reportMarkdown.slice(0, INCIDENT_LIMITS.reportChars) }),
      };
      await this.#write(entity, properties, []);
      return this.#written(entity, properties, events, []);
    });
  }

  /**
   * Reads the incident under its lock and runs `change` with it, the entity and its events. While
   * the lock is held nobody else writes the incident, so `change` returns what it wrote (see
   * `#written`) instead of reading it back.
   */
  #update<T>(
    keyOrId: string,
    change: (incident: Incident, entity: Entity, events: readonly GraphEvent[]) => Promise<T>,
  ): Promise<T> {
    const id = incidentGraphId(keyOrId);
    return this.#mutex.run(`incident:${id.slice('incident:'.length)}`, async () => {
      const found = await this.#load(id);
      if (!found) throw new ValidationError('incident', [{ path: 'id', message: `no incident ${id}` }]);
      return change(found.incident, found.entity, found.events);
    });
  }

  /** The incident entity `id` with its events and what they read as, or null when there is none. */
  async #load(
    id: string,
  ): Promise<{ incident: Incident; entity: Entity; events: readonly GraphEvent[] } | null> {
    const found = await this.#graph.getWithEvents(id, { limit: 5_000 });
    if (!found || found.entity.kind !== 'Incident') return null;
    const { entity, events } = found;
    return { incident: this.#read(entity, events), entity, events };
  }

  /** The incident after `properties` were merged into `entity` and `added` recorded: what a re-read returns. */
  #written(
    entity: Entity,
    properties: EntityInput['properties'],
    events: readonly GraphEvent[],
    added: readonly EventInput[],
  ): Incident {
    const merged = { ...entity, properties: { ...entity.properties, ...properties } as Entity['properties'] };
    // An event id written again replaces the earlier one (a torn write left by a crash).
    const replaced = new Set(added.map((event) => event.id));
    return this.#read(merged, [
      ...events.filter((event) => !replaced.has(event.id)),
      ...added.map(storedEvent),
    ]);
  }

  /** Merges `properties` into the incident with its new timeline events and links, in one write. */
  async #write(
    entity: Entity,
    properties: EntityInput['properties'],
    events: readonly EventInput[],
    relationships: readonly RelationshipInput[] = [],
  ): Promise<void> {
    await this.#graph.write({
      entities: [
        { id: entity.id, kind: 'Incident', source: SOURCE, observedAt: this.#clock.now(), properties },
      ],
      relationships,
      events,
    });
  }

  /** Edges from the incident to those of its symptoms and alerts that are in the graph (one read). */
  async #links(
    id: string,
    symptoms: readonly string[],
    alertIds: readonly string[],
  ): Promise<RelationshipInput[]> {
    const present = await this.#graph.getMany([...symptoms, ...alertIds]);
    return present.map((entity) => ({
      kind: alertIds.includes(entity.id) ? 'TRIGGERED_BY' : 'AFFECTS',
      from: id,
      to: entity.id,
      source: SOURCE,
    }));
  }

  #read(entity: Entity, events: readonly GraphEvent[]): Incident {
    const properties = entity.properties;
    const seq = number(properties.timelineSeq);
    const timeline = events
      .filter((event) => event.id.startsWith(`${entity.id}#`) && number(event.properties.seq) <= seq)
      .sort((a, b) => number(a.properties.seq) - number(b.properties.seq));
    const transitions: Transition[] = [];
    const notes: TimelineNote[] = [];
    for (const event of timeline) {
      const by = { kind: String(event.properties.byKind), id: String(event.properties.byId) } as Actor;
      const reason = event.summary ?? '';
      if (
        event.properties.entry === 'transition' &&
        isState(event.properties.from) &&
        isState(event.properties.to)
      ) {
        transitions.push({ at: event.at, from: event.properties.from, to: event.properties.to, by, reason });
      } else {
        notes.push({ at: event.at, by, what: String(event.properties.what ?? 'note'), reason });
      }
    }
    const fingerprints = strings(properties.fingerprints);
    const statuses = strings(properties.fingerprintStatus);
    const signals = new Map<string, 'firing' | 'resolved'>();
    fingerprints.forEach((digest, index) =>
      signals.set(digest, statuses[index] === 'resolved' ? 'resolved' : 'firing'),
    );
    const incident: Incident = {
      id: entity.id,
      key: keyOf(entity),
      title: entity.name ?? '',
      state: isState(properties.state) ? properties.state : 'open',
      severity: isSeverity(properties.severity) ? properties.severity : 'warning',
      openedAt: number(properties.openedAt, entity.provenance.firstSeen),
      firstReceivedAt: number(properties.firstReceivedAt, entity.provenance.firstSeen),
      updatedAt: number(properties.updatedAt, entity.provenance.lastSeen),
      round: number(properties.round),
      signals,
      signalIds: strings(properties.signalIds),
      entityIds: strings(properties.entityIds),
      transitions,
      notes,
    };
    if (properties.signalsUntracked === true) incident.signalsUntracked = true;
    if (typeof properties.report === 'string') incident.report = properties.report;
    if (typeof properties.rootCauseCategory === 'string') {
      incident.rootCause = {
        category: properties.rootCauseCategory,
        suspect: String(properties.rootCauseSuspect ?? ''),
        confidence: number(properties.rootCauseConfidence),
        statement: String(properties.rootCauseStatement ?? ''),
      };
    }
    return incident;
  }
}

/** Timeline entries as numbered `note` events on the incident, after `seq` (not yet written). */
function timelineEvents(
  id: string,
  seq: number,
  entries: ReadonlyArray<({ kind: 'transition' } & Transition) | ({ kind: 'note' } & TimelineNote)>,
): EventInput[] {
  return entries.map((entry, offset) => {
    const position = seq + offset + 1;
    const common = { seq: position, byKind: entry.by.kind, byId: entry.by.id };
    return {
      id: `${id}#${position}`,
      kind: 'note',
      entityId: id,
      at: entry.at,
      summary: entry.reason.slice(0, 2_000),
      source: SOURCE,
      properties:
        entry.kind === 'transition'
          ? { ...common, entry: 'transition', from: entry.from, to: entry.to }
          : { ...common, entry: 'note', what: entry.what },
    };
  });
}

/** A timeline event as a read returns it once written. */
function storedEvent(event: EventInput): GraphEvent {
  return { ...event, properties: event.properties ?? {}, confidence: event.confidence ?? 1 };
}

/** The signal bookkeeping of an incident: what `joinSignals` reads and replaces. */
interface SignalFields {
  fingerprints: string[];
  fingerprintStatus: string[];
  /** When each fingerprint's status was observed at its source: an older signal does not turn it. */
  fingerprintStatusAt: number[];
  /** A fingerprint joined when every one kept was firing and there was no room: see `Incident`. */
  signalsUntracked: boolean;
  signalIds: string[];
  entityIds: string[];
}

/**
 * Adds `signals` in order to an incident's signal fields: each one's fingerprint with its latest
 * status, its id and the entities it touches. Returns the new fields, a `signal-attached` note per
 * fingerprint joining for the first time, and the entities to link (symptoms with AFFECTS, alerts
 * with TRIGGERED_BY).
 */
function joinSignals(
  current: { readonly [Field in keyof SignalFields]: Readonly<SignalFields[Field]> },
  signals: readonly AttachedSignal[],
  now: number,
): { properties: SignalFields; notes: TimelineNote[]; symptoms: string[]; alerts: string[] } {
  const fingerprints = [...current.fingerprints];
  const statuses = [...current.fingerprintStatus];
  const statusTimes = [...current.fingerprintStatusAt];
  let untracked = current.signalsUntracked;
  let signalIds = [...current.signalIds];
  let entityIds = [...current.entityIds];
  const notes: TimelineNote[] = [];
  const symptomLinks = new Set<string>();
  const alertLinks = new Set<string>();
  for (const { signal, entityIds: touched, alertId, by } of signals) {
    const digest = fingerprintDigest(signal.fingerprint);
    const index = fingerprints.indexOf(digest);
    const status = signal.status ?? 'firing';
    if (index === -1) {
      // Full: a resolved fingerprint makes room (if it fires again, it joins again).
      const room = fingerprints.length < INCIDENT_LIMITS.fingerprints ? -1 : statuses.indexOf('resolved');
      if (room !== -1) {
        fingerprints.splice(room, 1);
        statuses.splice(room, 1);
        statusTimes.splice(room, 1);
      }
      if (fingerprints.length < INCIDENT_LIMITS.fingerprints) {
        fingerprints.push(digest);
        statuses.push(status);
        statusTimes.push(signal.observedAt);
      } else if (status === 'firing') untracked = true;
      notes.push({ at: now, by, what: 'signal-attached', reason: signal.summary });
    } else if (signal.observedAt >= (statusTimes[index] ?? 0)) {
      // Deliveries can be handled out of order (retries, replicas): the latest observation stands.
      statuses[index] = status;
      statusTimes[index] = signal.observedAt;
    }
    const symptoms = touched.filter((entityId) => entityId !== alertId);
    signalIds = append(signalIds, [signal.id], INCIDENT_LIMITS.signalIds);
    entityIds = append(entityIds, symptoms, INCIDENT_LIMITS.entityIds);
    for (const symptom of symptoms) symptomLinks.add(symptom);
    if (alertId) alertLinks.add(alertId);
  }
  return {
    properties: {
      fingerprints,
      fingerprintStatus: statuses,
      fingerprintStatusAt: statusTimes,
      signalsUntracked: untracked,
      signalIds,
      entityIds,
    },
    notes,
    symptoms: [...symptomLinks].filter((entityId) => !alertLinks.has(entityId)),
    alerts: [...alertLinks],
  };
}
