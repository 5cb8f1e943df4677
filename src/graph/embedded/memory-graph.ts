import { MultiDirectedGraph } from 'graphology';
import {
  relationshipKey,
  SIGNATURE_PROPERTY,
  type Entity,
  type EntityKind,
  type EntityWrite,
  type GraphEvent,
  type Properties,
  type PropertiesInput,
  type Relationship,
  type RelationshipKind,
  type RelationshipWrite,
} from '../schema.js';
import type { Hop, Walk } from '../traversal.js';

/**
 * The in-memory graph of the embedded store: a graphology multi-graph (one edge per
 * from/kind/to, keyed by `relationshipKey`) plus the indexes the queries need — entities by kind,
 * events by entity (sorted by time), incidents by signature token. It knows nothing of files;
 * the store journals each batch first and then applies it here, and replays the journal here on
 * open. Every `apply*` is deterministic, so a replay rebuilds the same state.
 */
export class MemoryGraph {
  readonly graph = new MultiDirectedGraph<Entity, Relationship>({ allowSelfLoops: true });
  readonly #byKind = new Map<EntityKind, Set<string>>();
  readonly #relationshipsByKind = new Map<RelationshipKind, number>();
  readonly #events = new Map<string, GraphEvent>();
  readonly #eventsByEntity = new Map<string, GraphEvent[]>();
  readonly #incidentsByToken = new Map<string, Set<string>>();

  get entityCount(): number {
    return this.graph.order;
  }

  get relationshipCount(): number {
    return this.graph.size;
  }

  get eventCount(): number {
    return this.#events.size;
  }

