import type { GraphWrite } from './graph-write.js';
import type {
  Entity,
  EntityInput,
  EntityKind,
  EventInput,
  EventKind,
  GraphEvent,
  RelationshipInput,
  RelationshipKind,
} from './schema.js';

/** Which way to follow stored edges: `out` from→to, `in` to→from, `both` either. */
export type EdgeDirection = 'out' | 'in' | 'both';

/**
 * Which way impact flows (see `IMPACTED_END` in schema.ts):
 * - `downstream`: what is hurt if this entity fails or changes (its dependents, what runs on
 *   it, what it manages);
 * - `upstream`: what this entity depends on, where a cause of its trouble may lie;
 * - `both`: either way at every step.
 */
export type ImpactDirection = 'upstream' | 'downstream' | 'both';

/** One stored edge on a path, always in its stored direction (`from -[kind]-> to`). */
export interface PathStep {
  from: string;
  kind: RelationshipKind;
  to: string;
  confidence: number;
}

/** An entity reached by a traversal, `distance` edges away, and one shortest path to it. */
export interface Reached {
  entity: Entity;
  distance: number;
  /** The edges from the start to `entity`, in walking order; ties go to the smaller parent id. */
  path: PathStep[];
}

/** Options of `neighbors`. */
export interface NeighborOptions {
  /** Relationship kinds to follow; default all. */
  kinds?: readonly RelationshipKind[];
  /** Default `both`. */
  direction?: EdgeDirection;
  /** How many hops, 1–6; default 1. */
  depth?: number;
  /** Return only entities of these kinds (the walk still passes through others). */
  entityKinds?: readonly EntityKind[];
  /**
   * Reach entities of these kinds but never walk on from them (the start excepted): what is
   * reached only through one is left out, and a path around one is taken instead.
   */
  stopAt?: readonly EntityKind[];
  /** At most this many results, nearest first; default 1000. */
  limit?: number;
}

/** Options of `blastRadius`. */
export interface BlastRadiusOptions {
  /** Default `downstream`. */
  direction?: ImpactDirection;
  /** How many hops, 1–6; default 3. */
  maxDepth?: number;
  /** At most this many results, nearest first; default 1000. */
  limit?: number;
}

/** Options of `recentChanges`. */
export interface RecentChangesOptions {
  /** How far back from `now`: ms, or a duration such as `30m`. */
  window: number | string;
  /** The end of the window, ms since the epoch; default the store's clock. */
  now?: number;
  /** How many hops of dependencies (upstream) to include, 0–6; default 2. */
  maxDepth?: number;
  /** Event kinds to return; default `CHANGE_EVENT_KINDS`. */
  kinds?: readonly EventKind[];
  /** At most this many results; default 50. */
  limit?: number;
}

/** A change near the entities asked about. */
export interface RecentChange {
  event: GraphEvent;
  /** Hops from the nearest of the entities asked about to `event.entityId` (0: one of them). */
  distance: number;
  /** The edges from that nearest entity to `event.entityId`. */
  path: PathStep[];
}

/** A past incident like the signature given. */
export interface SimilarIncident {
  incident: Entity;
  /** Jaccard similarity of the two token sets, in (0, 1]. */
  score: number;
  /** The tokens both share, sorted. */
  shared: string[];
}

/** Options of `events`. */
export interface EventQuery {
  /** Only events at or after this time (ms). */
  since?: number;
  /** Only events at or before this time (ms). */
  until?: number;
  kinds?: readonly EventKind[];
  /** At most this many, newest first; default 100. */
  limit?: number;
}

/** Options of `find`. */
export interface FindQuery {
  kind: EntityKind;
  /** Equality on properties (or `name`); every pair must match. */
  where?: Readonly<Record<string, string | number | boolean>>;
  /** At most this many, by id; default 100. */
  limit?: number;
}

/** Options of `explainPath`. */
export interface ExplainPathOptions {
  /** Relationship kinds the path may use; default all. */
  kinds?: readonly RelationshipKind[];
  /** Longest path considered, 1–8; default 6. */
  maxDepth?: number;
}

/** Counts of what the store holds. */
export interface GraphStats {
  backend: 'embedded' | 'neo4j';
  schemaVersion: number;
  entities: number;
  relationships: number;
  events: number;
  entitiesByKind: Partial<Record<EntityKind, number>>;
  relationshipsByKind: Partial<Record<RelationshipKind, number>>;
}

/** What a write did. */
export interface WriteResult {
  /** Items in the batch (all were applied). */
  written: number;
}

