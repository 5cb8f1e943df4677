import neo4j, {
  int,
  isRetryableError,
  type AuthToken,
  type Driver,
  type ManagedTransaction,
  type RecordShape,
  type Session,
} from 'neo4j-driver';
import { sleep, type Clock } from '../../shared/clock.js';
import { ConfigError, NightshiftError, SystemError, describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Secret } from '../../shared/secret.js';
import { findKindConflict, findMissingEnd } from '../checks.js';
import {
  findWriteProblem,
  graphWriteSize,
  parseGraphWrite,
  type GraphWrite,
  type ParsedGraphWrite,
} from '../graph-write.js';
import { ReadGroups } from '../read-groups.js';
import { WriteGroups } from '../write-groups.js';
import {
  rankChanges,
  resolveBlastRadius,
  resolveEventQuery,
  resolveExpire,
  resolveExplainPath,
  resolveFind,
  resolveNeighbors,
  resolveRecentChanges,
  resolveSimilar,
} from '../options.js';
import {
  GRAPH_SCHEMA_VERSION,
  MAX_BATCH_ITEMS,
  normalizeSignature,
  type Entity,
  type EntityInput,
  type EntityKind,
  type EntityWrite,
  type EventInput,
  type EventKind,
  type EventWrite,
  type GraphEvent,
  type Properties,
  type RelationshipInput,
  type RelationshipKind,
  type RelationshipWrite,
} from '../schema.js';
import { parseEntityBatch, parseEventBatch, parseRelationshipBatch } from '../parse-batch.js';
import { rankSimilar } from '../similarity.js';
import type {
  BlastRadiusOptions,
  EventQuery,
  ExplainPathOptions,
  FindQuery,
  GraphStats,
  GraphStore,
  NeighborOptions,
  PathStep,
  Reached,
  RecentChange,
  RecentChangesOptions,
  SimilarIncident,
  WriteResult,
} from '../store.js';
import {
  breadthFirst,
  edgeWalk,
  impactWalk,
  pathTo,
  ranked,
  shortestPath,
  type Expand,
  type Visit,
} from '../traversal.js';
import {
  CLEAR_CHUNK,
  COUNT_ENTITIES,
  COUNT_EVENTS,
  COUNT_RELATIONSHIPS,
  ENTITIES_WITH_EVENTS,
  EVENTS_OF,
  EVENTS_ON,
  EXPIRE_CHUNK,
  expandQuery,
  FIND,
  GET_ENTITIES,
  INCIDENTS_SHARING,
  KINDS_OF,
  RECORD_EVENTS,
  upsertEntitiesQuery,
  upsertRelationshipsQuery,
} from './cypher.js';
import { migrate } from './migrations.js';

/** Settings of the Neo4j store. */
export interface Neo4jGraphStoreOptions {
  /** e.g. `bolt://127.0.0.1:7687` or `neo4j+s://…`. */
  uri: string;
  /** With `password`, basic auth; without, no auth. */
  user?: string;
  password?: Secret;
  /** Default: the server's default database. */
  database?: string;
  /** Scopes everything this store reads and writes, so several graphs can share a database; default `default`. */
  namespace?: string;
  /** How long one call may wait, retrying, for Neo4j to answer before it fails; default 60 s. */
  operationTimeoutMs?: number;
  /** Backoff between attempts: first delay and cap; default 200 ms and 5 s. */
  retry?: { initialMs?: number; maxMs?: number };
  logger: Logger;
  clock: Clock;
}

const TIME_MIN = -8.64e15;
const TIME_MAX = 8.64e15;
const EXPIRE_CHUNK_SIZE = 2_000;

/** Runs one query in the current read transaction; `$ns` is added. */
type Reader = <R extends RecordShape>(query: string, parameters: Record<string, unknown>) => Promise<R[]>;

/** A batch met state it must be rejected for; the reason is worked out outside the rolled-back transaction. */
class BatchConflict extends Error {}