  entitiesByKind(): Map<EntityKind, number> {
    return new Map([...this.#byKind].map(([kind, ids]) => [kind, ids.size]));
  }

  relationshipsByKind(): Map<RelationshipKind, number> {
    return new Map(this.#relationshipsByKind);
  }

  get(id: string): Entity | undefined {
    return this.graph.hasNode(id) ? this.graph.getNodeAttributes(id) : undefined;
  }

  idsOfKind(kind: EntityKind): ReadonlySet<string> {
    return this.#byKind.get(kind) ?? new Set();
  }

  applyEntities(writes: readonly EntityWrite[]): void {
    for (const write of writes) this.#applyEntity(write);
  }

  #applyEntity(write: EntityWrite): void {
    const existing = this.get(write.id);
    if (!existing) {
      const entity: Entity = {
        id: write.id,
        kind: write.kind,
        properties: withoutNulls(write.properties),
        provenance: {
          source: write.source,
          confidence: write.confidence,
          firstSeen: write.observedAt,
          lastSeen: write.observedAt,
        },
      };
      if (write.name !== undefined) entity.name = write.name;
      this.graph.addNode(write.id, entity);
      let ids = this.#byKind.get(write.kind);
      if (!ids) this.#byKind.set(write.kind, (ids = new Set()));
      ids.add(write.id);
      if (entity.kind === 'Incident') this.#indexSignature(entity, true);
      return;
    }
    if (existing.kind === 'Incident') this.#indexSignature(existing, false);
    existing.properties = mergeProperties(existing.properties, write.properties);
    if (write.name !== undefined) existing.name = write.name;
    const provenance = existing.provenance;
    provenance.source = write.source;
    provenance.confidence = write.confidence;
    if (write.observedAt < provenance.firstSeen) provenance.firstSeen = write.observedAt;
    if (write.observedAt > provenance.lastSeen) provenance.lastSeen = write.observedAt;
    if (existing.kind === 'Incident') this.#indexSignature(existing, true);
  }

  #indexSignature(incident: Entity, add: boolean): void {
    const tokens = incident.properties[SIGNATURE_PROPERTY];
    if (!Array.isArray(tokens)) return;
    for (const token of tokens as string[]) {
      let ids = this.#incidentsByToken.get(token);
      if (add) {
        if (!ids) this.#incidentsByToken.set(token, (ids = new Set()));
        ids.add(incident.id);
      } else if (ids) {
        ids.delete(incident.id);
        if (ids.size === 0) this.#incidentsByToken.delete(token);
      }
    }
  }

  /** Incidents sharing at least one token with `signature`. */
  incidentsSharing(signature: readonly string[]): Entity[] {
    const ids = new Set<string>();
    for (const token of signature) for (const id of this.#incidentsByToken.get(token) ?? []) ids.add(id);
    return [...ids].map((id) => this.graph.getNodeAttributes(id));
  }

  applyRelationships(writes: readonly RelationshipWrite[]): void {
    for (const write of writes) {
      const key = relationshipKey(write.from, write.kind, write.to);
      if (!this.graph.hasEdge(key)) {
        this.graph.addEdgeWithKey(key, write.from, write.to, {
          kind: write.kind,
          from: write.from,
          to: write.to,
          properties: withoutNulls(write.properties),
          provenance: {
            source: write.source,
            confidence: write.confidence,
            firstSeen: write.observedAt,
            lastSeen: write.observedAt,
          },
        });
        this.#relationshipsByKind.set(write.kind, (this.#relationshipsByKind.get(write.kind) ?? 0) + 1);
        continue;
      }
      const existing = this.graph.getEdgeAttributes(key);
      existing.properties = mergeProperties(existing.properties, write.properties);
      const provenance = existing.provenance;
      provenance.source = write.source;
      provenance.confidence = write.confidence;
      if (write.observedAt < provenance.firstSeen) provenance.firstSeen = write.observedAt;
      if (write.observedAt > provenance.lastSeen) provenance.lastSeen = write.observedAt;
    }
  }

  applyEvents(events: readonly GraphEvent[]): void {
    for (const event of events) {
      const previous = this.#events.get(event.id);
      if (previous) this.#unindexEvent(previous);
      this.#events.set(event.id, event);
      let list = this.#eventsByEntity.get(event.entityId);
      if (!list) this.#eventsByEntity.set(event.entityId, (list = []));
      // Events mostly arrive in time order, so the insertion point is usually the end.
      const last = list[list.length - 1];
      if (!last || compareEvents(last, event) <= 0) list.push(event);
      else list.splice(lowerBound(list, event), 0, event);
    }
  }

  #unindexEvent(event: GraphEvent): void {
    const list = this.#eventsByEntity.get(event.entityId);
    if (!list) return;
    const index = list.indexOf(event);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.#eventsByEntity.delete(event.entityId);
  }

  /** Events of one entity in `[since, until]`, oldest first. */
  eventsOf(id: string, since: number, until: number): GraphEvent[] {
    const list = this.#eventsByEntity.get(id);
    if (!list) return [];
    let low = 0;
    let high = list.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((list[middle] as GraphEvent).at < since) low = middle + 1;
      else high = middle;
    }
    const result: GraphEvent[] = [];
    for (let index = low; index < list.length; index++) {
      const event = list[index] as GraphEvent;
      if (event.at > until) break;
      result.push(event);
    }
    return result;
  }