/**
 * nightshift's memory: entities, relationships and events, behind one contract that both
 * stores (embedded and Neo4j) pass, proven by `runGraphStoreContract`.
 *
 * Writes:
 * - Every write is idempotent: writing the same batch again leaves the same state (with the same
 *   `observedAt`; a later `observedAt` only moves `lastSeen`).
 * - A batch is validated whole before anything is written, and applied whole or not at all:
 *   on any bad item the call rejects with one `ValidationError` whose issues name each item
 *   (`[index].field`, and its id in the message) and nothing of the batch is stored.
 * - When the call resolves the batch is durable (the embedded store has written its journal
 *   record, with fsync per its policy; Neo4j has committed).
 * - Entities merge: given properties are set, a `null` property is removed, others are kept;
 *   `source` and `confidence` are the last writer's; `firstSeen`/`lastSeen` are the min/max of
 *   every `observedAt`. An id keeps the kind it was first written with; a write naming another
 *   kind is rejected.
 * - A relationship is one edge per (from, kind, to), merged the same way; both ends must exist.
 * - An event is keyed by `id`; writing it again replaces it. Its entity need not exist.
 *
 * Reads see every acknowledged write. Traversals return results sorted by distance then id.
 * Methods reject with `ValidationError` for bad arguments and `SystemError` when the backend
 * fails (retryable when trying again may help); after `close()` every call rejects.
 */
export interface GraphStore {
  readonly backend: 'embedded' | 'neo4j';

  /** Creates or merges entities. */
  upsertEntities(batch: readonly EntityInput[]): Promise<WriteResult>;
  /** Creates or merges relationships; each end must already exist (else `ValidationError`). */
  upsertRelationships(batch: readonly RelationshipInput[]): Promise<WriteResult>;
  /** Records events, keyed by id. */
  recordEvents(batch: readonly EventInput[]): Promise<WriteResult>;
  /**
   * Entities, then relationships, then events, in one batch: validated whole, applied whole (one
   * journal record, one Neo4j transaction) or not at all. A relationship may end at an entity of
   * the same write. Issues name the part (`relationships[0].to`). `written` counts every item.
   */
  write(batch: GraphWrite): Promise<WriteResult>;

  /** The entity, or null. */
  get(id: string): Promise<Entity | null>;
  /** The entities of `ids` that exist, in the order of `ids` (each once), in one read. */
  getMany(ids: readonly string[]): Promise<Entity[]>;
  /** Entities within `depth` hops along the given relationship kinds and direction. Unknown id: []. */
  neighbors(id: string, options?: NeighborOptions): Promise<Reached[]>;
  /**
   * Entities impact reaches from `id` within `maxDepth` hops, following only dependency-like
   * edges (`IMPACTED_END`), each with one shortest path. Unknown id: [].
   */
  blastRadius(id: string, options?: BlastRadiusOptions): Promise<Reached[]>;
  /**
   * Change events (deploys, config changes, flag flips, scaling, node events by default) in
   * `[now - window, now]` on the given entities and on what they depend on (upstream, up to
   * `maxDepth` hops), ranked by graph distance, then newest first, then event id.
   */
  recentChanges(ids: readonly string[], options: RecentChangesOptions): Promise<RecentChange[]>;
  /**
   * The `k` incidents whose `signature` property (a token list, normalized on write: trimmed,
   * lower-cased, unique, sorted) is most like `signature` by Jaccard similarity
   * |A ∩ B| / |A ∪ B|; only scores above 0; ties by newer `lastSeen`, then id.
   */
  similarIncidents(signature: readonly string[], k: number): Promise<SimilarIncident[]>;
  /**
   * One shortest path between two entities, ignoring edge direction; the steps in walking order
   * from `a` to `b`. `[]` when `a === b`; null when there is none within `maxDepth`.
   */
  explainPath(a: string, b: string, options?: ExplainPathOptions): Promise<PathStep[] | null>;
  /** Events of one entity, newest first. */
  events(id: string, query?: EventQuery): Promise<GraphEvent[]>;
  /**
   * The entity with its events (as `events` returns them), read together in one read (in Neo4j,
   * one transaction, so both come from one state); null when there is no such entity.
   */
  getWithEvents(id: string, query?: EventQuery): Promise<{ entity: Entity; events: GraphEvent[] } | null>;
  /** Entities of a kind whose properties equal `where`, by id. */
  find(query: FindQuery): Promise<Entity[]>;

  /**
   * Deletes entities of `kind` last seen before `olderThan` (ms), with their relationships and
   * events; for ephemeral kinds such as Pod. Returns how many entities were removed. Idempotent.
   */
  expire(kind: EntityKind, olderThan: number): Promise<number>;
  /** Counts of entities, relationships and events. */
  stats(): Promise<GraphStats>;
  /** `ok` when the store can serve reads and writes now; `down` otherwise. Never throws. */
  health(): Promise<'ok' | 'down'>;
  /** Flushes and releases everything; safe to call twice. */
  close(): Promise<void>;
}