/** A write waiting for the group commit, with how to commit it alone (and explain a refusal). */
interface GroupedWrite {
  write: ParsedGraphWrite;
  alone: () => Promise<void>;
}

function transient(error: unknown): boolean {
  if (isRetryableError(error)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    (code === 'ServiceUnavailable' || code === 'SessionExpired' || code.startsWith('Neo.TransientError'))
  );
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const value = key(item);
    let group = groups.get(value);
    if (!group) groups.set(value, (group = []));
    group.push(item);
  }
  return groups;
}

function toEntity(map: Record<string, unknown>): Entity {
  const { ns: _ns, id, kind, name, source, confidence, firstSeen, lastSeen, ...properties } = map;
  const entity: Entity = {
    id: id as string,
    kind: kind as EntityKind,
    properties: properties as Properties,
    provenance: {
      source: source as string,
      confidence: confidence as number,
      firstSeen: firstSeen as number,
      lastSeen: lastSeen as number,
    },
  };
  if (typeof name === 'string') entity.name = name;
  return entity;
}

/** The parameters of an event query (`since`, `until`, `kinds`, `limit`) within what Neo4j stores. */
function eventBounds(resolved: ReturnType<typeof resolveEventQuery>): Record<string, unknown> {
  return {
    since: Math.max(resolved.since, TIME_MIN),
    until: Math.min(resolved.until, TIME_MAX),
    kinds: resolved.kinds ?? null,
    limit: int(resolved.limit),
  };
}

function toEvent(map: Record<string, unknown>): GraphEvent {
  const { ns: _ns, id, kind, subject, at, summary, source, confidence, ...properties } = map;
  const event: GraphEvent = {
    id: id as string,
    kind: kind as EventKind,
    entityId: subject as string,
    at: at as number,
    properties: properties as Properties,
    source: source as string,
    confidence: confidence as number,
  };
  if (typeof summary === 'string') event.summary = summary;
  return event;
}

/**
 * The production store on Neo4j 5 (5.26 LTS; needs 5.23 or later for `CALL (x) {…}`).
 *
 * Opening returns at once and connects in the background, retrying with backoff; until Neo4j
 * answers and the migrations ran, `health()` is `down` and calls wait (up to
 * `operationTimeoutMs`) instead of failing. It never falls back to another store. Writes and
 * traversals run in managed transactions (the driver retries transient errors), single-query
 * reads as auto-commit queries, and calls made together share a transaction or a query (group
 * commit, grouped reads); all of it is wrapped in a retry with backoff for connection loss, so a
 * Neo4j restart during ingestion delays writes but loses none: every write is an idempotent
 * MERGE, safe to run again after an unknown outcome.
 */