  /** Removes entities of `kind` last seen before `olderThan`, with their edges and events; returns their ids. */
  expire(kind: EntityKind, olderThan: number): string[] {
    const ids = this.#byKind.get(kind);
    if (!ids) return [];
    const removed: string[] = [];
    for (const id of ids) {
      const entity = this.graph.getNodeAttributes(id);
      if (entity.provenance.lastSeen < olderThan) removed.push(id);
    }
    for (const id of removed) {
      const entity = this.graph.getNodeAttributes(id);
      if (entity.kind === 'Incident') this.#indexSignature(entity, false);
      this.graph.forEachEdge(id, (_key, edge) => {
        this.#relationshipsByKind.set(edge.kind, (this.#relationshipsByKind.get(edge.kind) ?? 1) - 1);
      });
      this.graph.dropNode(id);
      ids.delete(id);
      for (const event of this.#eventsByEntity.get(id) ?? []) this.#events.delete(event.id);
      this.#eventsByEntity.delete(id);
    }
    if (ids.size === 0) this.#byKind.delete(kind);
    for (const [relationship, count] of this.#relationshipsByKind) {
      if (count <= 0) this.#relationshipsByKind.delete(relationship);
    }
    return removed;
  }

  /** One hop from each frontier id along `walk`. */
  expand(frontier: readonly string[], walk: Walk): Hop[] {
    const hops: Hop[] = [];
    const out = new Set(walk.out);
    const incoming = new Set(walk.in);
    const graph = this.graph;
    for (const id of frontier) {
      if (!graph.hasNode(id)) continue;
      if (out.size > 0) {
        graph.forEachOutEdge(id, (_key, edge, _source, target, _sourceAttributes, targetAttributes) => {
          if (out.has(edge.kind)) {
            hops.push({
              from: id,
              to: target,
              toKind: targetAttributes.kind,
              step: { from: edge.from, kind: edge.kind, to: edge.to, confidence: edge.provenance.confidence },
            });
          }
        });
      }
      if (incoming.size > 0) {
        graph.forEachInEdge(id, (_key, edge, source, _target, sourceAttributes) => {
          if (incoming.has(edge.kind)) {
            hops.push({
              from: id,
              to: source,
              toKind: sourceAttributes.kind,
              step: { from: edge.from, kind: edge.kind, to: edge.to, confidence: edge.provenance.confidence },
            });
          }
        });
      }
    }
    return hops;
  }

  /** Every entity, relationship and event, for a snapshot. */
  *entities(): Generator<Entity> {
    for (const { attributes } of this.graph.nodeEntries()) yield attributes;
  }

  *relationships(): Generator<Relationship> {
    for (const { attributes } of this.graph.edgeEntries()) yield attributes;
  }

  *allEvents(): Generator<GraphEvent> {
    yield* this.#events.values();
  }

  /** Loads one entity from a snapshot (no merging). */
  loadEntity(entity: Entity): void {
    this.graph.addNode(entity.id, entity);
    let ids = this.#byKind.get(entity.kind);
    if (!ids) this.#byKind.set(entity.kind, (ids = new Set()));
    ids.add(entity.id);
    if (entity.kind === 'Incident') this.#indexSignature(entity, true);
  }

  /**
   * Loads one relationship from a snapshot. One whose end is missing was written, with that end,
   * after the snapshot began, so the journal replays both; it is skipped here (returns false).
   */
  loadRelationship(relationship: Relationship): boolean {
    if (!this.graph.hasNode(relationship.from) || !this.graph.hasNode(relationship.to)) return false;
    this.graph.addEdgeWithKey(
      relationshipKey(relationship.from, relationship.kind, relationship.to),
      relationship.from,
      relationship.to,
      relationship,
    );
    this.#relationshipsByKind.set(
      relationship.kind,
      (this.#relationshipsByKind.get(relationship.kind) ?? 0) + 1,
    );
    return true;
  }
}

/**
 * The written properties as stored. Writes are never mutated after they are applied (updates
 * build new objects), so a write without nulls is kept as it is instead of copied.
 */
function withoutNulls(properties: PropertiesInput): Properties {
  for (const key in properties) {
    if (properties[key] === null) return mergeProperties({}, properties);
  }
  return properties as Properties;
}

function mergeProperties(target: Properties, changes: PropertiesInput): Properties {
  const result: Properties = { ...target };
  for (const key in changes) {
    const value = changes[key];
    if (value === null || value === undefined) delete result[key];
    else result[key] = value;
  }
  return result;
}

function compareEvents(a: GraphEvent, b: GraphEvent): number {
  return a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function lowerBound(list: readonly GraphEvent[], event: GraphEvent): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareEvents(list[middle] as GraphEvent, event) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