export class Neo4jGraphStore implements GraphStore {
  readonly backend = 'neo4j' as const;
  readonly namespace: string;
  readonly #driver: Driver;
  readonly #database: string | undefined;
  readonly #uri: string;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #operationTimeoutMs: number;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  readonly #stop = new AbortController();
  /** `getWithEvents` calls made while one such query runs are answered together by the next. */
  readonly #entityReads = new ReadGroups<
    Record<string, unknown>,
    { entity: Entity; events: GraphEvent[] } | null
  >({
    read: async (rows) => {
      const records = await this.#read<{
        index: number;
        n: Record<string, unknown>;
        events: Array<Record<string, unknown>>;
      }>(ENTITIES_WITH_EVENTS, { rows });
      const found = new Map(
        records.map((record) => [
          Number(record.index),
          { entity: toEntity(record.n), events: record.events.map(toEvent) },
        ]),
      );
      return rows.map((_, index) => found.get(index) ?? null);
    },
    maxItems: 500,
  });
  /** `get` and `getMany` calls made while one such query runs are answered together by the next. */
  readonly #idReads = new ReadGroups<readonly string[], Entity[]>({
    read: async (lists) => {
      const ids = [...new Set(lists.flat())];
      const records = await this.#read<{ n: Record<string, unknown> }>(GET_ENTITIES, { ids });
      const found = new Map(records.map((record) => [String(record.n.id), record.n]));
      // Each caller gets entities of its own, as with a query of its own: no shared arrays.
      const given = new Set<string>();
      return lists.map((list) =>
        list.flatMap((id) => {
          const map = found.get(id);
          if (!map) return [];
          if (given.has(id)) return [toEntity(structuredClone(map))];
          given.add(id);
          return [toEntity(map)];
        }),
      );
    },
    maxItems: 200,
    weight: (ids) => ids.length,
    maxWeight: MAX_BATCH_ITEMS,
  });
  /**
   * Every write call goes through a group commit: calls made while a write transaction runs are
   * merged into the next one (entities, then relationships, then events, each in call order).
   */
  readonly #groups = new WriteGroups<GroupedWrite>({
    together: (items) =>
      this.#transaction('write', (tx) =>
        this.#runWrite(tx, {
          entities: items.flatMap((item) => item.write.entities),
          relationships: items.flatMap((item) => item.write.relationships),
          events: items.flatMap((item) => item.write.events),
        }),
      ),
    alone: (item) => item.alone(),
    isUnavailable: (error) =>
      error instanceof SystemError && (error.code === 'graph_unavailable' || error.code === 'graph_closed'),
    weight: (item) => graphWriteSize(item.write),
    maxWeight: MAX_BATCH_ITEMS,
  });
  #ready = false;
  #fatal: Error | undefined;
  #signalReady!: () => void;
  readonly #readyPromise = new Promise<void>((resolve) => (this.#signalReady = resolve));
  #closed: Promise<void> | undefined;

  private constructor(options: Neo4jGraphStoreOptions) {
    const namespace = options.namespace ?? 'default';
    if (namespace.length === 0 || namespace.length > 200) {
      throw new ConfigError([{ path: 'graph.neo4j.namespace', message: 'must be 1 to 200 characters' }]);
    }
    let url: URL;
    try {
      url = new URL(options.uri);
    } catch {
      throw new ConfigError([{ path: 'graph.neo4j.uri', message: `not a URI: ${options.uri}` }]);
    }
    this.namespace = namespace;
    this.#uri = `${url.protocol}//${url.host}`;
    this.#database = options.database;
    this.#logger = options.logger.child({ component: 'graph', backend: 'neo4j' });
    this.#clock = options.clock;
    this.#operationTimeoutMs = options.operationTimeoutMs ?? 60_000;
    this.#retryInitialMs = options.retry?.initialMs ?? 200;
    this.#retryMaxMs = options.retry?.maxMs ?? 5_000;
    const auth =
      options.user !== undefined && options.password !== undefined
        ? neo4j.auth.basic(options.user, options.password.reveal())
        : ({ scheme: 'none', principal: '', credentials: '' } satisfies AuthToken);
    this.#driver = neo4j.driver(options.uri, auth, {
      disableLosslessIntegers: true,
      maxTransactionRetryTime: 5_000,
      connectionTimeout: 5_000,
      connectionAcquisitionTimeout: 10_000,
      maxConnectionPoolSize: 50,
      userAgent: 'nightshift',
    });
  }

  /** Creates the store and starts connecting; resolves at once (see `ready`). */
  static open(options: Neo4jGraphStoreOptions): Promise<Neo4jGraphStore> {
    try {
      const store = new Neo4jGraphStore(options);
      void store.#connect();
      return Promise.resolve(store);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Resolves once Neo4j answered and the schema is migrated; rejects after `timeoutMs`. */
  async ready(timeoutMs = this.#operationTimeoutMs): Promise<void> {
    await this.#waitReady(Date.now() + timeoutMs);
  }

  async #connect(): Promise<void> {
    let delay = this.#retryInitialMs;
    for (let attempt = 1; !this.#stop.signal.aborted; attempt++) {
      try {
        await this.#driver.verifyConnectivity({ database: this.#database });
        await migrate(this.#driver, this.#database, this.#logger);
        this.#ready = true;
        this.#logger.info({ uri: this.#uri, namespace: this.namespace }, 'connected to Neo4j');
        this.#signalReady();
        return;
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        if (error instanceof NightshiftError && !error.retryable) {
          this.#fatal = error;
          this.#logger.error({ err: error }, 'the Neo4j graph cannot be used');
          this.#signalReady();
          return;
        }
        const level = attempt === 1 || attempt % 10 === 0 ? 'warn' : 'debug';
        this.#logger[level](
          { uri: this.#uri, attempt, retryInMs: delay, error: describeError(error) },
          'Neo4j is not reachable yet; retrying',
        );
        await sleep(delay, this.#stop.signal).catch(() => undefined);
        delay = Math.min(delay * 2, this.#retryMaxMs);
      }
    }
  }

  async #waitReady(deadline: number): Promise<void> {
    if (this.#ready) return;
    if (!this.#fatal) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
      });
      const outcome = await Promise.race([this.#readyPromise, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout' && !this.#ready) {
        throw new SystemError(
          'graph_unavailable',
          `Neo4j at ${this.#uri} is not reachable (still retrying)`,
          {
            retryable: true,
            data: { uri: this.#uri },
          },
        );
      }
    }
    if (this.#fatal) throw this.#fatal;
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new SystemError('graph_closed', 'the graph store is closed', { retryable: false });
  }

  /**
   * Runs `work` in one managed transaction, retrying connection loss with backoff until the call's
   * deadline. Reads run as write-mode transactions too (see `#inSession`).
   */
  #transaction<T>(mode: 'read' | 'write', work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    return this.#inSession(mode, (session, config) => session.executeWrite(work, config));
  }

  /**
   * Runs `work` with a new session, retrying connection loss with backoff until the call's
   * deadline; other failures are not retried. Every session is a write-mode one, reads included:
   * on a cluster they all go to the leader, so a read sees every write committed before it, by
   * this daemon or another one that held the incident's lock just before (a follower may lag, and
   * bookmarks would not cross processes). `mode` only names the call in errors and logs.
   */
  async #inSession<T>(
    mode: 'read' | 'write',
    work: (session: Session, config: { timeout: number; metadata: Record<string, string> }) => Promise<T>,
  ): Promise<T> {
    this.#assertOpen();
    const deadline = Date.now() + this.#operationTimeoutMs;
    let delay = this.#retryInitialMs;
    for (let attempt = 1; ; attempt++) {
      await this.#waitReady(deadline);
      const session = this.#driver.session({
        database: this.#database,
        defaultAccessMode: neo4j.session.WRITE,
      });
      try {
        return await work(session, { timeout: this.#operationTimeoutMs, metadata: { app: 'nightshift' } });
      } catch (error) {
        if (error instanceof NightshiftError || error instanceof BatchConflict) throw error;
        if (!transient(error) || this.#closed) {
          throw new SystemError('graph_query_failed', `Neo4j ${mode} failed: ${describeError(error)}`, {
            cause: error,
            retryable: false,
          });
        }
        if (Date.now() + delay > deadline) {
          throw new SystemError(
            'graph_unavailable',
            `Neo4j at ${this.#uri} did not answer: ${describeError(error)}`,
            {
              cause: error,
              retryable: true,
            },
          );
        }
        this.#logger.warn(
          { attempt, retryInMs: delay, error: describeError(error) },
          `Neo4j ${mode} failed; retrying`,
        );
        await sleep(delay);
        delay = Math.min(delay * 2, this.#retryMaxMs);
      } finally {
        await session.close().catch(() => undefined);
      }
    }
  }

  /** Runs `work` in one read transaction: a traversal's queries all see one state, with one BEGIN/COMMIT. */
  async #inOneRead<T>(work: (read: Reader) => Promise<T>): Promise<T> {
    return this.#transaction('read', (tx) =>
      work(async <R extends RecordShape>(query: string, parameters: Record<string, unknown>) => {
        const result = await tx.run<R>(query, { ns: this.namespace, ...parameters });
        return result.records.map((record) => record.toObject());
      }),
    );
  }

  /**
   * One read query as an auto-commit transaction: no BEGIN or COMMIT round, about half the
   * client's work of a managed read. Reads are safe to retry, and `#inSession` retries them.
   */
  async #read<R extends RecordShape = RecordShape>(
    query: string,
    parameters: Record<string, unknown>,
  ): Promise<R[]> {
    return this.#inSession('read', async (session, config) => {
      const result = await session.run<R>(query, { ns: this.namespace, ...parameters }, config);
      return result.records.map((record) => record.toObject());
    });
  }

  async upsertEntities(batch: readonly EntityInput[]): Promise<WriteResult> {
    this.#assertOpen();
    const writes = parseEntityBatch(batch, this.#clock.now());
    if (writes.length === 0) return { written: 0 };
    await this.#groups.submit({
      write: { entities: writes, relationships: [], events: [] },
      alone: () =>
        this.#writeChecked(
          (tx) => this.#runEntities(tx, writes),
          async () => {
            const kinds = await this.#kindsOf(writes.map((write) => write.id));
            return findKindConflict(writes, (id) => kinds.get(id));
          },
        ),
    });
    return { written: writes.length };
  }

  async upsertRelationships(batch: readonly RelationshipInput[]): Promise<WriteResult> {
    this.#assertOpen();
    const writes = parseRelationshipBatch(batch, this.#clock.now());
    if (writes.length === 0) return { written: 0 };
    await this.#groups.submit({
      write: { entities: [], relationships: writes, events: [] },
      alone: () =>
        this.#writeChecked(
          (tx) => this.#runRelationships(tx, writes),
          async () => {
            const kinds = await this.#kindsOf(writes.flatMap((write) => [write.from, write.to]));
            return findMissingEnd(writes, (id) => kinds.has(id));
          },
        ),
    });
    return { written: writes.length };
  }

  async write(batch: GraphWrite): Promise<WriteResult> {
    this.#assertOpen();
    const write = parseGraphWrite(batch, this.#clock.now());
    const size = graphWriteSize(write);
    if (size === 0) return { written: 0 };
    await this.#groups.submit({
      write,
      alone: () =>
        this.#writeChecked(
          (tx) => this.#runWrite(tx, write),
          async () => {
            const kinds = await this.#kindsOf([
              ...write.entities.map((entity) => entity.id),
              ...write.relationships.flatMap((relationship) => [relationship.from, relationship.to]),
            ]);
            return findWriteProblem(write, (id) => kinds.get(id));
          },
        ),
    });
    return { written: size };
  }

  /** Commits and writes of the group commit so far: how many writes each transaction carried. */
  get writeGroups(): { commits: number; writes: number } {
    return this.#groups.counts;
  }

  /** Entities, then relationships, then events of `write`, in `tx`. */
  async #runWrite(tx: ManagedTransaction, write: ParsedGraphWrite): Promise<void> {
    await this.#runEntities(tx, write.entities);
    await this.#runRelationships(tx, write.relationships);
    await this.#runEvents(tx, write.events);
  }

  /** Merges entities in `tx`, one query per kind; a kind conflict rolls the transaction back. */
  async #runEntities(tx: ManagedTransaction, writes: readonly EntityWrite[]): Promise<void> {
    for (const [kind, items] of groupBy(writes, (write) => write.kind)) {
      const result = await tx.run(upsertEntitiesQuery(kind), {
        ns: this.namespace,
        kind,
        rows: items.map(entityRow),
      });
      if (Number(result.records[0]?.get('applied')) !== items.length) throw new BatchConflict();
    }
  }

  /** Merges relationships in `tx`, one query per kind; a missing end rolls the transaction back. */
  async #runRelationships(tx: ManagedTransaction, writes: readonly RelationshipWrite[]): Promise<void> {
    for (const [kind, items] of groupBy(writes, (write) => write.kind)) {
      const result = await tx.run(upsertRelationshipsQuery(kind), {
        ns: this.namespace,
        rows: items.map(relationshipRow),
      });
      if (Number(result.records[0]?.get('applied')) !== items.length) throw new BatchConflict();
    }
  }

  /** Replaces events in `tx`. */
  async #runEvents(tx: ManagedTransaction, writes: readonly EventWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const rows = writes.map((event) => {
      const fields: Record<string, unknown> = {
        ...event.properties,
        ns: this.namespace,
        id: event.id,
        kind: event.kind,
        subject: event.entityId,
        at: event.at,
        source: event.source,
        confidence: event.confidence,
      };
      if (event.summary !== undefined) fields.summary = event.summary;
      return { id: event.id, fields };
    });
    await tx.run(RECORD_EVENTS, { ns: this.namespace, rows });
  }

  /**
   * Writes a batch in one transaction; if the database state makes it invalid, the transaction
   * rolls back and `explain` (reading the state as it is without the batch) names the item.
   */
  async #writeChecked(
    work: (tx: ManagedTransaction) => Promise<void>,
    explain: () => Promise<NightshiftError | undefined>,
  ): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.#transaction('write', work);
        return;
      } catch (error) {
        if (!(error instanceof BatchConflict)) throw error;
        const problem = await explain();
        if (problem) throw problem;
        // Another writer changed the graph in between; the batch may well be valid now.
      }
    }
    throw new SystemError('graph_write_conflict', 'a graph batch kept conflicting with concurrent writes', {
      retryable: true,
    });
  }

  async #kindsOf(ids: readonly string[]): Promise<Map<string, EntityKind>> {
    const records = await this.#read<{ id: string; kind: EntityKind }>(KINDS_OF, { ids: [...new Set(ids)] });
    return new Map(records.map((record) => [record.id, record.kind]));
  }

  async recordEvents(batch: readonly EventInput[]): Promise<WriteResult> {
    this.#assertOpen();
    const writes = parseEventBatch(batch);
    if (writes.length === 0) return { written: 0 };
    await this.#groups.submit({
      write: { entities: [], relationships: [], events: writes },
      alone: () => this.#transaction('write', (tx) => this.#runEvents(tx, writes)),
    });
    return { written: writes.length };
  }

  async get(id: string): Promise<Entity | null> {
    this.#assertOpen();
    const [entity] = await this.#entities([id]);
    return entity ?? null;
  }

  async getMany(ids: readonly string[]): Promise<Entity[]> {
    this.#assertOpen();
    return this.#entities([...new Set(ids)]);
  }

  /** The entities of `ids` that exist, in the order of `ids`. */
  #entities(ids: readonly string[]): Promise<Entity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.#idReads.load(ids);
  }

  /**
   * One hop along `walk` from every id of a frontier, within the reader's transaction. The
   * entities reached come back with the hops and are kept in `seen`, so results need no second
   * lookup.
   */
  #expander(read: Reader, seen: Map<string, Entity>): Expand {
    return async (frontier, walk) => {
      const query = expandQuery(walk);
      if (!query || frontier.length === 0) return [];
      const records = await read<{
        fid: string;
        kind: RelationshipKind;
        other: Record<string, unknown>;
        outgoing: boolean;
        confidence: number;
      }>(query, { ids: frontier });
      return records.map((record) => {
        const other = toEntity(record.other);
        if (!seen.has(other.id)) seen.set(other.id, other);
        return {
          from: record.fid,
          to: other.id,
          toKind: other.kind,
          step: record.outgoing
            ? { from: record.fid, kind: record.kind, to: other.id, confidence: record.confidence }
            : { from: other.id, kind: record.kind, to: record.fid, confidence: record.confidence },
        };
      });
    };
  }

  #reached(
    seen: ReadonlyMap<string, Entity>,
    visits: ReadonlyMap<string, Visit>,
    entries: Array<[string, Visit]>,
  ): Reached[] {
    const result: Reached[] = [];
    for (const [id, visit] of entries) {
      const entity = seen.get(id);
      if (entity) result.push({ entity, distance: visit.distance, path: pathTo(visits, id) });
    }
    return result;
  }

  async neighbors(id: string, options?: NeighborOptions): Promise<Reached[]> {
    this.#assertOpen();
    const resolved = resolveNeighbors(id, options);
    const filter = resolved.entityKinds;
    const keep = filter
      ? (visit: Visit): boolean => visit.kind !== undefined && filter.has(visit.kind)
      : undefined;
    return this.#inOneRead(async (read) => {
      const seen = new Map<string, Entity>();
      const visits = await breadthFirst(
        [resolved.id],
        edgeWalk(resolved.direction, resolved.kinds),
        resolved.depth,
        this.#expander(read, seen),
        filter ? Number.POSITIVE_INFINITY : resolved.limit,
        resolved.stopAt,
      );
      return this.#reached(seen, visits, ranked(visits, resolved.limit, keep));
    });
  }

  async blastRadius(id: string, options?: BlastRadiusOptions): Promise<Reached[]> {
    this.#assertOpen();
    const resolved = resolveBlastRadius(id, options);
    return this.#inOneRead(async (read) => {
      const seen = new Map<string, Entity>();
      const visits = await breadthFirst(
        [resolved.id],
        impactWalk(resolved.direction),
        resolved.maxDepth,
        this.#expander(read, seen),
        resolved.limit,
      );
      return this.#reached(seen, visits, ranked(visits, resolved.limit));
    });
  }

  async recentChanges(ids: readonly string[], options: RecentChangesOptions): Promise<RecentChange[]> {
    this.#assertOpen();
    const resolved = resolveRecentChanges(ids, options, this.#clock.now());
    if (resolved.ids.length === 0 || resolved.kinds.length === 0) return [];
    return this.#inOneRead(async (read) => {
      const visits = await breadthFirst(
        resolved.ids,
        impactWalk('upstream'),
        resolved.maxDepth,
        this.#expander(read, new Map()),
      );
      const records = await read<{ e: Record<string, unknown> }>(EVENTS_ON, {
        ids: [...visits.keys()],
        since: resolved.since,
        until: resolved.until,
        kinds: resolved.kinds,
      });
      return rankChanges(
        visits,
        records.map((record) => toEvent(record.e)),
        resolved.limit,
      );
    });
  }

  async similarIncidents(signature: readonly string[], k: number): Promise<SimilarIncident[]> {
    this.#assertOpen();
    resolveSimilar(signature, k);
    const tokens = normalizeSignature(signature);
    if (tokens.length === 0) return [];
    const records = await this.#read<{ n: Record<string, unknown> }>(INCIDENTS_SHARING, { tokens });
    return rankSimilar(
      tokens,
      records.map((record) => toEntity(record.n)),
      k,
    );
  }

  async explainPath(a: string, b: string, options?: ExplainPathOptions): Promise<PathStep[] | null> {
    this.#assertOpen();
    const resolved = resolveExplainPath(a, b, options);
    if (resolved.a === resolved.b) return (await this.get(resolved.a)) ? [] : null;
    return this.#inOneRead((read) =>
      shortestPath(
        resolved.a,
        resolved.b,
        edgeWalk('both', resolved.kinds),
        resolved.maxDepth,
        this.#expander(read, new Map()),
      ),
    );
  }

  async events(id: string, query?: EventQuery): Promise<GraphEvent[]> {
    this.#assertOpen();
    const resolved = resolveEventQuery(id, query);
    const records = await this.#read<{ e: Record<string, unknown> }>(EVENTS_OF, {
      id,
      ...eventBounds(resolved),
    });
    return records.map((record) => toEvent(record.e));
  }

  async getWithEvents(
    id: string,
    query?: EventQuery,
  ): Promise<{ entity: Entity; events: GraphEvent[] } | null> {
    this.#assertOpen();
    return this.#entityReads.load({ id, ...eventBounds(resolveEventQuery(id, query)) });
  }

  /** `get` and `getMany` calls so far, and the queries that answered them. */
  get idReads(): { queries: number; reads: number } {
    return this.#idReads.counts;
  }

  /** Reads of several entities with their events so far, and the queries that answered them. */
  get entityReads(): { queries: number; reads: number } {
    return this.#entityReads.counts;
  }

  async find(query: FindQuery): Promise<Entity[]> {
    this.#assertOpen();
    const resolved = resolveFind(query);
    const records = await this.#read<{ n: Record<string, unknown> }>(FIND, {
      kind: resolved.kind,
      where: Object.fromEntries(resolved.where),
      limit: int(resolved.limit),
    });
    return records.map((record) => toEntity(record.n));
  }

  async expire(kind: EntityKind, olderThan: number): Promise<number> {
    this.#assertOpen();
    resolveExpire(kind, olderThan);
    let total = 0;
    for (;;) {
      const removed = await this.#transaction('write', async (tx) => {
        const result = await tx.run(EXPIRE_CHUNK, {
          ns: this.namespace,
          kind,
          olderThan,
          chunk: int(EXPIRE_CHUNK_SIZE),
        });
        return Number(result.records[0]?.get('removed') ?? 0);
      });
      total += removed;
      if (removed < EXPIRE_CHUNK_SIZE) return total;
    }
  }

  /** Deletes everything in this store's namespace (other namespaces are untouched). */
  async clear(): Promise<void> {
    this.#assertOpen();
    for (;;) {
      const removed = await this.#transaction('write', async (tx) => {
        const result = await tx.run(CLEAR_CHUNK, { ns: this.namespace, chunk: int(5_000) });
        return Number(result.records[0]?.get('removed') ?? 0);
      });
      if (removed < 5_000) return;
    }
  }

  async stats(): Promise<GraphStats> {
    this.#assertOpen();
    const [entities, relationships, events] = await Promise.all([
      this.#read<{ kind: EntityKind; count: number }>(COUNT_ENTITIES, {}),
      this.#read<{ kind: RelationshipKind; count: number }>(COUNT_RELATIONSHIPS, {}),
      this.#read<{ count: number }>(COUNT_EVENTS, {}),
    ]);
    const sum = (records: ReadonlyArray<{ count: number }>): number =>
      records.reduce((total, record) => total + record.count, 0);
    return {
      backend: 'neo4j',
      schemaVersion: GRAPH_SCHEMA_VERSION,
      entities: sum(entities),
      relationships: sum(relationships),
      events: events[0]?.count ?? 0,
      entitiesByKind: Object.fromEntries(entities.map((record) => [record.kind, record.count])),
      relationshipsByKind: Object.fromEntries(relationships.map((record) => [record.kind, record.count])),
    };
  }

  async health(): Promise<'ok' | 'down'> {
    if (this.#closed || !this.#ready || this.#fatal) return 'down';
    // The server every query goes to (see `#inSession`), not a follower that may answer without it.
    const session = this.#driver.session({
      database: this.#database,
      defaultAccessMode: neo4j.session.WRITE,
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<'down'>((resolve) => {
        timer = setTimeout(() => resolve('down'), 3_000);
      });
      const probe = session
        .executeWrite((tx) => tx.run('RETURN 1'))
        .then(
          () => 'ok' as const,
          () => 'down' as const,
        );
      return await Promise.race([probe, timeout]);
    } finally {
      clearTimeout(timer);
      void session.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stop.abort();
      this.#signalReady();
      await this.#driver.close();
    })();
    return this.#closed;
  }
}

function entityRow(write: EntityWrite): Record<string, unknown> {
  return {
    id: write.id,
    name: write.name ?? null,
    properties: write.properties,
    source: write.source,
    confidence: write.confidence,
    observedAt: write.observedAt,
  };
}

function relationshipRow(write: RelationshipWrite): Record<string, unknown> {
  return {
    from: write.from,
    to: write.to,
    properties: write.properties,
    source: write.source,
    confidence: write.confidence,
    observedAt: write.observedAt,
  };
}
